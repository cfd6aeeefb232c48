import { DynoformInputError } from "./errors";

/**
 * A dyno size: the memory limit and CPU weight every container of a process type gets.
 */
export interface DynoSize {
    /** Canonical name: a Heroku size (`standard-1x`) or a custom one (`custom-768mb`). */
    name: string;
    /** Hard memory limit in MiB (Docker `Memory` and `MemorySwap`, so no swap). */
    memoryMb: number;
    /**
     * Docker's relative CPU weight (`CpuShares`): not a core count, only a share of CPU time
     * against other containers when the host is busy. 1024 is Docker's default weight.
     */
    cpuShares: number;
}

function size(name: string, memoryMb: number, cpuShares: number): DynoSize {
    return Object.freeze({ name, memoryMb, cpuShares });
}

/**
 * Heroku's dyno sizes with Heroku's memory figures. `cpuShares` is Docker's relative CPU weight,
 * scaled so a standard-1x dyno has Docker's default weight of 1024.
 */
export const DYNO_SIZES: Readonly<Record<string, DynoSize>> = Object.freeze({
    eco: size("eco", 512, 1024),
    basic: size("basic", 512, 1024),
    "standard-1x": size("standard-1x", 512, 1024),
    "standard-2x": size("standard-2x", 1024, 2048),
    "performance-m": size("performance-m", 2560, 8192),
    "performance-l": size("performance-l", 14336, 16384),
});

/**
 * Heroku's retired size names and the sizes that replaced them (Free and Hobby became Eco and
 * Basic in 2022); public app.json files still name them.
 */
export const LEGACY_DYNO_SIZES: Readonly<Record<string, string>> = Object.freeze({
    free: "eco",
    hobby: "basic",
});

/** The current name of a retired Heroku size name (`Free` -> `eco`, any case), else undefined. Pure. */
export function legacyDynoSize(spec: unknown): string | undefined {
    if (typeof spec !== "string") return undefined;
    const written = spec.trim().toLowerCase();
    return Object.prototype.hasOwnProperty.call(LEGACY_DYNO_SIZES, written) ? LEGACY_DYNO_SIZES[written] : undefined;
}

/** The size a process type gets when none is given, as on Heroku. */
export const DEFAULT_DYNO_SIZE = "standard-1x";

/**
 * A dyno size as written by the user: a Heroku size name (any case), a custom size name
 * (`custom-768mb`, `custom-2gb`, optionally `-4096shares`), or an explicit object.
 */
export type DynoSizeSpec = string | { memoryMb: number; cpuShares?: number };

/** Docker refuses memory limits under 6 MiB. */
const MIN_MEMORY_MB = 6;
/** 1 TiB: anything larger is a typo. */
const MAX_MEMORY_MB = 1048576;
/** Docker's range for `CpuShares` on Linux. */
const MIN_CPU_SHARES = 2;
const MAX_CPU_SHARES = 262144;

const CUSTOM_RE = /^custom-(\d+(?:\.\d+)?)(mb|gb)(?:-(\d+)shares)?$/;

/** A value as the user wrote it, for error messages (NaN stays NaN, strings keep quotes). */
function show(value: unknown): string {
    return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
}

function knownSizes(): string {
    return (
        `use one of ${Object.keys(DYNO_SIZES).join(", ")}, ` +
        `or a custom size such as custom-768mb, custom-2gb or { memoryMb: 768 }`
    );
}

/** CPU weight of a custom size when none is given: 1024 per 512 MiB, within Docker's range. */
function defaultCpuShares(memoryMb: number): number {
    return Math.min(MAX_CPU_SHARES, Math.max(MIN_CPU_SHARES, Math.round((memoryMb * 1024) / 512)));
}

function customName(memoryMb: number, cpuShares: number): string {
    const memory = memoryMb % 1024 === 0 ? `${memoryMb / 1024}gb` : `${memoryMb}mb`;
    const shares = cpuShares === defaultCpuShares(memoryMb) ? "" : `-${cpuShares}shares`;
    return `custom-${memory}${shares}`;
}

function checkMemory(memoryMb: unknown, field: string, written: string): number {
    if (typeof memoryMb !== "number" || !Number.isInteger(memoryMb)) {
        throw new DynoformInputError(
            field,
            `memory ${written} is not a whole number of MiB; write e.g. 768 (custom-768mb)`,
        );
    }
    if (memoryMb < MIN_MEMORY_MB || memoryMb > MAX_MEMORY_MB) {
        throw new DynoformInputError(
            field,
            `memory ${written} is out of range; custom sizes take ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB} MiB`,
        );
    }
    return memoryMb;
}

function checkCpuShares(cpuShares: unknown, field: string): number {
    if (
        typeof cpuShares !== "number" ||
        !Number.isInteger(cpuShares) ||
        cpuShares < MIN_CPU_SHARES ||
        cpuShares > MAX_CPU_SHARES
    ) {
        throw new DynoformInputError(
            field,
            `CPU shares ${show(cpuShares)} is not valid; ` +
                `Docker takes a whole number from ${MIN_CPU_SHARES} to ${MAX_CPU_SHARES} (1024 is the default weight)`,
        );
    }
    return cpuShares;
}

function resolveCustomName(written: string, match: RegExpMatchArray, field: string): DynoSize {
    const [, amount, unit, shares] = match;
    const memoryMb = Number(amount) * (unit === "gb" ? 1024 : 1);
    checkMemory(memoryMb, field, `"${written}"`);
    const cpuShares =
        shares === undefined ? defaultCpuShares(memoryMb) : checkCpuShares(Number(shares), field);
    return Object.freeze({ name: customName(memoryMb, cpuShares), memoryMb, cpuShares });
}

function resolveObject(spec: Record<string, unknown>, field: string): DynoSize {
    for (const key of Object.keys(spec)) {
        if (key !== "memoryMb" && key !== "cpuShares") {
            throw new DynoformInputError(
                `${field}.${key}`,
                `unknown key "${key}" in a custom dyno size; the keys are memoryMb and cpuShares`,
            );
        }
    }
    if (spec.memoryMb === undefined) {
        throw new DynoformInputError(
            `${field}.memoryMb`,
            `a custom dyno size needs memoryMb, e.g. { memoryMb: 768 }`,
        );
    }
    const memoryMb = checkMemory(spec.memoryMb, `${field}.memoryMb`, show(spec.memoryMb));
    const cpuShares =
        spec.cpuShares === undefined
            ? defaultCpuShares(memoryMb)
            : checkCpuShares(spec.cpuShares, `${field}.cpuShares`);
    return Object.freeze({ name: customName(memoryMb, cpuShares), memoryMb, cpuShares });
}

/**
 * Resolves a dyno size spec to its memory limit and CPU weight.
 *
 * Names are case-insensitive; Heroku's retired names (`free`, `hobby`) resolve to the sizes
 * that replaced them (`eco`, `basic`). Custom sizes take 6..1048576 MiB in whole MiB; their CPU weight
 * defaults to 1024 per 512 MiB (within Docker's 2..262144). The returned name is canonical, so
 * `custom-2048mb`, `CUSTOM-2GB` and `{ memoryMb: 2048 }` all resolve to `custom-2gb`, and
 * resolving a returned name gives the same size back.
 *
 * @param field Path of the spec for error messages, e.g. `formation.web.size`.
 * @throws DynoformInputError naming `field` for unknown names and out-of-range custom sizes.
 */
export function resolveDynoSize(spec: DynoSizeSpec, field: string): DynoSize {
    if (typeof spec === "string") {
        const written = legacyDynoSize(spec) ?? spec.trim().toLowerCase();
        const known = Object.prototype.hasOwnProperty.call(DYNO_SIZES, written)
            ? DYNO_SIZES[written]
            : undefined;
        if (known) return known;
        const custom = written.match(CUSTOM_RE);
        if (custom) return resolveCustomName(spec, custom, field);
        throw new DynoformInputError(field, `unknown dyno size "${spec}"; ${knownSizes()}`);
    }
    if (typeof spec === "object" && spec !== null && !Array.isArray(spec)) {
        return resolveObject(spec as Record<string, unknown>, field);
    }
    throw new DynoformInputError(
        field,
        `expected a dyno size name or { memoryMb, cpuShares? }, got ${show(spec)}; ${knownSizes()}`,
    );
}

/**
 * The size name of a container's memory limit and CPU weight, as it runs (a resize updates a
 * container in place, so its creation labels may be stale). `hints` are names to prefer when
 * they match (the labelled size, the planned one): eco, basic and standard-1x share their
 * limits. Otherwise the first Heroku size that matches, else the canonical custom name. Pure.
 */
export function sizeOfLimits(memoryMb: number, cpuShares: number, hints: Array<string | undefined> = []): string {
    const matches = (name: string | undefined) => {
        if (!name) return false;
        try {
            const s = resolveDynoSize(name, "size");
            return s.memoryMb === memoryMb && s.cpuShares === cpuShares;
        } catch {
            return false;
        }
    };
    const hinted = hints.find(matches);
    if (hinted) return hinted;
    const known = [DYNO_SIZES[DEFAULT_DYNO_SIZE], ...Object.values(DYNO_SIZES)].find((s) => s.memoryMb === memoryMb && s.cpuShares === cpuShares);
    return known ? known.name : customName(memoryMb, cpuShares);
}
