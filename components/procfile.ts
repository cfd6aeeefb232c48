import { DynoformInputError } from "./errors";

/** One Procfile line (or a language default): a process type and the command its dynos run. */
export interface ProcessType {
    /** Process type name, e.g. `web`, `worker`, `release`. */
    name: string;
    /**
     * The command, trimmed, exactly as written otherwise (it may contain colons). Undefined only
     * for a default `web` type of an app with a Dockerfile: its dynos run the image's CMD.
     */
    command?: string;
    /** 1-based line in the Procfile; 0 for a language default. */
    line: number;
}

const NAME_RE = /^[A-Za-z0-9_-]+$/;

/** Most process types one Procfile may declare: each is a formation with its own resources. */
export const MAX_PROCESS_TYPES = 50;
/**
 * Process type names Dynoform gives its own containers: `router` (the app's HTTP router) and
 * `run` (one-off dynos `run.1`, `run.2`). A Procfile type with one of these names would share
 * their names, labels and log prefixes. (`release` is Heroku's release phase, and is allowed.)
 */
export const RESERVED_PROCESS_TYPES: Readonly<Record<string, string>> = Object.freeze({
    router: "the app's HTTP router",
    run: "one-off dynos (`dynoform run`)",
});
const SHOWN_LINE_LENGTH = 60;

/** A line as the user wrote it, quoted and cut to a readable length. */
function showLine(text: string): string {
    const cut = text.length > SHOWN_LINE_LENGTH ? `${text.slice(0, SHOWN_LINE_LENGTH)}…` : text;
    return JSON.stringify(cut);
}

/**
 * Parses a Procfile with Heroku's rules: one `name: command` per line, split at the first colon,
 * whitespace around name and command trimmed; blank lines and `#` comments skipped; CRLF, a
 * missing final newline and a UTF-8 BOM accepted.
 *
 * Names are letters, digits, `_` and `-`. Two names that differ only in case are refused as
 * duplicates: they would name the same containers and DNS aliases. An empty or comment-only
 * file declares no process types (an empty list): as on Heroku, the language default then
 * applies ({@link defaultProcessTypes}).
 * At most {@link MAX_PROCESS_TYPES} types.
 * `router` and `run` are reserved ({@link RESERVED_PROCESS_TYPES}).
 *
 * @param file Path shown in error messages.
 * @returns The process types in file order.
 * @throws DynoformInputError with `file` and the 1-based line, on field `Procfile line N` for a
 *   malformed line or bad name, and `Procfile.<name>` for an empty command or a duplicate.
 */
export function parseProcfile(text: string, file = "Procfile"): ProcessType[] {
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    const types: ProcessType[] = [];
    const seen = new Map<string, ProcessType>();
    lines.forEach((raw, i) => {
        const line = i + 1;
        const trimmed = raw.trim();
        if (trimmed === "" || trimmed.startsWith("#")) return;
        const colon = trimmed.indexOf(":");
        if (colon < 0) {
            throw new DynoformInputError(
                `Procfile line ${line}`,
                `expected "name: command", got ${showLine(trimmed)} (no colon); write e.g. "web: npm start"`,
                file,
                line,
            );
        }
        const name = trimmed.slice(0, colon).trim();
        const command = trimmed.slice(colon + 1).trim();
        if (name === "") {
            throw new DynoformInputError(
                `Procfile line ${line}`,
                `expected "name: command", got ${showLine(trimmed)} (no name before the colon); write e.g. "web: npm start"`,
                file,
                line,
            );
        }
        if (!NAME_RE.test(name)) {
            const bad = [...name].find((c) => !/[A-Za-z0-9_-]/.test(c));
            throw new DynoformInputError(
                `Procfile line ${line}`,
                `process type name ${showLine(name)} contains ${JSON.stringify(bad)}; names use only letters, digits, "_" and "-" (e.g. web, worker, release)`,
                file,
                line,
            );
        }
        const reserved = RESERVED_PROCESS_TYPES[name.toLowerCase()];
        if (reserved !== undefined) {
            throw new DynoformInputError(
                `Procfile line ${line}`,
                `process type name "${name}" is reserved for ${reserved}; rename it (e.g. "${name.toLowerCase()}-proc")`,
                file,
                line,
            );
        }
        if (command === "") {
            throw new DynoformInputError(
                `Procfile.${name}`,
                `process type "${name}" has an empty command; write the command after the colon, e.g. "${name}: npm start"`,
                file,
                line,
            );
        }
        const first = seen.get(name.toLowerCase());
        if (first) {
            const same =
                first.name === name ? `"${name}"` : `"${name}" (same as "${first.name}" apart from case)`;
            throw new DynoformInputError(
                `Procfile.${name}`,
                `process type ${same} is defined twice, first on line ${first.line}; keep one of the two lines`,
                file,
                line,
            );
        }
        if (types.length === MAX_PROCESS_TYPES) {
            throw new DynoformInputError(
                `Procfile.${name}`,
                `more than ${MAX_PROCESS_TYPES} process types (this is the ${MAX_PROCESS_TYPES + 1}st); the limit is ${MAX_PROCESS_TYPES} per app: run related commands under one type`,
                file,
                line,
            );
        }
        const type = { name, command, line };
        seen.set(name.toLowerCase(), type);
        types.push(type);
    });
    return types;
}

/** What a source folder shows of how it runs, for {@link defaultProcessTypes}. */
export interface SourceFacts {
    /** The folder has a Dockerfile (the image is built from it). */
    dockerfile: boolean;
    /** package.json's `scripts.start`, when there is one. */
    startScript?: string;
    /** The folder has server.js (what `npm start` runs when package.json has no start script). */
    serverJs?: boolean;
}

/** The process types of an app that declares none, and why; see {@link defaultProcessTypes}. */
export interface DefaultProcessTypes {
    types: ProcessType[];
    /** One line for the user, e.g. `web runs the image's CMD (a Dockerfile and no Procfile)`. */
    reason: string;
}

/**
 * The process types of an app that declares none (no Procfile, or an empty or comment-only one),
 * as Heroku sets them: with a Dockerfile, `web` runs the image's CMD (Heroku's container stack;
 * `command` undefined); a Node.js app whose package.json has a `start` script, or that has a
 * server.js, gets `web: npm start` (the Node.js buildpack's default). Undefined when neither
 * applies. Pure.
 */
export function defaultProcessTypes(facts: SourceFacts): DefaultProcessTypes | undefined {
    if (facts.dockerfile) {
        return { types: [{ name: "web", line: 0 }], reason: "web runs the image's CMD (Dockerfile, no process types declared)" };
    }
    if (facts.startScript?.trim() || facts.serverJs) {
        const why = facts.startScript?.trim() ? "package.json's start script" : "server.js";
        return { types: [{ name: "web", command: "npm start", line: 0 }], reason: `web: npm start (Node.js default: ${why}, no process types declared)` };
    }
    return undefined;
}

/**
 * Writes process types as a Procfile (`name: command` per line, LF endings, final newline).
 * `parseProcfile(formatProcfile(types))` gives the same names and commands back.
 */
export function formatProcfile(
    types: ReadonlyArray<{ name: string; command: string }>,
): string {
    return types.map((t) => `${t.name}: ${t.command}\n`).join("");
}
