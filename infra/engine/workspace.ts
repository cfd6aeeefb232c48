import * as path from "path";
import { LocalWorkspace, PulumiCommand, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { pulumiEnvironment } from "../toolchain/backend";
import { ensurePulumiCli } from "../toolchain/pulumi-cli";
import { Reporter, silentReporter } from "../toolchain/report";

/** Which stack of which project to drive, and the program that declares it. */
export interface StackTarget {
    /** Folder holding Pulumi.yaml (and node_modules with @pulumi/pulumi: the dynamic-provider host resolves it from here). */
    projectDir: string;
    /** Stack name (`dev`, `staging`, `production`). */
    stack: string;
    /** The Pulumi program, run in this process through the Automation API. */
    program: PulumiFn;
    /** Extra environment for the CLI and providers. */
    env?: Record<string, string>;
}

/**
 * Selects (or creates) a stack on the embedded backend, with the pinned CLI. The program runs
 * inline: the CLI connects back to this process's language server, so no language plugin is needed.
 */
export async function openStack(target: StackTarget, report: Reporter = silentReporter): Promise<Stack> {
    const cli = await ensurePulumiCli(report);
    const pulumiCommand = await PulumiCommand.get({ root: cli.root, skipVersionCheck: true });
    const envVars = { ...pulumiEnvironment(cli.binDir), ...(target.env ?? {}) };
    const ws = await LocalWorkspace.create({
        workDir: path.resolve(target.projectDir),
        program: target.program,
        pulumiCommand,
        envVars,
    });
    return Stack.createOrSelect(target.stack, ws);
}

/** Stack names the file backend and Dynoform accept. */
export const STACK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$/;
