import * as crypto from "crypto";
import type { FailedRelease } from "../infra/release";
import { isEngineError } from "./failure";
import type { AppPlan } from "./plan";
import type { Stack } from "@pulumi/pulumi/automation";
import type { LoadedStack } from "../infra/stack-file";
import { openAppStack } from "./project";
import { appOutputs } from "./stack-outputs";

// A rollout that cannot go wrong. Within one `up`, Pulumi already replaces each dyno new-first:
// the new one must boot and pass its checks (components/healthchecks.ts) before the router admits
// it, and the old ones get SIGTERM only once every dyno and the router are done. When a new dyno
// (or the release phase) fails, the engine stops where it is: the old dynos still run and the
// router still sends them all traffic, but some dynos of the type may already run the new
// release, and the state is partial. This module then deploys the previous release's image and
// config again (as `rollback` would, without touching the stack file), which puts those dynos
// back and records the failed release, with its reason and log lines, in the release history.

/** What a failed rollout says about itself: why, and the last lines its dyno or release command printed. */
export interface RolloutFailure {
    reason: string;
    logLines: string[];
}

/** The error `up` ends with after a failed rollout was put back: one line, exit 1. */
export class RolloutFailedError extends Error {
    override readonly name = "RolloutFailedError";
}

const ANSI = /\u001b\[[0-9;]*m/g;
/**
 * The first line of a dyno boot or check failure, or of a failed release command
 * (infra/docker/dyno-ops.ts, one-off.ts), as the engine reports an error: after `error: `. The
 * same words elsewhere in the output are not this run's failure: the release history in the
 * stack's outputs keeps an earlier failed release's reason.
 */
const CAUSE = /error: (dyno \S+ (?:failed its health check|exited with code|crashed while booting|did not )[^\n]*|release command `[^\n]*failed with exit code \d+[^\n]*)/;
const LOG_HEADER = /^\s*(?:last log lines of|output of) \S+:\s*$/;

/**
 * Reads a failed `pulumi up`'s output: the rollout failure in it (a dyno that did not boot or
 * failed its check, or a release command that failed) with the log lines printed under it, or
 * undefined for any other failure (a build error, an unreachable engine). Pure.
 */
export function rolloutFailure(output: string): RolloutFailure | undefined {
    const text = output.replace(ANSI, "");
    const m = CAUSE.exec(text);
    if (!m) return undefined;
    const reason = m[1].replace(/\s+/g, " ").replace(/[.;:,\s]+$/, "").trim();
    const lines = text.slice(m.index).split("\n");
    const header = lines.findIndex((l) => LOG_HEADER.test(l));
    const logLines: string[] = [];
    if (header >= 0) {
        const indent = /^\s*/.exec(lines[header])![0].length;
        for (const line of lines.slice(header + 1)) {
            // The engine indents the whole message; the log ends where its indentation ends.
            if (!line.trim() || /^\s*$/.test(line.slice(0, indent)) === false) break;
            if (/^\s*(error|warning|Resources|Duration):/.test(line)) break;
            logLines.push(line.slice(indent).trimEnd());
        }
    }
    return { reason, logLines: logLines.slice(-20) };
}

function configChanged(plan: Pick<AppPlan, "config">): boolean {
    return plan.config.changed.length + plan.config.added.length + plan.config.removed.length > 0;
}

/** The description of the release that failed, from the plan: `Set GREETING config vars`. Pure. */
export function failedDescription(plan: Pick<AppPlan, "image" | "config" | "addons">, given?: string): string {
    if (given) return given;
    const parts: string[] = [];
    if (plan.image) parts.push(`Deploy ${plan.image.to.replace(/^sha256:/, "").slice(0, 8)}`);
    const set = [...plan.config.changed, ...plan.config.added].sort();
    if (set.length) parts.push(`Set ${set.join(", ")} config vars`);
    if (plan.config.removed.length) parts.push(`Remove ${plan.config.removed.join(", ")} config vars`);
    if (plan.addons.added.length || plan.addons.removed.length) parts.push("Update add-ons");
    return parts.join("; ") || "Deploy";
}

/**
 * After a failed `up` of a deployed app: when the failure is a rollout's (see
 * {@link rolloutFailure}), deploys the previous release again and records the failed one;
 * returns the error the command ends with (one line). Any other failure is returned as it was.
 */
export async function revertFailedRollout(
    loaded: LoadedStack,
    err: unknown,
    plan: AppPlan,
    opts: { description?: string; say: (line: string) => void; reader: Stack },
): Promise<unknown> {
    const failure = isEngineError(err) ? rolloutFailure(`${err.commandResult.stdout}\n${err.commandResult.stderr}`) : undefined;
    if (!failure) return err;
    opts.say(`Putting v${plan.currentRelease} back on every dyno the rollout reached (the old dynos kept serving) ...`);
    // The failed update did not touch the outputs: read them through the stack the deploy opened.
    const values = Object.fromEntries(Object.entries(await opts.reader.outputs()).map(([k, v]) => [k, v.value]));
    const outputs = appOutputs(values);
    const current = (outputs.releases ?? []).filter((r) => r.status !== "failed").pop();
    const config = outputs.configSnapshots?.[String(current?.version)];
    // Failed releases take a number too: the one past the highest recorded (infra/release.ts nextVersion).
    const version = Math.max(plan.currentRelease, ...(outputs.releases ?? []).map((r) => r.version)) + 1;
    if (!current || !config) {
        return new RolloutFailedError(
            `release failed (${failure.reason}) and v${plan.currentRelease}'s image and config are not kept to put back: ` +
                `fix the cause and run \`dynoform up\` again`,
        );
    }
    const failed: FailedRelease = {
        id: crypto.randomUUID(),
        // A config-only change runs the current image; a new build's image is not known here.
        imageId: plan.image?.to ?? (configChanged(plan) ? outputs.imageDigest ?? "" : ""),
        configKeys: [...new Set([...Object.keys(outputs.config ?? {}), ...plan.config.added])].filter((k) => !plan.config.removed.includes(k)).sort(),
        description: failedDescription(plan, opts.description),
        reason: failure.reason,
        logLines: failure.logLines,
    };
    const stack = await openAppStack(loaded, { revert: { imageId: current.imageId, config, failed } });
    try {
        await stack.up({ refresh: true, color: "never" });
    } catch (again) {
        const why = isEngineError(again) ? rolloutFailure(again.commandResult.stdout + again.commandResult.stderr)?.reason : undefined;
        return new RolloutFailedError(
            `release failed (${failure.reason}), and putting v${current.version} back failed too${why ? ` (${why})` : ""}: ` +
                `the old dynos still run; \`dynoform up\` tries again`,
        );
    }
    return new RolloutFailedError(
        `release v${version} failed and was rolled back: ${failure.reason}; v${current.version} kept serving ` +
            `(\`dynoform releases\` shows the failure and the dyno's last log lines)`,
    );
}
