import type { EngineEvent, Stack, SummaryEvent } from "@pulumi/pulumi/automation";
import type { ProgramOverrides } from "../infra/program";
import type { LoadedStack } from "../infra/stack-file";
import { ensureDockerEngine } from "../toolchain/docker-engine";
import { silentReporter } from "../toolchain/report";
import { keepDataVolumesOnDestroy } from "./addon-data";
import { ExitStatus, UsageError } from "./errors";
import { GlobalOptions } from "./options";
import { HostRead, readHost } from "./host-read";
import { AppPlan, formatPlan, notEnoughMemory, planApp } from "./plan";
import { checkStack, openAppStack, projectDir } from "./project";
import { interruptible } from "./interrupt";
import { progressPrinter } from "./progress";
import { dropPin, stalePin } from "./rollback-pin";
import { revertFailedRollout } from "./rollout-revert";
import { checkRouterPort } from "./router-port";
import { loadApp } from "./stack-settings";
import { checkEdge, onEdge, syncEdge } from "./edge";
import { readStackOutputs } from "../infra/engine/stack-read";
import { appOutputs } from "./stack-outputs";

/** Where human-readable progress goes: stderr, so `--json` output on stdout stays clean. */
export const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The stack with its file loaded and validated once: nothing is opened when the stack file asks
 * for something wrong. The Docker engine is made sure of first.
 */
export async function openValidated(argv: GlobalOptions, overrides: ProgramOverrides = {}) {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    const loaded = loadApp(dir, argv.stack);
    await ensureDockerEngine(silentReporter);
    const stack = await openAppStack(loaded, overrides);
    return { dir, loaded, view: loaded.view, definition: loaded.definition, stack };
}

/** Result of {@link deploy}, for `--json`. */
export interface DeployResult {
    app: string;
    stack: string;
    plan: AppPlan;
    result: string;
    changes: Record<string, number>;
    release: number;
    url: string;
    seconds: number;
}

/** Options of a deploy. */
export interface DeployOptions {
    /** `true`: refresh every resource first; `false`: never; unset: only when the host read shows drift. */
    refresh?: boolean;
    quiet?: boolean;
    description?: string;
    newRelease?: boolean;
    /** The stack file as the command already loaded it (after its edit), and the host as it read it. */
    loaded?: LoadedStack;
    host?: HostRead;
    /** `preview`: a stale rollback pin is left in the stack file (the `up` that follows drops it). */
    changesNothing?: boolean;
}

/** A deploy planned and ready to run: what {@link prepareDeploy} returns and {@link runDeploy} takes. */
export interface PreparedDeploy {
    argv: GlobalOptions;
    started: number;
    loaded: LoadedStack;
    stack: Stack;
    plan: AppPlan;
    /** Set by the program during the `up`: the release and URL it deployed. */
    deployed?: { releaseVersion: number; url: string };
}

/**
 * Everything before the engine runs, once: the stack file loaded (unless the caller has), one
 * read of the Docker host, the stack opened, the router port checked and the plan made (typed
 * formation diff, config changes, memory, drift). Refuses a plan the host cannot hold.
 */
export async function prepareDeploy(argv: GlobalOptions, opts: DeployOptions = {}): Promise<PreparedDeploy> {
    const started = Date.now();
    const dir = projectDir(argv);
    let loaded = opts.loaded ?? (checkStack(dir, argv.stack), loadApp(dir, argv.stack));
    if (!opts.changesNothing && stalePin(dir, loaded.view.settings)) {
        dropPin(dir, argv.stack);
        say(`The source changed since the rollback: building it again (dynoform:image removed from stacks/Pulumi.${argv.stack}.yaml)`);
        loaded = loadApp(dir, argv.stack);
    }
    checkEdge(dir, argv.stack, loaded.view.settings);
    // The last deployment's outputs (one `pulumi stack output`) are read while the SDK loads below.
    const deployedOutputs = readStackOutputs({ projectDir: loaded.dir, stack: loaded.stack }).then(appOutputs);
    deployedOutputs.catch(() => undefined); // planApp awaits it; a failure before then is not unhandled
    let host = opts.host;
    if (!host) {
        await ensureDockerEngine(silentReporter);
        host = await readHost(Boolean(loaded.view.settings.cluster));
    }
    let deployed: PreparedDeploy["deployed"];
    const overrides: ProgramOverrides = {
        releaseDescription: opts.description,
        newRelease: opts.newRelease,
        deployed: (o) => (deployed = o),
    };
    const stack = await openAppStack(loaded, overrides);
    const { settings } = loaded.view;
    // A busy router port is refused before anything is created or replaced.
    await checkRouterPort(settings.app, argv.stack, settings.routerPort, settings.routerHost, host.containers);
    const plan = await planApp(stack, loaded, host, deployedOutputs);
    // The program runs later, in the engine's `up`: dynos the last deployment does not run start side by side.
    overrides.running = plan.running;
    return {
        argv,
        started,
        loaded,
        stack,
        plan,
        get deployed() {
            return deployed;
        },
    };
}

/**
 * A real `pulumi up` of a prepared deploy. Resources that cannot drift (network, volumes,
 * secrets, the release record) are not read again: a refresh pass runs only when the plan's
 * host read found a container or the image missing or stopped (or `refresh` asks for it).
 */
export async function runDeploy(p: PreparedDeploy, opts: DeployOptions = {}): Promise<DeployResult> {
    const { plan, stack, loaded } = p;
    if (!plan.memory.fits) throw new Error(notEnoughMemory(loaded.definition.plan, plan.memory));
    const refresh = opts.refresh ?? plan.drift.length > 0;
    // `Stack.up` asks `pulumi stack output` twice and `pulumi stack history` once after the
    // engine, for outputs and a summary: the program hands back the release and URL, and the
    // engine's summary event counts the changes, so those three runs are left out.
    const upOnly = Object.assign(Object.create(stack) as Stack, { outputs: async () => ({}), info: async () => undefined });
    let summary: SummaryEvent | undefined;
    const printer = opts.quiet ? undefined : progressPrinter(say, undefined, plan.warnings);
    const onEvent = (e: EngineEvent) => {
        if (e.summaryEvent) summary = e.summaryEvent;
        printer?.(e);
    };
    try {
        await interruptible("up", (i) => upOnly.up({ onEvent: i.onEvent(onEvent), refresh, color: "never", signal: i.signal }));
    } catch (err) {
        // A first `up` that fails leaves nothing half-made; a stopped one (signal) is carried on by the next `up`.
        if (plan.currentRelease === 0 && !(err instanceof ExitStatus)) await undoFirstUp(stack, opts.quiet);
        // A failed rollout of a deployed app puts the previous release back and records the failure (cli/rollout-revert.ts).
        else if (!(err instanceof ExitStatus)) throw await revertFailedRollout(loaded, err, plan, { description: opts.description, say, reader: stack });
        throw err;
    }
    // The host's edge router is no resource of the stack: the app's entry in it follows each deploy.
    if (onEdge(loaded.view.settings)) await syncEdge(projectDir(p.argv), p.argv.stack, loaded.view.settings);
    return {
        app: loaded.view.settings.app,
        stack: p.argv.stack,
        plan,
        result: "succeeded",
        changes: (summary?.resourceChanges ?? {}) as Record<string, number>,
        release: p.deployed?.releaseVersion ?? 0,
        url: p.deployed?.url ?? "",
        seconds: (Date.now() - p.started) / 1000,
    };
}

/** Plan, print the plan, then {@link runDeploy}. */
export async function deploy(argv: GlobalOptions, opts: DeployOptions = {}): Promise<DeployResult> {
    const prepared = await prepareDeploy(argv, opts);
    if (!opts.quiet) for (const line of formatPlan(prepared.plan)) say(line);
    return runDeploy(prepared, opts);
}

/**
 * Removes what a failed first `up` created (containers, networks, the release record), so no
 * router or dyno is left serving nothing. Add-on data volumes are kept (one may be an earlier
 * deployment's, adopted by its owner labels), and images stay as build cache.
 */
async function undoFirstUp(stack: Stack, quiet = false): Promise<void> {
    try {
        await keepDataVolumesOnDestroy(stack);
        const r = await stack.destroy({ color: "never" });
        const n = r.summary.resourceChanges?.delete ?? 0;
        if (!quiet) say(`the first up failed: removed the ${n} resources it had created (add-on data volumes and images kept)`);
    } catch (err) {
        say(`the first up failed, and removing what it created failed too (${(err as Error).message.split("\n")[0]}): \`dynoform destroy\` removes it`);
    }
}

/** Prints a deploy's outcome: one summary line and the URL, or JSON. */
export function printDeploy(r: DeployResult, json: boolean): void {
    if (json) {
        process.stdout.write(JSON.stringify(r, null, 2) + "\n");
        return;
    }
    const changes = Object.entries(r.changes).filter(([k]) => k !== "same").map(([k, v]) => `${v} ${k}`);
    process.stdout.write(
        `${r.app} deployed to ${r.stack}: release v${r.release} in ${r.seconds.toFixed(1)} s (${changes.join(", ") || "no changes"})\n`,
    );
    if (r.url) process.stdout.write(`${r.url}\n`);
}

/** `--yes` is required where nobody can be asked. */
export function requireYes(yes: boolean, what: string): void {
    if (!yes && !process.stdin.isTTY) {
        throw new UsageError(`${what} needs --yes when not run from a terminal`);
    }
}

/** Asks y/N on the terminal. */
export async function confirm(question: string): Promise<boolean> {
    const readline = await import("readline/promises");
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
    } finally {
        rl.close();
    }
}

export type { Stack };
