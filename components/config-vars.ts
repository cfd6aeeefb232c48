import { addonKind, AddOnPlan } from "./addon-plans";
import { DynoformInputError } from "./errors";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_NAME_LENGTH = 256;
const ATTACHMENT_RE = /^[A-Z][A-Z0-9_]*$/;
const PROCESS_TYPE_RE = /^[A-Za-z0-9_-]+$/;

/** Names Dynoform sets itself in every dyno, and why. */
const RESERVED: Readonly<Record<string, string>> = {
    PORT: "Dynoform sets it for each web dyno to the port the router sends traffic to; read $PORT in your web process instead of setting it",
    DYNO: "Dynoform sets it for each dyno to the dyno's name (e.g. web.1); remove it from your config",
};

function show(value: unknown): string {
    return typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
}

/**
 * Checks a config var name: `^[A-Za-z_][A-Za-z0-9_]*$`, at most 256 characters, and not one of
 * the names Dynoform sets per dyno (`PORT`, `DYNO`).
 *
 * @param field Path for error messages, e.g. `config.DATABASE_URL` or `env.SECRET_KEY`.
 * @param file Source file when the name came from one (e.g. `app.json`).
 * @param line 1-based line in `file`.
 * @throws DynoformInputError naming `field`.
 */
export function validateConfigVarName(
    name: string,
    field: string,
    file?: string,
    line?: number,
): void {
    if (typeof name !== "string" || name.length === 0) {
        throw new DynoformInputError(
            field,
            `config var name ${show(name)} is empty; use letters, digits and underscores, not starting with a digit (e.g. DATABASE_URL)`,
            file,
            line,
        );
    }
    if (name.length > MAX_NAME_LENGTH) {
        throw new DynoformInputError(
            field,
            `config var name is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`,
            file,
            line,
        );
    }
    if (!NAME_RE.test(name)) {
        const bad = /^[0-9]/.test(name)
            ? `starts with the digit "${name[0]}"`
            : `contains ${show([...name].find((c) => !/[A-Za-z0-9_]/.test(c)))}`;
        throw new DynoformInputError(
            field,
            `config var name ${show(name)} ${bad}; use letters, digits and underscores, not starting with a digit (e.g. DATABASE_URL)`,
            file,
            line,
        );
    }
    if (Object.prototype.hasOwnProperty.call(RESERVED, name)) {
        throw new DynoformInputError(field, `${name} is reserved: ${RESERVED[name]}`, file, line);
    }
    // `__proto__` set on a plain object changes its prototype instead of adding a key (the var
    // was dropped); `constructor`, `toString`... are found on every object by `in`.
    if (name in Object.prototype || name === "prototype") {
        throw new DynoformInputError(
            field,
            `config var name ${show(name)} is a name every JavaScript object already has, which config tools mishandle; use another name (e.g. an upper-case one)`,
            file,
            line,
        );
    }
}

/**
 * Checks an add-on attachment name given with `as`: `^[A-Z][A-Z0-9_]*$`, not ending in `_URL`
 * (Dynoform appends `_URL` itself), short enough that `<AS>_URL` is a valid config var name.
 *
 * @param field Path for error messages, e.g. `addons[1].as`.
 * @throws DynoformInputError naming `field`.
 */
export function validateAttachmentName(
    as: string,
    field: string,
    file?: string,
    line?: number,
): void {
    if (typeof as !== "string" || !ATTACHMENT_RE.test(as)) {
        throw new DynoformInputError(
            field,
            `attachment name ${show(as)} is not valid; use upper-case letters, digits and underscores, starting with a letter (e.g. "PRIMARY_DATABASE", which becomes PRIMARY_DATABASE_URL)`,
            file,
            line,
        );
    }
    if (as.endsWith("_URL")) {
        const stem = as.slice(0, -"_URL".length);
        throw new DynoformInputError(
            field,
            `attachment name "${as}" ends in _URL, which Dynoform appends itself (it would become ${as}_URL); use "${stem}" to get ${as}`,
            file,
            line,
        );
    }
    if (as.length + "_URL".length > MAX_NAME_LENGTH) {
        throw new DynoformInputError(
            field,
            `attachment name is ${as.length} characters long; with _URL appended the limit is ${MAX_NAME_LENGTH}`,
            file,
            line,
        );
    }
}

/**
 * The config var an add-on attachment sets: `DATABASE_URL` for postgres, `REDIS_URL` for redis,
 * or `<AS>_URL` when attached with `as`.
 *
 * @throws DynoformInputError on field `as` when `as` is not a valid attachment name.
 */
export function attachmentVarName(plan: AddOnPlan, as?: string): string {
    if (as !== undefined) {
        validateAttachmentName(as, "as");
        return `${as}_URL`;
    }
    const kind = addonKind(plan);
    if (kind) return kind.attachedAs;
    throw new DynoformInputError(
        "plan",
        `unknown add-on plan ${show(plan)}; use "postgres" or "redis"`,
    );
}

/** What one dyno's environment is built from. */
export interface DynoEnvInput {
    /** The app's config vars as the user set them. */
    config: Record<string, string>;
    /** Add-on attachment vars, e.g. `{ DATABASE_URL: "postgres://..." }`. */
    attachments: Record<string, string>;
    /** The dyno's process type, e.g. `web`. */
    processType: string;
    /** The dyno's 1-based number: `web.1` has index 1. */
    index: number;
    /** The port the dyno listens on; given for web dynos only, which get `PORT`. */
    port?: number;
}

/**
 * The longest `NAME=value` a process environment holds: Linux's MAX_ARG_STRLEN (131,072 bytes
 * with the terminating NUL); a longer one makes the dyno's exec fail with E2BIG.
 */
export const MAX_ENV_ENTRY_BYTES = 131_071;

/**
 * The most a dyno's environment may take as Docker receives it (JSON): Docker 20.10 refuses a
 * container whose create request is over about 1 MiB with HTTP 431 (seen: one 1,052,488-byte
 * value passed, 16 bytes more failed; 820 KiB of variables ran); the rest of the request
 * (command, labels, mounts: a few KiB) keeps the last 24 KiB.
 */
export const MAX_ENV_TOTAL_BYTES = 1000 * 1024;

const kib = (n: number) => `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;

/**
 * Checks a config var value: a string, without a NUL character (a process environment cannot
 * hold one), and with `NAME=value` at most {@link MAX_ENV_ENTRY_BYTES} bytes.
 *
 * @throws DynoformInputError naming `field`.
 */
export function validateConfigVarValue(name: string, value: unknown, field: string, file?: string, line?: number): string {
    if (typeof value !== "string") {
        throw new DynoformInputError(field, `value is ${show(value)}; config var values are strings, write "${String(value)}"`, file, line);
    }
    const nul = value.indexOf("\0");
    if (nul >= 0) {
        throw new DynoformInputError(
            field,
            `value of ${name} contains a NUL character (at offset ${nul}), which a process environment cannot hold; remove it`,
            file,
            line,
        );
    }
    const bytes = Buffer.byteLength(`${name}=${value}`, "utf8");
    if (bytes > MAX_ENV_ENTRY_BYTES) {
        throw new DynoformInputError(
            field,
            `value of ${name} is ${kib(bytes)} (${bytes} bytes with its name); a process environment holds at most ${MAX_ENV_ENTRY_BYTES} bytes per NAME=value: keep large data in a file or an add-on`,
            file,
            line,
        );
    }
    return value;
}

/**
 * Checks the size of a whole environment as Docker receives it (its JSON) against
 * {@link MAX_ENV_TOTAL_BYTES}; `field` names where the values come from.
 *
 * @throws DynoformInputError naming `field` and the largest values.
 */
export function validateEnvSize(env: Record<string, string>, field: string): void {
    const sizes = Object.entries(env).map(([k, v]) => [k, JSON.stringify(`${k}=${v}`).length + 1] as const);
    const total = sizes.reduce((sum, [, n]) => sum + n, 0);
    if (total <= MAX_ENV_TOTAL_BYTES) return;
    const largest = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([k, n]) => `${k} ${kib(n)}`);
    throw new DynoformInputError(
        field,
        `the config vars take ${kib(total)} as Docker receives them; the limit is ${kib(MAX_ENV_TOTAL_BYTES)} (Docker refuses a container over about 1 MiB); largest: ${largest.join(", ")}`,
    );
}

/**
 * The environment of one dyno: config vars, add-on attachment vars, `DYNO` (e.g. `web.1`) and,
 * when `port` is given, `PORT`. Keys come out sorted so diffs are stable.
 *
 * Attachments never override config vars silently: a config var with an attachment's name is an
 * error, and the user detaches the add-on or attaches it under another name with `as`.
 *
 * @throws DynoformInputError on `config.<NAME>` for bad names, reserved names, non-string values
 *   and collisions with an attachment; on `processType`, `index` or `port` for bad dyno identity.
 */
export function dynoEnv(input: DynoEnvInput): Record<string, string> {
    const { config, attachments, processType, index, port } = input;
    if (typeof processType !== "string" || !PROCESS_TYPE_RE.test(processType)) {
        throw new DynoformInputError(
            "processType",
            `process type ${show(processType)} is not valid; use letters, digits, "_" and "-" (e.g. web)`,
        );
    }
    if (!Number.isInteger(index) || index < 1) {
        throw new DynoformInputError(
            "index",
            `dyno index ${show(index)} is not valid; dynos are numbered from 1 (web.1)`,
        );
    }
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
        throw new DynoformInputError(
            "port",
            `port ${show(port)} is not valid; use a whole number from 1 to 65535`,
        );
    }
    // A Map, so a name like __proto__ is kept as data rather than hitting the object's prototype.
    const env = new Map<string, string>();
    for (const [name, value] of Object.entries(attachments)) {
        validateConfigVarName(name, `attachments.${name}`);
        env.set(name, validateConfigVarValue(name, value, `attachments.${name}`));
    }
    for (const [name, value] of Object.entries(config)) {
        const field = `config.${name}`;
        validateConfigVarName(name, field);
        if (env.has(name)) {
            throw new DynoformInputError(
                field,
                `${name} is set by the add-on attachment; remove it from config, or detach the ` +
                    `add-on, or attach it under another name with \`as\` ` +
                    `(e.g. as: "PRIMARY_DATABASE" sets PRIMARY_DATABASE_URL)`,
            );
        }
        env.set(name, validateConfigVarValue(name, value, field));
    }
    env.set("DYNO", `${processType}.${index}`);
    if (port !== undefined) env.set("PORT", String(port));
    const sorted = Object.fromEntries([...env].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    validateEnvSize(sorted, "config");
    return sorted;
}

/**
 * Splits a CLI `KEY=VALUE` argument at the first `=`. The value may be empty or contain `=`;
 * it is kept exactly as given. The name is checked with {@link validateConfigVarName}.
 *
 * @param field Path for error messages; the name is appended, e.g. `config.KEY`.
 * @throws DynoformInputError when there is no `=` or the name is not valid.
 */
export function parseConfigAssignment(arg: string, field = "config"): [string, string] {
    const eq = typeof arg === "string" ? arg.indexOf("=") : -1;
    if (eq < 0) {
        const example = typeof arg === "string" && NAME_RE.test(arg) ? `${arg}=value` : "SECRET_KEY=value";
        throw new DynoformInputError(
            field,
            `expected KEY=VALUE, got ${show(arg)}; write e.g. ${example} (an empty value is written KEY=)`,
        );
    }
    const name = arg.slice(0, eq);
    if (name.length === 0) {
        throw new DynoformInputError(
            field,
            `expected KEY=VALUE, got ${show(arg)} with nothing before "="; write e.g. SECRET_KEY${arg}`,
        );
    }
    validateConfigVarName(name, `${field}.${name}`);
    return [name, validateConfigVarValue(name, arg.slice(eq + 1), `${field}.${name}`)];
}
