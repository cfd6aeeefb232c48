import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import type { AppArgs } from "./app";
import { AddOnPlanName, mapAddonPlan } from "./addon-plans";
import { AddOnSpec, AppJson, parseAppJson, SkippedAddOn, skippedAddonMessage } from "./app-json";
import { attachmentVarName, validateAttachmentName, validateConfigVarName, validateConfigVarValue, validateEnvSize } from "./config-vars";
import { DynoformInputError } from "./errors";
import { FormationSpec, PlannedProcess, planFormation } from "./formation-plan";
import { checkHealthchecksAgainst, DynoCheck, parseHealthchecks, plainLocator } from "./healthchecks";
import { defaultProcessTypes, parseProcfile, ProcessType, SourceFacts } from "./procfile";
import { SchedulerJob, validateSchedulerJobs } from "./scheduler";
import { stopGraceByType } from "./stop-grace";

/**
 * How an add-on is asked for in {@link AppArgs.addons}: a plan name (`postgres`,
 * `heroku-postgresql:essential-0`, `redis`, `heroku-redis`: the names the CLI and app.json take),
 * or a plan with an attachment name.
 */
export type AddOnRequest = AddOnPlanName | { plan: AddOnPlanName; as?: string };

/** Type token of {@link App}; here, free of the SDK, so the CLI can look for Apps in a stack's state. */
export const APP_TYPE = "dynoform:index:App";

/** Everything the App's shape depends on, read and checked before any resource exists. */
export interface AppDefinition {
    processTypes: ProcessType[];
    /** Dyno process types with their quantity and size (no `release`). */
    plan: PlannedProcess[];
    /** The Procfile's `release` command, if any. */
    releaseCommand?: string;
    /** Add-ons by name, with the env var each is attached as. */
    addons: Array<AddOnSpec & { name: string; varName: string }>;
    /** app.json's add-ons Dynoform does not run, one line each saying what the app will lack. */
    skippedAddons: string[];
    appJson?: AppJson;
    procfileFile: string;
    /** Set when the app declares no process types and the language default applies: why, in one line. */
    defaultProcess?: string;
    /** Config defaults from app.json `env` values, for keys the user did not set. */
    configDefaults: Record<string, string>;
    /** app.json `env` keys with `generator: "secret"` the user did not set: generated once, kept secret. */
    generatedSecrets: string[];
    /** Scheduled jobs (`dynoform:scheduler`), checked; set by {@link validateAppArgs}. */
    scheduler?: SchedulerJob[];
    /** Startup checks per process type (app.json `healthchecks`); a type without any gets Heroku's default. */
    healthchecks: Record<string, DynoCheck[]>;
    /** Seconds between SIGTERM and SIGKILL when a dyno of each process type stops (30 unless set). */
    stopGraceSeconds: Record<string, number>;
}

/** The inputs {@link loadAppDefinition} reads. */
export interface AppDefinitionInput {
    source?: string;
    /** A path to a Procfile, or its text (anything with a newline or `:` that is not a file). */
    procfile?: string;
    /** A path to app.json; `<source>/app.json` is read when present. */
    appJson?: string;
    formation?: FormationSpec;
    addons?: Record<string, AddOnRequest>;
    configKeys: string[];
    /** Startup checks per process type from the stack file or program (app.json's format); app.json's for other types. */
    healthchecks?: Record<string, unknown>;
    /** One grace period for every process type, or a map by type (`{ worker: 120 }`). */
    stopGraceSeconds?: unknown;
    /** Where `healthchecks` and `stopGraceSeconds` came from, for messages: the stack file. */
    settingsFile?: string;
}

/**
 * Reads the Procfile and app.json, plans the formation, resolves add-ons and checks config
 * var names and attachment collisions. Throws {@link DynoformInputError} naming the field.
 */
export function loadAppDefinition(input: AppDefinitionInput): AppDefinition {
    const { text, file, folder } = readProcfile(input);
    const declared = text === undefined ? [] : parseProcfile(text, file);
    const fallback = declared.length ? undefined : languageDefault(folder, file, text !== undefined);
    const processTypes = fallback?.types ?? declared;
    let appJson: AppJson | undefined;
    const appJsonPath = input.appJson ?? (input.source ? path.join(input.source, "app.json") : undefined);
    if (appJsonPath && (input.appJson || fs.existsSync(appJsonPath))) {
        if (!fs.existsSync(appJsonPath)) {
            throw new DynoformInputError("appJson", `${appJsonPath} does not exist`);
        }
        appJson = parseAppJson(fs.readFileSync(appJsonPath, "utf8"), appJsonPath);
    }
    const appFormation = { ...(appJson?.formation ?? {}) };
    for (const [type, entry] of Object.entries(appFormation)) {
        if (processTypes.some((p) => p.name === type)) continue;
        // As on Heroku, no dynos of a type the Procfile lacks is nothing to run.
        if ((entry.quantity ?? (type === "web" ? 1 : 0)) === 0) {
            delete appFormation[type];
        } else {
            // planFormation names the field; say which file asked for the type too.
            throw new DynoformInputError(
                `formation.${type}`,
                `process type "${type}" is not in the Procfile; Procfile types are ${processTypes.map((p) => p.name).join(", ")}`,
                appJsonPath,
            );
        }
    }
    const plan = planFormation(processTypes, input.formation, appFormation);
    const typeNames = processTypes.map((p) => p.name);
    if (appJson?.healthchecks) checkHealthchecksAgainst(appJson.healthchecks, typeNames, appJsonPath!);
    const settingsFile = input.settingsFile ?? "the stack settings";
    const ownChecks = input.healthchecks === undefined ? undefined : parseHealthchecks(input.healthchecks, plainLocator(settingsFile), ["healthchecks"]);
    if (ownChecks) checkHealthchecksAgainst(ownChecks, typeNames, settingsFile);
    const stopGraceSeconds = stopGraceByType(input.stopGraceSeconds, plan.map((p) => p.type), input.settingsFile);
    const releaseCommand = processTypes.find((p) => p.name === "release")?.command;

    const addons: AppDefinition["addons"] = [];
    const seen = new Map<string, string>();
    const add = (name: string, spec: AddOnSpec, field: string) => {
        if (!/^[a-z][a-z0-9-]{0,30}$/.test(name)) {
            throw new DynoformInputError(field, `add-on name \`${name}\` must be lower-case letters, digits and '-', starting with a letter`);
        }
        if (addons.some((a) => a.name === name)) {
            throw new DynoformInputError(field, `add-on name \`${name}\` is used twice`);
        }
        if (spec.as) validateAttachmentName(spec.as, `${field}.as`);
        const varName = attachmentVarName(spec.plan, spec.as);
        if (seen.has(varName)) {
            throw new DynoformInputError(field, `${varName} is already attached by add-on \`${seen.get(varName)}\`: give one of them \`as\``);
        }
        seen.set(varName, name);
        addons.push({ ...spec, name, varName });
    };
    (appJson?.addons ?? []).forEach((spec, i) => {
        const name = spec.as ? spec.as.toLowerCase().replace(/_/g, "-") : spec.plan;
        if (!input.addons || !(name in input.addons)) add(name, spec, `addons[${i}]`);
    });
    for (const [name, request] of Object.entries(input.addons ?? {})) {
        const field = `addons.${name}`;
        const spec =
            typeof request === "string"
                ? mapAddonPlan(request, `${field}`)
                : { ...mapAddonPlan(request.plan, `${field}.plan`), as: request.as };
        add(name, spec, field);
    }

    for (const key of input.configKeys) {
        validateConfigVarName(key, `config.${key}`);
        if (seen.has(key)) {
            throw new DynoformInputError(
                `config.${key}`,
                `${key} is set by the add-on attachment \`${seen.get(key)}\`; remove the config var, or attach the add-on under another name with \`as\``,
            );
        }
    }
    const configDefaults: Record<string, string> = {};
    const generatedSecrets: string[] = [];
    for (const [key, spec] of Object.entries(appJson?.env ?? {})) {
        if (input.configKeys.includes(key)) continue;
        if (spec.generator === "secret") generatedSecrets.push(key);
        else if (spec.value !== undefined) configDefaults[key] = spec.value;
        else if (spec.required !== false) {
            throw new DynoformInputError(
                `config.${key}`,
                `${key} is required by ${appJsonPath}${spec.description ? ` (${spec.description})` : ""}: set it with \`dynoform config:set ${key}=...\``,
            );
        }
    }
    const skippedAddons = (appJson?.skippedAddons ?? []).map((s: SkippedAddOn) => skippedAddonMessage(s, appJsonPath));
    return {
        processTypes,
        plan,
        releaseCommand,
        addons,
        skippedAddons,
        appJson,
        procfileFile: file,
        defaultProcess: fallback?.reason,
        configDefaults,
        generatedSecrets,
        healthchecks: { ...(appJson?.healthchecks?.byType ?? {}), ...(ownChecks?.byType ?? {}) },
        stopGraceSeconds,
    };
}

/** A value that is neither a string nor a Pulumi Input wrapper (a number, a boolean, null): refused with its type named. */
function isPlainScalar(v: unknown): boolean {
    return v === null || v === undefined || typeof v === "number" || typeof v === "boolean";
}

/** The checks done before any child exists. Pure apart from reading the Procfile and app.json. */
export function validateAppArgs(name: string, args: AppArgs, settingsFile?: string): { appName: string; definition: AppDefinition } {
    const appName = args.name ?? name;
    if (!/^[a-z][a-z0-9-]{1,29}$/.test(appName)) {
        throw new DynoformInputError("name", `app name \`${appName}\` must be 2-30 lower-case letters, digits or '-', starting with a letter`);
    }
    if (args.source === undefined && args.image === undefined) {
        throw new DynoformInputError("source", "give `source` (a folder to build) or `image` (a prebuilt image)");
    }
    if (args.source !== undefined && args.image !== undefined) {
        throw new DynoformInputError("image", "give either `source` or `image`, not both");
    }
    const definition = loadAppDefinition({
        source: args.source ? path.resolve(args.source) : undefined,
        procfile: args.procfile,
        appJson: args.appJson,
        formation: args.formation,
        addons: args.addons,
        configKeys: Object.keys(args.config ?? {}),
        healthchecks: args.healthchecks,
        stopGraceSeconds: args.stopGraceSeconds,
        settingsFile,
    });
    // Values known now (not Outputs) are checked before any image is built; the rest when they resolve.
    const known: Record<string, string> = { ...definition.configDefaults };
    for (const [key, value] of Object.entries(args.config ?? {})) {
        if (typeof value !== "string" && !isPlainScalar(value)) continue;
        known[key] = validateConfigVarValue(key, value, `config.${key}`);
    }
    validateEnvSize(known, "config");
    const web = definition.plan.find((p) => p.type === "web");
    if (web && web.quantity > 0 && args.routerPort === undefined) {
        throw new DynoformInputError("routerPort", "the app has web dynos: give `routerPort`, the host port its router listens on");
    }
    if (args.routerPort !== undefined && (!Number.isInteger(args.routerPort) || args.routerPort < 1 || args.routerPort > 65535)) {
        throw new DynoformInputError("routerPort", `\`routerPort\` must be a port from 1 to 65535 (got ${JSON.stringify(args.routerPort)})`);
    }
    if (args.routerHost !== undefined && (typeof args.routerHost !== "string" || net.isIP(args.routerHost) === 0)) {
        throw new DynoformInputError("routerHost", `${JSON.stringify(args.routerHost)} is not an IP address; give the host address the router listens on, e.g. 127.0.0.1 or 0.0.0.0`);
    }
    const postgres = definition.addons.filter((a) => a.plan === "postgres").map((a) => a.name);
    definition.scheduler = validateSchedulerJobs(args.scheduler, postgres);
    return { appName, definition };
}

/**
 * The Procfile's text and path; `text` undefined when the folder has none. `folder` is where the
 * language default is looked for: the source, or the folder of a `procfile` path named Procfile
 * (the CLI passes `<source>/Procfile` when an image is pinned).
 */
function readProcfile(input: AppDefinitionInput): { text?: string; file: string; folder?: string } {
    if (input.procfile !== undefined) {
        const asPath = input.source && !path.isAbsolute(input.procfile) ? path.join(input.source, input.procfile) : input.procfile;
        if (!input.procfile.includes("\n") && fs.existsSync(asPath) && fs.statSync(asPath).isFile()) {
            return { text: fs.readFileSync(asPath, "utf8"), file: asPath, folder: path.dirname(asPath) };
        }
        if (input.procfile.includes("\n") || input.procfile.includes(":")) {
            return { text: input.procfile, file: "Procfile", folder: input.source };
        }
        if (path.basename(asPath) === "Procfile" && fs.existsSync(path.dirname(asPath))) {
            return { file: asPath, folder: path.dirname(asPath) };
        }
        throw new DynoformInputError("procfile", `${asPath} does not exist`);
    }
    if (!input.source) {
        throw new DynoformInputError("procfile", "give `procfile` (a path or its text) or `source` (a folder with a Procfile)");
    }
    const file = path.join(input.source, "Procfile");
    return fs.existsSync(file) ? { text: fs.readFileSync(file, "utf8"), file, folder: input.source } : { file, folder: input.source };
}

/** What `folder` shows of how it runs (Dockerfile, package.json's start script, server.js). */
export function sourceFacts(folder: string): SourceFacts {
    let startScript: string | undefined;
    try {
        const start = JSON.parse(fs.readFileSync(path.join(folder, "package.json"), "utf8"))?.scripts?.start;
        if (typeof start === "string") startScript = start;
    } catch {
        // No package.json, or not JSON: no start script (the image build reports a broken one).
    }
    return {
        dockerfile: fs.existsSync(path.join(folder, "Dockerfile")),
        startScript,
        serverJs: fs.existsSync(path.join(folder, "server.js")),
    };
}

/** The language default of an app that declares no process types, or the error saying what to add. */
function languageDefault(folder: string | undefined, file: string, procfileExists: boolean) {
    const fallback = folder ? defaultProcessTypes(sourceFacts(folder)) : undefined;
    if (fallback) return fallback;
    const none = `${folder ?? "the app"} has no default web process (no Dockerfile, no package.json with a "start" script, no server.js)`;
    if (procfileExists) {
        throw new DynoformInputError("Procfile", `no process types declared (the file is empty or only has comments) and ${none}; add a line like "web: npm start"`, file);
    }
    throw new DynoformInputError("procfile", `${file} does not exist and ${none}: add a Procfile (e.g. \`web: npm start\`)`);
}
