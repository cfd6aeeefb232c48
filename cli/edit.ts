import * as fs from "fs";
import type { ConfigMap } from "@pulumi/pulumi/automation";
import type { AppDefinition } from "../components/app-definition";
import { DynoformInputError } from "../components/errors";
import { formationMemory } from "../components/formation-plan";
import { openStack } from "../infra/engine/workspace";
import { ensureDockerEngine } from "../toolchain/docker-engine";
import { silentReporter } from "../toolchain/report";
import { deploy, DeployResult, printDeploy, say } from "./deploy";
import { UsageError } from "./errors";
import { GlobalOptions } from "./options";
import { HostRead, readHost, stackMemory } from "./host-read";
import { notEnoughMemory } from "./plan";
import { checkStack, projectDir } from "./project";
import { editStackFileText } from "./stack-file-edit";
import { loadApp, StackFileView } from "./stack-settings";

/**
 * Stack config changes: `dynoform:*` paths to set (plain or secret) and to remove. A plain value
 * may depend on what the stack file held before the edit (`ps:scale web+1`).
 */
export interface StackEdit {
    set: Array<{ path: string; value: string; secret?: boolean } | { path: string; value: (before: AppDefinition) => string; secret?: false }>;
    remove: string[];
    /** Applies the same change to the in-memory view, so it can be validated first. */
    preview: (view: StackFileView) => void;
    /** Recorded with the release (`Scale web=3`). */
    description: string;
    /** Record a release even when nothing the dynos run changes (`rollback`). */
    newRelease?: boolean;
}

/** Options of commands that edit the stack and deploy. */
export interface EditOptions extends GlobalOptions {
    up: boolean;
}

/** Adds `--no-up` (only edit the stack file). */
export function withUp<T>(y: import("yargs").Argv<T>) {
    return y.option("up", { type: "boolean", default: true, describe: "Run `up` after editing the stack (--no-up only edits)" });
}

/** `pulumi config` path syntax that is safe for any Dynoform name: `dynoform:formation["web"].quantity`. */
export function configPath(root: string, ...keys: string[]): string {
    return `dynoform:${root}${keys.map((k) => `["${k}"]`).join("")}`;
}

/**
 * Splits a `TYPE=VALUE` argument (`ps:scale web=3`, `ps:resize web=standard-2x`); anything else
 * is a usage error naming the command and the form it takes. Pure.
 */
export function typeAssignment(command: string, arg: string, form: string): { type: string; value: string } {
    const m = /^([A-Za-z0-9_-]+)=(.*)$/.exec(arg);
    if (!m) throw new UsageError(`${command}: \`${arg}\` is not ${form}`);
    return { type: m[1], value: m[2] };
}

/** Refuses a process type given twice in one command (`ps:scale web=2 web=3`): which was meant is a guess. Pure. */
export function distinctTypes(command: string, args: string[], types: string[]): void {
    const twice = types.find((t, i) => types.indexOf(t) !== i);
    if (twice === undefined) return;
    const given = args.filter((_, i) => types[i] === twice).map((a) => `\`${a}\``);
    throw new UsageError(`${command}: \`${twice}\` is given ${given.length} times (${given.join(", ")}); give each process type once`);
}

/** Turns a thrown {@link DynoformInputError} into a usage error (exit 2). */
export function asUsage<T>(fn: () => T): T {
    try {
        return fn();
    } catch (err) {
        if (err instanceof DynoformInputError) throw new UsageError(err.message);
        throw err;
    }
}

/**
 * Loads the stack file once with the edit applied in memory and validates that (a bad edit
 * changes nothing), reads the Docker host once (a formation it cannot hold is refused before the
 * file is touched), writes plain values into the stack file itself and secret values through the
 * Pulumi CLI (encrypted with the stack's secrets provider), then deploys what was loaded.
 */
export async function editAndDeploy(argv: EditOptions, edit: StackEdit): Promise<DeployResult | undefined> {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    // Plain values go straight into the file's text (comments and order kept); that text is what
    // is validated, written and deployed. Secret names are added to the view by `preview`.
    const plain = edit.set.filter((s) => !s.secret);
    const loaded = loadApp(dir, argv.stack, {
        text: (original, before) =>
            editStackFileText(
                original,
                plain.map((s) => ({ path: s.path, value: typeof s.value === "string" ? s.value : s.value(before()) })),
                edit.remove,
            ),
        view: edit.preview,
    });
    const file = loaded.file;
    let host: HostRead | undefined;
    if (argv.up) {
        await ensureDockerEngine(silentReporter);
        host = await readHost(Boolean(loaded.view.settings.cluster));
        const memory = stackMemory(host, loaded.view.settings.app, argv.stack, formationMemory(loaded.definition.plan));
        if (!memory.fits) throw new Error(notEnoughMemory(loaded.definition.plan, memory));
    }

    fs.writeFileSync(file, loaded.text);
    const secrets = edit.set.filter((s): s is { path: string; value: string; secret: true } => s.secret === true);
    if (secrets.length) {
        const stack = await openStack({ projectDir: dir, stack: argv.stack, program: async () => ({}) });
        const config: ConfigMap = {};
        for (const s of secrets) config[s.path] = { value: s.value, secret: true };
        await stack.setAllConfig(config, true);
        // A stack file with secrets is the user's alone, whatever mode it was made with.
        fs.chmodSync(file, 0o600);
    }
    say(`${edit.description}: stacks/Pulumi.${argv.stack}.yaml updated`);
    if (!argv.up) {
        if (argv.json) process.stdout.write(JSON.stringify({ edited: true, deployed: false }) + "\n");
        else process.stdout.write("stack edited; run `dynoform up` to deploy it\n");
        return undefined;
    }
    let result: DeployResult;
    try {
        result = await deploy(argv, { description: edit.description, newRelease: edit.newRelease, loaded, host });
    } catch (err) {
        // The change did not deploy: put the stack file back, so it says what runs.
        fs.writeFileSync(file, loaded.original);
        say(`${edit.description} was not deployed; stacks/Pulumi.${argv.stack}.yaml restored`);
        throw err;
    }
    printDeploy(result, argv.json);
    return result;
}
