import { DynoformInputError } from "./errors";

// How long a dyno of each process type has between SIGTERM and SIGKILL when it stops (scale
// down, rollout, destroy): Heroku gives every dyno 30 s; a stack may give a type more or less
// (`dynoform:stopGraceSeconds: { worker: 120 }`).

/** Heroku's grace period: seconds between SIGTERM and SIGKILL. */
export const DEFAULT_STOP_GRACE_SECONDS = 30;
/** The longest grace period accepted: an hour. */
export const MAX_STOP_GRACE_SECONDS = 3600;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown) => (isMap(v) ? "a map" : Array.isArray(v) ? "a list" : (JSON.stringify(v) ?? String(v)));

/** A grace period in seconds: a whole number from 0 to 3600 (`"5"` from the stack file reads as 5), else undefined. Pure. */
export function graceSeconds(raw: unknown): number | undefined {
    const n = typeof raw === "string" && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
    return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= MAX_STOP_GRACE_SECONDS ? n : undefined;
}

const badSeconds = (raw: unknown) => `expected a whole number of seconds from 0 to ${MAX_STOP_GRACE_SECONDS}, got ${show(raw)}`;

/**
 * What is wrong with a stack file's `dynoform:stopGraceSeconds` (a map of process type to
 * seconds), as the stack-file reader reports it (the path below the key and the reason). Pure.
 */
export function stopGraceProblem(value: unknown): { at: string[]; reason: string } | undefined {
    if (!isMap(value)) return { at: [], reason: `expected a map of process type to seconds, e.g. { worker: 120 }, got ${show(value)}` };
    for (const [type, v] of Object.entries(value)) {
        if (graceSeconds(v) === undefined) return { at: [type], reason: badSeconds(v) };
    }
    return undefined;
}

/**
 * The grace period of each process type: `raw` is one number for every type (the `App`'s
 * `stopGraceSeconds: 10`) or a map by type (types not named get 30 s). A bad value, or a type the
 * Procfile lacks, is a {@link DynoformInputError} naming `stopGraceSeconds.<type>` and `file`. Pure.
 */
export function stopGraceByType(raw: unknown, processTypes: string[], file?: string): Record<string, number> {
    const byType = (seconds: (type: string) => number) => Object.fromEntries(processTypes.map((t) => [t, seconds(t)]));
    if (raw === undefined || raw === null) return byType(() => DEFAULT_STOP_GRACE_SECONDS);
    if (!isMap(raw)) {
        const all = graceSeconds(raw);
        if (all === undefined) throw new DynoformInputError("stopGraceSeconds", `${badSeconds(raw)} (or a map of process type to seconds)`, file);
        return byType(() => all);
    }
    for (const [type, v] of Object.entries(raw)) {
        if (!processTypes.includes(type)) {
            throw new DynoformInputError(`stopGraceSeconds.${type}`, `process type "${type}" is not in the Procfile; Procfile types are ${processTypes.join(", ")}`, file);
        }
        if (graceSeconds(v) === undefined) throw new DynoformInputError(`stopGraceSeconds.${type}`, badSeconds(v), file);
    }
    return byType((t) => graceSeconds(raw[t]) ?? DEFAULT_STOP_GRACE_SECONDS);
}
