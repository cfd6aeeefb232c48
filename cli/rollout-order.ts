import type { DynoCheck } from "../components/healthchecks";

/** One step of the engine's preview: its operation, resource type and name. */
export interface PreviewStep {
    op: string;
    type: string;
    name: string;
}

/** What the rollout order needs of the app's definition. */
export interface RolloutInput {
    app: string;
    /** Process types in Procfile order. */
    types: string[];
    releaseCommand?: string;
    healthchecks: Record<string, DynoCheck[]>;
    /** Seconds between SIGTERM and SIGKILL by process type (30 for a type not listed). */
    stopGraceSeconds?: Record<string, number>;
    currentRelease: number;
}

const RESTART_OPS = new Set(["replace", "create-replacement"]);

/** The check a new dyno of `type` must pass, in words. Pure. */
export function checkWords(type: string, checks: DynoCheck[] | undefined): string {
    const declared = (checks ?? []).map((c) => `${c.name}, ${c.attempts} attempt${c.attempts === 1 ? "" : "s"} ${c.waitSeconds} s apart`);
    const base = type === "web" ? "accepts connections on $PORT" : "still running after 1 s";
    return [base, ...declared].join(", then ");
}

/**
 * Per process type, which dynos the deploy restarts (replaces), starts and stops, and in what
 * order, from the engine's preview steps. Pure. Empty when nothing restarts, starts or stops.
 */
export function rolloutLines(steps: PreviewStep[], input: RolloutInput): string[] {
    const dynos = new Map<string, { restart: number[]; start: number[]; stop: number[] }>();
    let releasePhase = false;
    for (const s of steps) {
        if (s.type.endsWith("ReleasePhase") && s.op !== "delete" && s.op !== "delete-replaced") releasePhase = true;
        if (!s.type.endsWith(":Dyno")) continue;
        const m = new RegExp(`^${input.app.replace(/[-]/g, "\\-")}-(.+)-(\\d+)$`).exec(s.name);
        if (!m || !input.types.includes(m[1])) continue;
        const entry = dynos.get(m[1]) ?? { restart: [], start: [], stop: [] };
        const index = Number(m[2]);
        const list = RESTART_OPS.has(s.op) ? entry.restart : s.op === "create" ? entry.start : s.op === "delete" ? entry.stop : undefined;
        if (list && !list.includes(index)) list.push(index);
        dynos.set(m[1], entry);
    }
    const typeLines: string[] = [];
    for (const type of input.types) {
        const grace = input.stopGraceSeconds?.[type] ?? 30;
        const e = dynos.get(type);
        if (!e || e.restart.length + e.start.length + e.stop.length === 0) continue;
        const names = (xs: number[]) => xs.sort((a, b) => a - b).map((i) => `${type}.${i}`);
        const parts: string[] = [];
        if (e.restart.length) {
            parts.push(
                `restarts ${names(e.restart).join(" -> ")}, one at a time: each new dyno must pass its check (${checkWords(type, input.healthchecks[type])}) ` +
                    `before the next starts${type === "web" ? " and before the router sends it traffic" : ""}; the old ones get SIGTERM (${grace} s grace) once all have passed`,
            );
        }
        if (e.start.length) parts.push(`starts ${names(e.start).join(", ")}`);
        if (e.stop.length) parts.push(`stops ${names(e.stop).reverse().join(", ")} (SIGTERM, ${grace} s grace)`);
        typeLines.push(`  ${type}: ${parts.join("; ")}`);
    }
    if (!releasePhase && typeLines.length === 0) return [];
    const lines = ["Rollout (process types side by side, after the release phase):"];
    if (releasePhase) lines.push(`  release phase first: \`${input.releaseCommand ?? "release"}\`; a non-zero exit stops the rollout before any dyno restarts`);
    lines.push(...typeLines);
    if (input.currentRelease > 0) {
        lines.push(`  a failed check or release command puts v${input.currentRelease} back on every dyno reached; v${input.currentRelease} serves throughout`);
    }
    return lines;
}
