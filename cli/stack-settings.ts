import * as fs from "fs";
import * as path from "path";
import YAML, { LineCounter } from "yaml";
import { AppDefinition, validateAppArgs } from "../components/app-definition";
import { validateConfigVarValue } from "../components/config-vars";
import { DynoformInputError } from "../components/errors";
import { appSources, configVars, normalizeFormation, StackSettings } from "../infra/settings";
import { UsageError } from "./errors";
import { stackFile } from "./project";

/** A stack file as written on disk: plain settings, and the names (not values) of secret config vars. */
export interface StackFileView {
    settings: StackSettings;
    secretKeys: string[];
    /**
     * The first thing wrong with the file's `dynoform:*` settings (an unknown key, a value of the
     * wrong type), as a message naming the file, line and key; {@link validateSettings} refuses it.
     */
    problem?: string;
}

/**
 * The `dynoform:*` settings a stack file may hold, by the kind of value each takes: every key of
 * {@link StackSettings} and no other (the compiler holds the two lists together), plus `secrets`,
 * which the program reads as secret config beside them.
 */
const SETTING_KINDS: { readonly [K in keyof StackSettings | "secrets"]-?: "text" | "map" | "port" | "boolean" } = {
    app: "text",
    source: "text",
    image: "text",
    procfile: "text",
    appJson: "text",
    formation: "map",
    addons: "map",
    config: "map",
    secrets: "map",
    restarts: "map",
    routerPort: "port",
    routerHost: "text",
    dockerHost: "text",
    releaseDescription: "text",
    rollbackSourceHash: "text",
    // No longer read (destroy --delete-addon-data is a one-run intent); still accepted so older stack files load.
    deleteAddonDataOnDestroy: "boolean",
};

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const shown = (v: unknown) => (isMap(v) ? "a map" : Array.isArray(v) ? "a list" : JSON.stringify(v));

/** What is wrong with one `dynoform:<key>` value, or undefined. */
function settingProblem(key: string, value: unknown): { at: string[]; reason: string } | undefined {
    const kind = (SETTING_KINDS as Readonly<Record<string, string>>)[key];
    if (kind === undefined) {
        return { at: [], reason: `unknown setting; the dynoform settings are ${Object.keys(SETTING_KINDS).join(", ")}` };
    }
    if (kind === "text" && (typeof value === "object" || value === undefined)) {
        return { at: [], reason: `expected a string, got ${shown(value)}` };
    }
    if (kind === "port" && !(typeof value === "number" || (typeof value === "string" && /^\d+$/.test(value.trim())))) {
        return { at: [], reason: `expected a port number from 1 to 65535, got ${shown(value)}` };
    }
    if (kind === "boolean" && ![true, false, "true", "false"].includes(value as string)) {
        return { at: [], reason: `expected true or false, got ${shown(value)}` };
    }
    if (kind !== "map") return undefined;
    if (!isMap(value)) return { at: [], reason: `expected a map, got ${shown(value)}` };
    if (key === "config" || key === "restarts") {
        for (const [name, v] of Object.entries(value)) {
            if (typeof v === "object" || v === undefined) {
                return { at: [name], reason: `expected a string value, got ${shown(v)}` };
            }
            if (key === "config" && typeof v === "string") {
                try {
                    validateConfigVarValue(name, v, name);
                } catch (err) {
                    if (err instanceof DynoformInputError) return { at: [name], reason: err.reason };
                    throw err;
                }
            }
        }
    }
    return undefined;
}

/** Parses a stack file; bad YAML is a usage error naming the file and line. */
function parseStackFile(file: string): { doc: YAML.Document; lines: LineCounter; shownFile: string } {
    const shownFile = path.relative(process.cwd(), file) || file;
    const lines = new LineCounter();
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"), { lineCounter: lines });
    const err = doc.errors[0];
    if (err) {
        const what = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        throw new UsageError(`${shownFile}:${err.linePos?.[0].line ?? 1}: not valid YAML: ${what}`);
    }
    return { doc, lines, shownFile };
}

/** Reads `stacks/Pulumi.<stack>.yaml` without decrypting anything. */
export function readStackFile(dir: string, stack: string): StackFileView {
    const file = stackFile(dir, stack);
    const { doc: parsed, lines, shownFile } = parseStackFile(file);
    const doc = (parsed.toJS() ?? {}) as Record<string, unknown>;
    const config: Record<string, unknown> = isMap(doc.config) ? doc.config : {};
    let problem: string | undefined;
    if (doc.config !== undefined && doc.config !== null && !isMap(doc.config)) {
        problem = `${shownFile}: \`config\`: expected a map of settings such as dynoform:app, got ${shown(doc.config)}`;
    }
    for (const [key, value] of Object.entries(config)) {
        if (problem || !key.startsWith("dynoform:")) continue;
        const found = settingProblem(key.slice("dynoform:".length), value);
        if (!found) continue;
        const node = parsed.getIn(["config", key, ...found.at], true) as { range?: [number, number, number] } | undefined;
        const line = node?.range ? `:${lines.linePos(node.range[0]).line}` : "";
        problem = `${shownFile}${line}: \`${[key, ...found.at].join(".")}\`: ${found.reason}`;
    }
    const get = (k: string) => config[`dynoform:${k}`];
    const secrets = get("secrets");
    const secretKeys =
        secrets && typeof secrets === "object" && !("secure" in (secrets as object))
            ? Object.keys(secrets as object)
            : [];
    const port = get("routerPort");
    const settings: StackSettings = {
        app: String(get("app") ?? ""),
        source: get("source") as string | undefined,
        image: get("image") as string | undefined,
        procfile: get("procfile") as string | undefined,
        appJson: get("appJson") as string | undefined,
        formation: normalizeFormation(get("formation") as StackSettings["formation"]),
        addons: get("addons") as StackSettings["addons"],
        config: configVars(get("config") as Record<string, unknown> | undefined),
        routerPort: port === undefined ? undefined : Number(port),
        routerHost: get("routerHost") as string | undefined,
        dockerHost: get("dockerHost") as string | undefined,
        rollbackSourceHash: get("rollbackSourceHash") as string | undefined,
    };
    return { settings, secretKeys, problem };
}

/**
 * Checks what the stack would deploy, with every check the program makes before creating
 * anything (Procfile, app.json, formation, sizes, add-ons, config names), so a bad change is
 * refused before the stack file or any container is touched.
 */
export function validateSettings(dir: string, view: StackFileView, stack: string): AppDefinition {
    if (view.problem) throw new UsageError(view.problem);
    const s = view.settings;
    if (!s.app) {
        throw new UsageError(`${path.relative(process.cwd(), stackFile(dir, stack)) || stackFile(dir, stack)} has no dynoform:app`);
    }
    try {
        const config: Record<string, string> = { ...(s.config ?? {}) };
        for (const k of view.secretKeys) config[k] = "";
        return validateAppArgs(s.app, {
            ...appSources(s, dir),
            formation: s.formation,
            addons: s.addons,
            config,
            routerPort: s.routerPort,
            routerHost: s.routerHost,
        }).definition;
    } catch (err) {
        if (err instanceof DynoformInputError) throw new UsageError(err.message);
        throw err;
    }
}
