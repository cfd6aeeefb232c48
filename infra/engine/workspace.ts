import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { PulumiCommand, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { pulumiEnvironment } from "../../toolchain/backend";
import { ensurePulumiCli } from "../../toolchain/pulumi-cli";
import { Reporter, silentReporter } from "../../toolchain/report";
import { processRunning } from "../../toolchain/processes";

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

/** Resource steps the engine runs at once (`PULUMI_PARALLEL`, which a user's environment overrides). */
export const ENGINE_PARALLEL = 64;

/**
 * Selects (or creates) a stack on the embedded backend, with the pinned CLI. The program runs
 * inline: the CLI connects back to this process's language server, so no language plugin is needed.
 */
export async function openStack(target: StackTarget, report: Reporter = silentReporter): Promise<Stack> {
    // Loaded here, not at the top: the SDK costs a CPU-second, and only commands that open a stack need it.
    const { LocalWorkspace, Stack } = await import("@pulumi/pulumi/automation");
    isolateEngineConnections();
    const cli = await ensurePulumiCli(report);
    const pulumiCommand = await knownPulumiCommand(cli.root, cli.version);
    const envVars: Record<string, string> = {
        ...pulumiEnvironment(cli.binDir, { file: stackConfigFile(target.projectDir, target.stack), name: target.stack, projectDir: target.projectDir }),
        // The dynamic-provider host imports the SDK too: the same start there.
        NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${JSON.stringify(require.resolve("./process-start"))}`].filter(Boolean).join(" "),
        // The engine runs 4 steps per CPU at once by default (8 here), so 30 new dynos started in
        // four waves; a dyno's steps are mostly waits on Docker and on its port, not CPU.
        PULUMI_PARALLEL: process.env.PULUMI_PARALLEL ?? String(ENGINE_PARALLEL),
        ...(target.env ?? {}),
    };
    clearStaleLocks(envVars.PULUMI_BACKEND_URL, target.stack, report);
    const ws = await LocalWorkspace.create({
        workDir: path.resolve(target.projectDir),
        program: target.program,
        pulumiCommand,
        envVars,
    });
    // `stack select` only says the stack exists (every later command names it with `--stack`):
    // a stack whose checkpoint the file backend holds is not asked about again.
    if (!stackCheckpointFiles(envVars.PULUMI_BACKEND_URL, target.stack, projectName(target.projectDir)).length) {
        return Stack.createOrSelect(target.stack, ws);
    }
    const select = ws.selectStack;
    ws.selectStack = async () => undefined;
    try {
        return await Stack.select(target.stack, ws);
    } finally {
        ws.selectStack = select;
    }
}

/** grpc-js's channel option for a pool of subchannels that belongs to one channel alone. */
export const OWN_SUBCHANNELS = "grpc.use_local_subchannel_pool";

/**
 * Gives each gRPC client the SDK makes (an inline program's monitor and engine clients, one of
 * each per run) subchannels of its own. grpc-js shares a subchannel between every channel to one
 * address in a process, and the SDK does not close an inline run's clients when it ends (its
 * `disconnectSync` closes only the process-wide ones), so an earlier run's client to a port a dead
 * engine listened on lives on; once it has failed a call it stays in TRANSIENT_FAILURE, retrying
 * with backoff. A later engine that draws the same port from the kernel then hands the new
 * run a client whose first call fails at once, without trying to connect: "14 UNAVAILABLE: No
 * connection established. Last error: null" (a clean-clone CI run's dyno.live test, 2026-12-03;
 * test/infra/engine/connections.test.ts shows it with two channels and one port).
 */
export function isolateEngineConnections(): void {
    const settings = require("@pulumi/pulumi/runtime/settings") as { grpcClientOptions: Record<string, unknown> };
    settings.grpcClientOptions[OWN_SUBCHANNELS] = 1;
}

/**
 * The Automation API's handle on the CLI at `root`, of a version already known. Its own
 * `PulumiCommand.get` runs `pulumi version` every time (`skipVersionCheck` only skips comparing
 * the answer), a third of a CPU-second per command; {@link ensurePulumiCli} has just checked the
 * version (cached per binary), so the handle is made with it. `PulumiCommand`'s constructor is
 * private in the typings only: it takes the command path and the parsed version.
 */
export async function knownPulumiCommand(root: string, version: string): Promise<PulumiCommand> {
    const { PulumiCommand } = await import("@pulumi/pulumi/automation");
    const semver = await import("semver");
    const make = PulumiCommand as unknown as new (command: string, version: import("semver").SemVer | null) => PulumiCommand;
    return new make(path.resolve(root, "bin", "pulumi"), semver.parse(version));
}

/** The `name:` of a project's Pulumi.yaml (where a file backend keeps its stacks), or undefined. */
export function projectName(projectDir: string): string | undefined {
    try {
        return /^name:\s*["']?([^"'\s#]+)/m.exec(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"))?.[1];
    } catch {
        return undefined;
    }
}

/**
 * Removes the lock files an interrupted `up` left on a file backend (its process is gone), so
 * the next command can run; the refresh it starts with then finds what that `up` did. Locks of
 * processes still alive, or from another host, are left alone.
 */
export function clearStaleLocks(backendUrl: string, stack: string, report: Reporter): string[] {
    const removed: string[] = [];
    for (const file of stackLockFiles(backendUrl, stack)) {
        let lock: { pid?: number; hostname?: string; timestamp?: string };
        try {
            lock = JSON.parse(fs.readFileSync(file, "utf8"));
        } catch {
            continue;
        }
        if (lock.hostname !== os.hostname() || !lock.pid || processRunning(lock.pid)) continue;
        fs.rmSync(file, { force: true });
        fs.rmSync(`${file}.attrs`, { force: true });
        removed.push(file);
        report(`removed a stale lock on stack ${stack}: the update started ${lock.timestamp} by pid ${lock.pid} was interrupted`);
    }
    return removed;
}

/** The lock files a file backend holds for a stack (any project); none for other backends. */
export function stackLockFiles(backendUrl: string, stack: string): string[] {
    const root = fileBackendRoot(backendUrl);
    if (!root || !fs.existsSync(path.join(root, "locks"))) return [];
    const files: string[] = [];
    for (const org of fs.readdirSync(path.join(root, "locks"))) {
        for (const project of fs.readdirSync(path.join(root, "locks", org))) {
            const dir = path.join(root, "locks", org, project, stack);
            if (!fs.existsSync(dir)) continue;
            files.push(...fs.readdirSync(dir).filter((n) => n.endsWith(".json")).map((n) => path.join(dir, n)));
        }
    }
    return files;
}

/**
 * The checkpoint files a file backend holds for a stack (`stacks/<project>/<stack>.json[.gz]`,
 * or the legacy `stacks/<stack>.json`); of one project's when `project` is given.
 */
export function stackCheckpointFiles(backendUrl: string, stack: string, project?: string): string[] {
    const root = fileBackendRoot(backendUrl);
    if (!root || !fs.existsSync(path.join(root, "stacks"))) return [];
    const projects = project === undefined ? fs.readdirSync(path.join(root, "stacks")) : [project];
    const dirs = [path.join(root, "stacks"), ...projects.map((d) => path.join(root, "stacks", d))];
    return dirs.flatMap((d) => [`${stack}.json`, `${stack}.json.gz`].map((n) => path.join(d, n))).filter((f) => fs.existsSync(f));
}

/** `<dir>/.pulumi` of a `file://<dir>` backend URL; undefined for other backends. */
function fileBackendRoot(backendUrl: string): string | undefined {
    if (!backendUrl.startsWith("file://")) return undefined;
    return path.join(backendUrl.slice("file://".length).replace(/\?.*$/, ""), ".pulumi");
}

/** A stack's config file: `stacks/Pulumi.<stack>.yaml` (Dynoform's `stackConfigDir`), or beside Pulumi.yaml. */
export function stackConfigFile(projectDir: string, stack: string): string {
    const inStacks = path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`);
    return fs.existsSync(inStacks) ? inStacks : path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/**
 * Stack names Dynoform accepts: what the file backend accepts, less '.', which separates app and
 * stack in Docker object names (`hello.dev.postgres-data`, see `dockerName`).
 */
export const STACK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$/;
