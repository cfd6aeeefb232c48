import { DynoformInputError } from "./errors";

/**
 * Health checks per process type, in Dokku's app.json format (`healthchecks`):
 *
 * ```json
 * { "healthchecks": { "web": [{ "type": "startup", "path": "/health", "attempts": 3, "wait": 2 }] } }
 * ```
 *
 * Without one, a dyno is up as on Heroku: a web dyno when it accepts connections on `$PORT`
 * within the boot timeout (R10), any other when it is still running a second after it started.
 * A declared check runs after that, on every new dyno, before any old dyno is stopped:
 * - `path`: an HTTP GET of `http://<dyno>:$PORT<path>` answering `status` (default any 2xx or
 *   3xx), with `content` in its body when given;
 * - `command`: run inside the dyno (a list, as Dokku takes it, or one shell line); exit 0 passes;
 * - `uptime`: the dyno is still running that many seconds after it started;
 * - `listening`: the dyno accepts connections on `port` (or `$PORT`).
 * Each check is tried `attempts` times (5), `timeout` seconds each (5), `wait` seconds apart (5),
 * the first after `initialDelay` seconds (0), as Dokku's checks are. Only `startup` checks gate a
 * rollout; `liveness` and `readiness` (Dokku's Kubernetes checks) are noted and not run.
 */

/** One startup check of a dyno, resolved: what the dyno provider runs. */
export interface DynoCheck {
    kind: "http" | "command" | "uptime" | "listening";
    /** Shown in messages: the check's `name`, or what it does (`GET /health`). */
    name: string;
    path?: string;
    /** Port to check; `$PORT` of a web dyno when unset. */
    port?: number;
    /** Expected HTTP status; any 2xx or 3xx when unset. */
    status?: number;
    /** Text the HTTP body must contain. */
    content?: string;
    headers?: Record<string, string>;
    /** Command run in the dyno (exec form). */
    command?: string[];
    uptimeSeconds?: number;
    attempts: number;
    timeoutSeconds: number;
    waitSeconds: number;
    initialDelaySeconds: number;
}

/** The checks of each process type, with the line each was declared on (for errors about the type). */
export interface HealthChecks {
    byType: Record<string, DynoCheck[]>;
    /** Line of each process type's key in the file, when known. */
    lines: Record<string, number | undefined>;
}

/** How the parser reports a bad value: app.json's locator (file and line), or a plain one for the stack file. */
export interface Locator {
    readonly file: string;
    fail(path: ReadonlyArray<string | number>, reason: string): never;
    note(path: ReadonlyArray<string | number>, what: string): void;
    line(path: ReadonlyArray<string | number>): number | undefined;
}

const CHECK_KEYS = [
    "type", "name", "description", "path", "port", "scheme", "content", "status", "httpHeaders",
    "command", "initialDelay", "attempts", "timeout", "wait", "uptime", "listening", "warn", "onFailure",
];
const NOT_SUPPORTED = ["warn", "onFailure"];
const LIMITS: Record<string, [number, number]> = {
    attempts: [1, 100], timeout: [1, 3600], wait: [0, 3600], initialDelay: [0, 3600], uptime: [1, 3600],
    port: [1, 65535], status: [100, 599],
};
export const CHECK_DEFAULTS = { attempts: 5, timeoutSeconds: 5, waitSeconds: 5, initialDelaySeconds: 0 } as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/**
 * Parses `healthchecks` (an object of process type → list of checks). Pure; every failure names
 * the field (`healthchecks.web[0].attempts`) through `at`, which adds file and line.
 */
export function parseHealthchecks(raw: unknown, at: Locator, root: ReadonlyArray<string | number> = ["healthchecks"]): HealthChecks {
    if (!isObject(raw)) at.fail(root, `expected an object of process type to a list of checks, e.g. { "web": [{ "path": "/health" }] }, got ${show(raw)}`);
    const byType: Record<string, DynoCheck[]> = {};
    const lines: Record<string, number | undefined> = {};
    for (const [type, list] of Object.entries(raw)) {
        const path = [...root, type];
        if (!/^[A-Za-z0-9_-]+$/.test(type)) at.fail(path, `process type ${show(type)} must be letters, digits, '_' or '-'`);
        if (type === "release") at.fail(path, "the release phase is a one-off: its exit code is its check (a non-zero exit stops the rollout)");
        if (!Array.isArray(list)) at.fail(path, `expected a list of checks, e.g. [{ "path": "/health" }], got ${show(list)}`);
        lines[type] = at.line(path);
        byType[type] = list
            .map((entry, i) => parseCheck(entry, [...path, i], at))
            .filter((c): c is DynoCheck => c !== undefined);
    }
    return { byType, lines };
}

function parseCheck(entry: unknown, path: (string | number)[], at: Locator): DynoCheck | undefined {
    if (!isObject(entry)) at.fail(path, `expected a check object, e.g. { "path": "/health", "attempts": 3 }, got ${show(entry)}`);
    for (const key of Object.keys(entry)) {
        if (!CHECK_KEYS.includes(key)) at.fail([...path, key], `unknown key ${show(key)}; the keys here are ${CHECK_KEYS.filter((k) => !NOT_SUPPORTED.includes(k)).join(", ")}`);
        if (NOT_SUPPORTED.includes(key)) at.fail([...path, key], `${show(key)} is not supported by Dynoform: a failed startup check always stops the rollout`);
    }
    const type = entry.type ?? "startup";
    if (type === "liveness" || type === "readiness") {
        at.note([...path, "type"], `${show(type)} checks are not run (Dynoform gates rollouts on "startup" checks)`);
        return undefined;
    }
    if (type !== "startup") at.fail([...path, "type"], `must be "startup", "liveness" or "readiness" (got ${show(type)})`);
    const str = (key: string): string | undefined => {
        const v = entry[key];
        if (v === undefined) return undefined;
        if (typeof v !== "string" || v.length === 0) at.fail([...path, key], `expected a non-empty string, got ${show(v)}`);
        return v;
    };
    const int = (key: string): number | undefined => {
        const v = entry[key];
        if (v === undefined) return undefined;
        const [min, max] = LIMITS[key];
        if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
            at.fail([...path, key], `expected a whole number from ${min} to ${max}${key === "port" || key === "status" ? "" : key === "attempts" ? "" : " (seconds)"}, got ${show(v)}`);
        }
        return v;
    };
    const checkPath = str("path");
    if (checkPath !== undefined && !checkPath.startsWith("/")) at.fail([...path, "path"], `must start with '/', e.g. "/health" (got ${show(checkPath)})`);
    const scheme = str("scheme");
    if (scheme !== undefined && scheme !== "http") at.fail([...path, "scheme"], `only "http" is checked (a dyno serves plain HTTP on $PORT behind the router; got ${show(scheme)})`);
    let command: string[] | undefined;
    if (entry.command !== undefined) {
        const c = entry.command;
        if (typeof c === "string" && c.trim()) command = ["/bin/sh", "-c", c];
        else if (Array.isArray(c) && c.length > 0 && c.every((x) => typeof x === "string" && x.length > 0)) command = c as string[];
        else at.fail([...path, "command"], `expected a list of strings, e.g. ["node", "check.js"], or one shell line, got ${show(c)}`);
    }
    const listening = entry.listening;
    if (listening !== undefined && typeof listening !== "boolean") at.fail([...path, "listening"], `expected true or false, got ${show(listening)}`);
    const uptime = int("uptime");
    const kinds = [checkPath !== undefined && "path", command && "command", uptime !== undefined && "uptime", listening === true && "listening"].filter(Boolean);
    if (kinds.length !== 1) {
        at.fail(path, kinds.length === 0
            ? `a check needs one of "path" (HTTP GET), "command" (run in the dyno), "uptime" (seconds running) or "listening": true`
            : `give one of ${kinds.map((k) => `"${k}"`).join(", ")} per check (write two checks to run both)`);
    }
    let headers: Record<string, string> | undefined;
    if (entry.httpHeaders !== undefined) {
        const h = entry.httpHeaders;
        if (!Array.isArray(h) || !h.every((x) => isObject(x) && typeof x.name === "string" && /^[A-Za-z0-9-]+$/.test(x.name) && typeof x.value === "string")) {
            at.fail([...path, "httpHeaders"], `expected a list of { "name": "Host", "value": "example.com" }, got ${show(h)}`);
        }
        headers = Object.fromEntries((h as Array<{ name: string; value: string }>).map((x) => [x.name, x.value]));
    }
    for (const key of ["content", "status", "httpHeaders"]) {
        if (entry[key] !== undefined && checkPath === undefined) at.fail([...path, key], `${show(key)} applies to an HTTP check: add "path"`);
    }
    const kind = kinds[0] === "path" ? "http" : (kinds[0] as DynoCheck["kind"]);
    const port = int("port");
    const status = int("status");
    const content = str("content");
    const name = str("name") ?? (kind === "http" ? `GET ${checkPath}` : kind === "command" ? `\`${(command ?? []).join(" ")}\`` : kind === "uptime" ? `up ${uptime} s` : "listening");
    return {
        kind,
        name,
        ...(checkPath !== undefined ? { path: checkPath } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(content !== undefined ? { content } : {}),
        ...(headers ? { headers } : {}),
        ...(command ? { command } : {}),
        ...(uptime !== undefined ? { uptimeSeconds: uptime } : {}),
        attempts: int("attempts") ?? CHECK_DEFAULTS.attempts,
        timeoutSeconds: int("timeout") ?? CHECK_DEFAULTS.timeoutSeconds,
        waitSeconds: int("wait") ?? CHECK_DEFAULTS.waitSeconds,
        initialDelaySeconds: int("initialDelay") ?? CHECK_DEFAULTS.initialDelaySeconds,
    };
}

/**
 * Checks the parsed checks against the app's process types: a type the Procfile lacks, or a
 * port check on a type without a port, is an error naming the field, file and line. Pure.
 */
export function checkHealthchecksAgainst(checks: HealthChecks, processTypes: string[], file: string): void {
    for (const [type, list] of Object.entries(checks.byType)) {
        if (!processTypes.includes(type)) {
            throw new DynoformInputError(`healthchecks.${type}`, `process type "${type}" is not in the Procfile; Procfile types are ${processTypes.join(", ")}`, file, checks.lines[type]);
        }
        list.forEach((c, i) => {
            if (type !== "web" && (c.kind === "http" || c.kind === "listening") && c.port === undefined) {
                throw new DynoformInputError(`healthchecks.${type}[${i}]`, `only web dynos get $PORT: give "port" for an HTTP or listening check of "${type}", or use "command"`, file, checks.lines[type]);
            }
        });
    }
}

/** A locator for values without lines (the stack file's settings): errors name the field and the file. */
export function plainLocator(file: string): Locator {
    const fieldOf = (p: ReadonlyArray<string | number>) => p.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
    return {
        file,
        fail(p, reason) {
            throw new DynoformInputError(fieldOf(p), reason, file);
        },
        note() {},
        line: () => undefined,
    };
}

/**
 * What is wrong with a stack file's `dynoform:healthchecks` value, as the stack-file reader
 * reports it (the path below the key, and the reason), or undefined. Pure.
 */
export function healthchecksProblem(value: unknown): { at: string[]; reason: string } | undefined {
    class At extends Error {
        constructor(readonly at: string[], readonly reason: string) {
            super(reason);
        }
    }
    const locator: Locator = {
        file: "",
        fail(p, reason) {
            throw new At(p.map(String), reason);
        },
        note() {},
        line: () => undefined,
    };
    try {
        parseHealthchecks(value, locator, []);
        return undefined;
    } catch (e) {
        if (e instanceof At) return { at: e.at, reason: e.reason };
        throw e;
    }
}
