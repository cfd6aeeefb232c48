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
export function attachmentVarName(plan: "postgres" | "redis", as?: string): string {
    if (as !== undefined) {
        validateAttachmentName(as, "as");
        return `${as}_URL`;
    }
    if (plan === "postgres") return "DATABASE_URL";
    if (plan === "redis") return "REDIS_URL";
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

function checkValue(name: string, value: unknown, field: string): string {
    if (typeof value !== "string") {
        throw new DynoformInputError(
            field,
            `value is ${show(value)}; config var values are strings, write "${String(value)}"`,
        );
    }
    if (value.includes("\0")) {
        throw new DynoformInputError(
            field,
            `value of ${name} contains a NUL character, which a process environment cannot hold; remove it`,
        );
    }
    return value;
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
        env.set(name, checkValue(name, value, `attachments.${name}`));
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
        env.set(name, checkValue(name, value, field));
    }
    env.set("DYNO", `${processType}.${index}`);
    if (port !== undefined) env.set("PORT", String(port));
    return Object.fromEntries([...env].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
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
    return [name, arg.slice(eq + 1)];
}
