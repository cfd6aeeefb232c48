import * as fs from "fs";
import * as path from "path";
import type { Stack } from "@pulumi/pulumi/automation";
import { resolvePendingOperations } from "../infra/engine/pending";
import { STACK_NAME, openStack } from "../infra/engine/workspace";
import { consoleReporter } from "../toolchain/report";
import type { ProgramOverrides } from "../infra/program";
import { LoadedStack, stackFilePath } from "../infra/stack-file";
import { UsageError } from "./errors";
import { GlobalOptions } from "./options";

/** The project folder: `--cwd`, which must hold a Pulumi.yaml. */
export function projectDir(argv: Pick<GlobalOptions, "cwd">): string {
    const dir = path.resolve(argv.cwd);
    if (!fs.existsSync(path.join(dir, "Pulumi.yaml"))) {
        throw new UsageError(`${dir} has no Pulumi.yaml: run \`dynoform init\` there, or pass --cwd`);
    }
    return dir;
}

/** The stack config file of a stack: `<project>/stacks/Pulumi.<stack>.yaml`. */
export const stackFile = stackFilePath;

/** Checks the stack name and that its config file exists (unknown stacks are a usage error). */
export function checkStack(dir: string, stack: string): void {
    if (!STACK_NAME.test(stack)) {
        throw new UsageError(`--stack "${stack}" is not a valid stack name (letters, digits, '-', '_'; no '.', which separates app and stack in Docker names)`);
    }
    if (!fs.existsSync(stackFile(dir, stack))) {
        const known = fs.existsSync(path.join(dir, "stacks"))
            ? fs.readdirSync(path.join(dir, "stacks")).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter(Boolean)
            : [];
        throw new UsageError(`unknown stack "${stack}": no ${path.relative(process.cwd(), stackFile(dir, stack))} (stacks: ${known.join(", ") || "none"})`);
    }
}

/**
 * Opens the stack with the App program, run inline on `loaded`: the stack file as the command
 * loaded it (the program reads and validates nothing again).
 */
export async function openAppStack(loaded: LoadedStack, overrides: ProgramOverrides = {}): Promise<Stack> {
    // The program (and through it the SDK and every component) is loaded only by commands that open the stack.
    const { appProgram } = await import("../infra/program");
    const stack = await openStack({ projectDir: loaded.dir, stack: loaded.stack, program: () => appProgram(loaded.dir, overrides, loaded) }, consoleReporter);
    // An interrupted `up` (SIGKILL, a dropped SSH connection) leaves pending operations or unrecorded containers: cleared here.
    await resolvePendingOperations(stack, loaded.view.settings.app, consoleReporter);
    return stack;
}
