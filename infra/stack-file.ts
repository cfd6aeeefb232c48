import * as fs from "fs";
import * as path from "path";
import YAML, { LineCounter } from "yaml";
import { AppDefinition, validateAppArgs } from "../components/app-definition";
import { validateConfigVarValue } from "../components/config-vars";
import { DynoformInputError } from "../components/errors";
import { healthchecksProblem } from "../components/healthchecks";
import { validateSchedulerJobs } from "../components/scheduler";
import { stopGraceProblem } from "../components/stop-grace";
import { appSources, configVars, normalizeFormation, StackSettings } from "./settings";
import { clusterSettingProblem, clusterUnsupported } from "./swarm/cluster-setting";

// The one loader of a stack file: text -> settings -> validated app definition, once per
// command. The CLI and the program (`infra/program.ts`, also under a plain `pulumi up`) both go
// through it, so they cannot disagree on a key. Free of the Pulumi SDK.

/** The text of a command's first read of a stack file, kept for the loader's next read of it. */
let heldRead: { file: string; text: string; mtimeMs: number; size: number } | undefined;

/**
 * A stack file's text, as every read of one goes. A read with `hold` (the CLI choosing the
 * stack's Docker host before the command runs) hands its text to the next read of that file if
 * the file is unchanged, so the command's own load does not read it again; after that, reads
 * are from disk.
 */
export function readStackText(file: string, hold = false): string {
    const held = heldRead;
    heldRead = undefined;
    const stat = fs.statSync(file);
    const same = held?.file === file && held.mtimeMs === stat.mtimeMs && held.size === stat.size;
    const text = same ? held!.text : fs.readFileSync(file, "utf8");
    if (hold) heldRead = { file, text, mtimeMs: stat.mtimeMs, size: stat.size };
    return text;
}

/** A stack file that cannot be deployed as written: the message names the file, line and key. */
export class StackFileError extends Error {
    override readonly name = "StackFileError";
}

/** The stack config file of a stack: `<project>/stacks/Pulumi.<stack>.yaml`. */
export function stackFilePath(dir: string, stack: string): string {
    return path.join(dir, "stacks", `Pulumi.${stack}.yaml`);
}

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
const SETTING_KINDS: { readonly [K in keyof StackSettings | "secrets"]-?: "text" | "map" | "port" | "boolean" | "list" } = {
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
    healthchecks: "map",
    stopGraceSeconds: "map",
    scheduler: "map",
    routerPort: "port",
    routerHost: "text",
    dockerHost: "text",
    cluster: "map",
    releaseDescription: "text",
    rollbackSourceHash: "text",
    // No longer read (destroy --delete-addon-data is a one-run intent); still accepted so older stack files load.
    deleteAddonDataOnDestroy: "boolean",
    domains: "list",
    edge: "map",
    maintenance: "boolean",
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
    if (kind === "list") {
        if (!Array.isArray(value)) return { at: [], reason: `expected a list, got ${shown(value)}` };
        const i = value.findIndex((v) => typeof v !== "string");
        return i < 0 ? undefined : { at: [String(i)], reason: `expected a string, got ${shown(value[i])}` };
    }
    if (kind !== "map") return undefined;
    if (!isMap(value)) return { at: [], reason: `expected a map, got ${shown(value)}` };
    if (key === "healthchecks") return healthchecksProblem(value);
    if (key === "stopGraceSeconds") return stopGraceProblem(value);
    if (key === "cluster") return clusterSettingProblem(value);
    if (key === "scheduler") {
        try {
            validateSchedulerJobs(value);
        } catch (err) {
            if (err instanceof DynoformInputError) return { at: err.field.split(".").slice(1), reason: err.reason };
            throw err;
        }
    }
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

/** Parses a stack file's text; bad YAML is a {@link StackFileError} naming the file and line. */
function parseStackFile(file: string, text: string): { doc: YAML.Document; lines: LineCounter; shownFile: string } {
    const shownFile = path.relative(process.cwd(), file) || file;
    const lines = new LineCounter();
    const doc = YAML.parseDocument(text, { lineCounter: lines });
    const err = doc.errors[0];
    if (err) {
        const what = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
        throw new StackFileError(`${shownFile}:${err.linePos?.[0].line ?? 1}: not valid YAML: ${what}`);
    }
    return { doc, lines, shownFile };
}

/** The settings in a stack file's text (`file` names it in messages), without decrypting anything. */
export function parseStackSettings(file: string, text: string): StackFileView {
    const { doc: parsed, lines, shownFile } = parseStackFile(file, text);
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
    if (!problem && config["dynoform:cluster"] !== undefined && config["dynoform:dockerHost"] !== undefined) {
        const node = parsed.getIn(["config", "dynoform:cluster"], true) as { range?: [number, number, number] } | undefined;
        const line = node?.range ? `:${lines.linePos(node.range[0]).line}` : "";
        problem = `${shownFile}${line}: \`dynoform:cluster\`: a stack runs on one Docker host or on a cluster: drop \`dynoform:dockerHost\` (the cluster's manager is its host)`;
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
        cluster: get("cluster") as StackSettings["cluster"],
        rollbackSourceHash: get("rollbackSourceHash") as string | undefined,
        releaseDescription: get("releaseDescription") as string | undefined,
        restarts: get("restarts") as Record<string, string> | undefined,
        scheduler: get("scheduler") as StackSettings["scheduler"],
        healthchecks: get("healthchecks") as StackSettings["healthchecks"],
        stopGraceSeconds: get("stopGraceSeconds") as StackSettings["stopGraceSeconds"],
        domains: get("domains") as string[] | undefined,
        edge: get("edge") as Record<string, unknown> | undefined,
        maintenance: [true, "true"].includes(get("maintenance") as string),
    };
    return { settings, secretKeys, problem };
}

/** The stack file a plain `pulumi up` reads: in `stacks/` (Dynoform's `stackConfigDir`), else beside Pulumi.yaml. */
export function programStackFile(dir: string, stack: string): string {
    const inStacks = stackFilePath(dir, stack);
    return fs.existsSync(inStacks) ? inStacks : path.join(dir, `Pulumi.${stack}.yaml`);
}

/** A stack file read once: its text, the settings in it and the app they define, validated. */
export interface LoadedStack {
    dir: string;
    stack: string;
    file: string;
    /** The file as it was on disk (what a failed deploy writes back). */
    original: string;
    /** The text deployed: `original` with the command's edit, if any (the command writes it). */
    text: string;
    view: StackFileView;
    definition: AppDefinition;
}

/** A command's change to a stack file: to its text (plain values) and to the view (secret names). */
export interface StackFileChange {
    /** The edit of the file's text; `before` validates the file as it was (only when asked: `ps:scale web+1`). */
    text?: (original: string, before: () => AppDefinition) => string;
    view?: (view: StackFileView) => void;
}

/**
 * Reads a stack file once, applies `change` in memory and validates the result: a bad edit is
 * refused before the file is written, and what is validated is exactly what is written.
 */
export function loadStack(dir: string, stack: string, change: StackFileChange = {}, file = stackFilePath(dir, stack)): LoadedStack {
    const original = readStackText(file);
    let text = original;
    if (change.text) {
        // Bad YAML is named as the file has it, before the edit is tried.
        parseStackFile(file, original);
        text = change.text(original, () => definitionOf(dir, parseStackSettings(file, original), file));
    }
    const view = parseStackSettings(file, text);
    change.view?.(view);
    return { dir, stack, file, original, text, view, definition: definitionOf(dir, view, file) };
}

/**
 * Checks what the stack would deploy, with every check the program makes before creating
 * anything (Procfile, app.json, formation, sizes, add-ons, config names), so a bad change is
 * refused before the stack file or any container is touched. Secret values are not known here
 * (only their names): the program checks them when they are decrypted.
 */
export function definitionOf(dir: string, view: StackFileView, file: string): AppDefinition {
    if (view.problem) throw new StackFileError(view.problem);
    const s = view.settings;
    if (!s.app) throw new StackFileError(`${path.relative(process.cwd(), file) || file} has no dynoform:app`);
    try {
        const config: Record<string, string> = { ...(s.config ?? {}) };
        for (const k of view.secretKeys) config[k] = "";
        const { definition } = validateAppArgs(s.app, {
            ...appSources(s, dir),
            formation: s.formation,
            addons: s.addons,
            config,
            routerPort: s.routerPort,
            routerHost: s.routerHost,
            scheduler: s.scheduler,
            healthchecks: s.healthchecks,
            stopGraceSeconds: s.stopGraceSeconds,
        }, path.relative(process.cwd(), file) || file);
        const lacking = s.cluster && clusterUnsupported({ backupJobs: (definition.scheduler ?? []).filter((j) => j.backup).map((j) => j.name) });
        if (lacking) throw new StackFileError(`${path.relative(process.cwd(), file) || file}: \`dynoform:cluster\`: ${lacking}`);
        return definition;
    } catch (err) {
        if (err instanceof DynoformInputError) throw new StackFileError(err.message);
        throw err;
    }
}
