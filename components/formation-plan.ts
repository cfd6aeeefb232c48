import { DEFAULT_DYNO_SIZE, DynoSize, DynoSizeSpec, resolveDynoSize } from "./dyno-size";
import { DynoformInputError } from "./errors";
import { ProcessType } from "./procfile";

/** How many dynos of one process type run, and how big they are. */
export interface FormationEntry {
    /** Number of dynos, 0..100. */
    quantity: number;
    /** Dyno size name or custom size. */
    size: DynoSizeSpec;
}

/** Requested formation per process type; anything not given falls back to the defaults. */
export type FormationSpec = Record<string, Partial<FormationEntry>>;

/** One process type's planned dynos, with its size resolved. */
export interface PlannedProcess {
    /** Process type name from the Procfile. */
    type: string;
    /** The command from the Procfile; undefined: the image's CMD. */
    command?: string;
    /** Number of dynos, a whole number 0..100. */
    quantity: number;
    /** Resolved size of every dyno of this type. */
    size: DynoSize;
}

/** Most dynos of one process type Dynoform runs on one host (Heroku's default limit). */
export const MAX_QUANTITY = 100;

/** Most dynos of all process types together on one host: beyond it a plan is a typo, not an app. */
export const MAX_TOTAL_QUANTITY = 500;

function show(value: unknown): string {
    return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
}

/**
 * Checks a dyno quantity: a whole number from 0 to {@link MAX_QUANTITY}.
 *
 * @param field Path for error messages, e.g. `formation.web.quantity`.
 * @throws DynoformInputError naming `field`.
 */
export function validateQuantity(
    quantity: unknown,
    field: string,
    file?: string,
    line?: number,
): number {
    const whole = typeof quantity === "number" && Number.isInteger(quantity);
    if (!whole || quantity < 0 || quantity > MAX_QUANTITY) {
        throw new DynoformInputError(
            field,
            `quantity ${show(quantity)} is not valid; use a whole number from 0 to ${MAX_QUANTITY}`,
            file,
            line,
        );
    }
    return quantity as number;
}

function checkSpec(spec: unknown, which: string, types: Set<string>, field: string): FormationSpec {
    if (spec === undefined) return {};
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
        throw new DynoformInputError(
            field,
            `${which} formation is ${show(spec)}; expected an object keyed by process type, e.g. { web: { quantity: 2 } }`,
        );
    }
    const listed = [...types].join(", ");
    for (const [type, entry] of Object.entries(spec)) {
        const at = `${field}.${type}`;
        if (!types.has(type)) {
            throw new DynoformInputError(
                at,
                `process type "${type}" is not in the Procfile; Procfile types are ${listed}`,
            );
        }
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            throw new DynoformInputError(at, `expected { quantity?, size? }, got ${show(entry)}`);
        }
        for (const [key, value] of Object.entries(entry)) {
            if (key !== "quantity" && key !== "size") {
                throw new DynoformInputError(
                    `${at}.${key}`,
                    `unknown key "${key}"; a formation entry has quantity and size`,
                );
            }
            if (value === undefined) continue;
            if (key === "quantity") validateQuantity(value, `${at}.quantity`);
            else resolveDynoSize(value as DynoSizeSpec, `${at}.size`);
        }
        if (type === "release" && typeof entry.quantity === "number" && entry.quantity > 0) {
            throw new DynoformInputError(
                `${at}.quantity`,
                `release runs once per release before dynos roll and is never a dyno type; set its quantity to 0 or leave it out`,
            );
        }
    }
    return spec as FormationSpec;
}

/**
 * Plans the dynos of each process type with Heroku's defaults: `web` gets 1 dyno and every other
 * type 0 unless set; sizes default to `standard-1x`. `requested` overrides `defaults` (which come
 * from app.json's formation) field by field. `release` is never a dyno type and is left out.
 *
 * @param processTypes The parsed Procfile.
 * @param requested Formation asked for by the program or CLI.
 * @param defaults Formation from app.json.
 * @param field Path prefix for error messages.
 * @returns One entry per process type except `release`, in Procfile order.
 * @throws DynoformInputError on `formation` for more than {@link MAX_TOTAL_QUANTITY} dynos in all,
 *   `formation.<type>` for types not in the Procfile,
 *   `formation.<type>.quantity` for bad quantities (or `release` above 0), and
 *   `formation.<type>.size` for bad sizes.
 */
export function planFormation(
    processTypes: ProcessType[],
    requested: FormationSpec | undefined,
    defaults?: FormationSpec,
    field = "formation",
): PlannedProcess[] {
    const types = new Set(processTypes.map((t) => t.name));
    const wanted = checkSpec(requested, "requested", types, field);
    const fallback = checkSpec(defaults, "default", types, field);
    const has = (spec: FormationSpec, type: string) =>
        Object.prototype.hasOwnProperty.call(spec, type);
    const plan = processTypes
        .filter((t) => t.name !== "release")
        .map((t) => {
            const asked = has(wanted, t.name) ? wanted[t.name] : {};
            const given = has(fallback, t.name) ? fallback[t.name] : {};
            const quantity = asked.quantity ?? given.quantity ?? (t.name === "web" ? 1 : 0);
            const sizeSpec = asked.size ?? given.size ?? DEFAULT_DYNO_SIZE;
            const size = resolveDynoSize(sizeSpec, `${field}.${t.name}.size`);
            return { type: t.name, command: t.command, quantity, size };
        });
    const total = plan.reduce((n, p) => n + p.quantity, 0);
    if (total > MAX_TOTAL_QUANTITY) {
        const asked = plan.filter((p) => p.quantity > 0).map((p) => `${p.type}=${p.quantity}`).join(" ");
        throw new DynoformInputError(
            field,
            `${total} dynos in all (${asked}); the limit is ${MAX_TOTAL_QUANTITY} dynos per app on one host`,
        );
    }
    return plan;
}

/**
 * Heroku-style dyno names for a process type: `web.1` .. `web.N`.
 *
 * @throws DynoformInputError on `formation.<type>.quantity` when `quantity` is not 0..100.
 */
export function dynoNames(type: string, quantity: number): string[] {
    validateQuantity(quantity, `formation.${type}.quantity`);
    return Array.from({ length: quantity }, (_, i) => `${type}.${i + 1}`);
}

/** Quantity and size name of one process type, as compared by {@link diffFormation}. */
export interface FormationState {
    /** Number of dynos. */
    quantity: number;
    /** Dyno size name, e.g. `standard-1x`. */
    size: string;
}

/** One process type's change between two formations. */
export interface FormationChange {
    /** Process type name. */
    type: string;
    /**
     * `add`/`remove` when the type appears or disappears; `resize` when the size changes (the
     * quantity may change too); `scale` when only the quantity changes.
     */
    kind: "scale" | "resize" | "add" | "remove";
    /** Before the change; absent for `add`. */
    from?: FormationState;
    /** After the change; absent for `remove`. */
    to?: FormationState;
    /** One line for a preview, e.g. `web: 2 -> 4 (+2)`. */
    text: string;
}

type FormationInput = PlannedProcess[] | Record<string, FormationState>;

function normalize(formation: FormationInput, field: string): Map<string, FormationState> {
    const out = new Map<string, FormationState>();
    const entries: [string, FormationState][] = Array.isArray(formation)
        ? formation.map((p) => [p.type, { quantity: p.quantity, size: p.size.name }])
        : Object.entries(formation).map(([t, s]) => [t, { quantity: s.quantity, size: s.size }]);
    for (const [type, state] of entries) {
        if (out.has(type)) {
            throw new DynoformInputError(
                `${field}.${type}`,
                `process type "${type}" is listed twice; list each type once`,
            );
        }
        if (!Number.isInteger(state.quantity) || state.quantity < 0) {
            throw new DynoformInputError(
                `${field}.${type}.quantity`,
                `quantity ${show(state.quantity)} is not valid; use a whole number of dynos, 0 or more`,
            );
        }
        if (typeof state.size !== "string" || state.size === "") {
            throw new DynoformInputError(
                `${field}.${type}.size`,
                `size ${show(state.size)} is not valid; use a size name such as standard-1x`,
            );
        }
        out.set(type, state);
    }
    return out;
}

/**
 * The changes from one formation to another, for a preview: one entry per process type that was
 * added, removed, scaled or resized, with text such as `web: 2 -> 4 (+2)`,
 * `worker: standard-1x -> standard-2x (resize in place)`,
 * `web: 2 -> 3 (+1), standard-1x -> standard-2x (resize in place)`, `clock: new (1 x standard-1x)`
 * or `clock: removed (was 1 x standard-1x)`. Unchanged types give nothing. On a Swarm cluster
 * (`where`) a resize is not in place: Swarm replaces each task, the new one started first.
 *
 * Order: types of `after` in its order, then types only in `before`, in its order.
 *
 * @throws DynoformInputError on `before.<type>` / `after.<type>` for malformed entries.
 */
export function diffFormation(before: FormationInput, after: FormationInput, where: "host" | "cluster" = "host"): FormationChange[] {
    const olds = normalize(before, "before");
    const news = normalize(after, "after");
    const changes: FormationChange[] = [];
    for (const [type, to] of news) {
        const from = olds.get(type);
        if (!from) {
            const text = `${type}: new (${to.quantity} x ${to.size})`;
            changes.push({ type, kind: "add", to, text });
            continue;
        }
        const parts: string[] = [];
        if (from.quantity !== to.quantity) {
            const delta = to.quantity - from.quantity;
            const sign = delta > 0 ? "+" : "-";
            parts.push(`${from.quantity} -> ${to.quantity} (${sign}${Math.abs(delta)})`);
        }
        const how = where === "cluster" ? "rolling: Swarm replaces each task, the new one started first" : "resize in place";
        if (from.size !== to.size) parts.push(`${from.size} -> ${to.size} (${how})`);
        if (parts.length === 0) continue;
        const kind = from.size !== to.size ? "resize" : "scale";
        changes.push({ type, kind, from, to, text: `${type}: ${parts.join(", ")}` });
    }
    for (const [type, from] of olds) {
        if (news.has(type)) continue;
        const text = `${type}: removed (was ${from.quantity} x ${from.size})`;
        changes.push({ type, kind: "remove", from, text });
    }
    return changes;
}

/** What a plan asks of memory, in MiB. */
export interface FormationMemory {
    /** The sum of quantity x size over process types. */
    neededMb: number;
    /** Its biggest dyno (0 when it runs none): on a cluster one node must hold it. */
    largestDynoMb: number;
}

/** The memory a plan's dynos are limited to, in total and the biggest one. Pure. */
export function formationMemory(plan: PlannedProcess[]): FormationMemory {
    return {
        neededMb: plan.reduce((total, p) => total + p.quantity * p.size.memoryMb, 0),
        largestDynoMb: Math.max(0, ...plan.filter((p) => p.quantity > 0).map((p) => p.size.memoryMb)),
    };
}
