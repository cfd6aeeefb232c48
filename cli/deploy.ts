import type { Stack } from "@pulumi/pulumi/automation";
import type { ProgramOverrides } from "../infra/program";
import { ensureDockerEngine } from "../toolchain/docker-engine";
import { silentReporter } from "../toolchain/report";
import { keepDataVolumesOnDestroy } from "./addon-data";
import { ExitStatus, UsageError } from "./errors";
import { GlobalOptions } from "./options";
import { AppPlan, formatPlan, notEnoughMemory, planApp } from "./plan";
import { checkStack, openAppStack, projectDir } from "./project";
import { interruptible } from "./interrupt";
import { progressPrinter } from "./progress";
import { dropPin, stalePin } from "./rollback-pin";
import { revertFailedRollout } from "./rollout-revert";
import { checkRouterPort } from "./router-port";
import { readStackFile, validateSettings } from "./stack-settings";

/** Where human-readable progress goes: stderr, so `--json` output on stdout stays clean. */
export const say = (line: string) => process.stderr.write(`${line}\n`);

/**
 * The stack with its file validated: nothing is opened when the stack file asks for something
 * wrong. The Docker engine is made sure of first, unless the caller just did (`engineChecked`).
 */
export async function openValidated(argv: GlobalOptions, overrides: ProgramOverrides = {}, engineChecked = false) {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    const view = readStackFile(dir, argv.stack);
    const definition = validateSettings(dir, view, argv.stack);
    if (!engineChecked) await ensureDockerEngine(silentReporter);
    const stack = await openAppStack(argv, overrides);
    return { dir, view, definition, stack };
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

/**
 * Plan (typed formation diff, config changes, memory check), then a real `pulumi up` with a
 * refresh first so drift (crashed or removed dynos) is healed. Refuses a plan the host cannot hold.
 * `memory`: the memory check a caller made just before, with the engine (neither is done again).
 */
export async function deploy(
    argv: GlobalOptions,
    opts: { refresh?: boolean; quiet?: boolean; description?: string; memory?: AppPlan["memory"]; newRelease?: boolean } = {},
): Promise<DeployResult> {
    const started = Date.now();
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    if (stalePin(dir, readStackFile(dir, argv.stack).settings)) {
        dropPin(dir, argv.stack);
        say(`The source changed since the rollback: building it again (dynoform:image removed from stacks/Pulumi.${argv.stack}.yaml)`);
    }
    const { view, definition, stack } = await openValidated(
        argv,
        { releaseDescription: opts.description, newRelease: opts.newRelease },
        opts.memory !== undefined,
    );
    // A busy router port is refused before anything is created or replaced.
    await checkRouterPort(view.settings.app, argv.stack, view.settings.routerPort, view.settings.routerHost);
    const plan = await planApp(stack, definition, view.settings.app, view.settings.image, opts.memory);
    if (!opts.quiet) for (const line of formatPlan(plan)) say(line);
    if (!plan.memory.fits) {
        throw new Error(notEnoughMemory(definition.plan, plan.memory));
    }
    let up: Awaited<ReturnType<Stack["up"]>>;
    try {
        up = await interruptible("up", (i) =>
            stack.up({ onEvent: i.onEvent(opts.quiet ? undefined : progressPrinter(say, undefined, plan.warnings)), refresh: opts.refresh ?? true, color: "never", signal: i.signal }),
        );
    } catch (err) {
        // A first `up` that fails leaves nothing half-made; a stopped one (signal) is carried on by the next `up`.
        if (plan.currentRelease === 0 && !(err instanceof ExitStatus)) await undoFirstUp(stack, opts.quiet);
        // A failed rollout of a deployed app puts the previous release back and records the failure (cli/rollout-revert.ts).
        else if (!(err instanceof ExitStatus)) throw await revertFailedRollout(argv, err, plan, { description: opts.description, say });
        throw err;
    }
    const outputs = up.outputs;
    return {
        app: view.settings.app,
        stack: argv.stack,
        plan,
        result: up.summary.result,
        changes: (up.summary.resourceChanges ?? {}) as Record<string, number>,
        release: Number(outputs.releaseVersion?.value ?? 0),
        url: String(outputs.url?.value ?? ""),
        seconds: (Date.now() - started) / 1000,
    };
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
