import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { App, AppArgs } from "../components/app";
import { AddOnRequest } from "../components/app-definition";
import { DynoformInputError } from "../components/errors";
import { FormationSpec } from "../components/formation";

/** The stack settings Dynoform reads from `stacks/Pulumi.<stack>.yaml` (namespace `dynoform`). */
export interface StackSettings {
    /** App name. */
    app: string;
    /** Source folder, relative to the project. */
    source?: string;
    /** A prebuilt image instead of `source` (set by `promote` and `rollback`). */
    image?: string;
    procfile?: string;
    appJson?: string;
    formation?: FormationSpec;
    addons?: Record<string, AddOnRequest>;
    /** Plain config vars. */
    config?: Record<string, string>;
    routerPort?: number;
    routerHost?: string;
    releaseDescription?: string;
    deleteAddonDataOnDestroy?: boolean;
    /** Restart tokens (`dynoform ps:restart`). */
    restarts?: Record<string, string>;
}

/**
 * `pulumi config set --path dynoform:formation.web.quantity 3` stores the string "3": quantities
 * written as whole numbers are read as numbers; anything else is left for validation to reject.
 */
export function normalizeFormation(formation: FormationSpec | undefined): FormationSpec | undefined {
    if (!formation || typeof formation !== "object") return formation;
    return Object.fromEntries(
        Object.entries(formation).map(([type, entry]) => {
            const e = (entry ?? {}) as Record<string, unknown>;
            const q = e.quantity;
            return [type, { ...e, ...(typeof q === "string" && /^\d+$/.test(q) ? { quantity: Number(q) } : {}) }];
        }),
    ) as FormationSpec;
}

/**
 * Config var values as strings: `pulumi config set --path dynoform:config.RETRIES 3` stores a
 * YAML number, but an environment variable is text.
 */
export function configVars(vars: Record<string, unknown> | undefined): Record<string, string> | undefined {
    if (vars === undefined || vars === null || typeof vars !== "object") return undefined;
    return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

/** Reads the `dynoform:*` stack config. Secret config vars live under `dynoform:secrets`. */
export function readStackSettings(config = new pulumi.Config("dynoform")): {
    settings: StackSettings;
    secrets: pulumi.Output<Record<string, string>> | undefined;
} {
    const port = config.get("routerPort");
    const routerPort = port === undefined ? undefined : Number(port);
    if (port !== undefined && !Number.isInteger(routerPort)) {
        throw new DynoformInputError("dynoform:routerPort", `must be a port number (got ${JSON.stringify(port)})`);
    }
    const settings: StackSettings = {
        app: config.require("app"),
        source: config.get("source"),
        image: config.get("image"),
        procfile: config.get("procfile"),
        appJson: config.get("appJson"),
        formation: normalizeFormation(config.getObject<FormationSpec>("formation")),
        addons: config.getObject<Record<string, AddOnRequest>>("addons"),
        config: configVars(config.getObject<Record<string, unknown>>("config")),
        routerPort,
        routerHost: config.get("routerHost"),
        releaseDescription: config.get("releaseDescription"),
        deleteAddonDataOnDestroy: config.getBoolean("deleteAddonDataOnDestroy"),
        restarts: config.getObject<Record<string, string>>("restarts"),
    };
    return { settings, secrets: config.getSecretObject<Record<string, string>>("secrets") };
}

/**
 * Where the app comes from: its source folder is built, unless an image is pinned (promote,
 * rollback); then the image runs and the source folder still holds its Procfile and app.json.
 * Paths are relative to the project folder. Shared by the program and the CLI's checks.
 */
export function appSources(settings: StackSettings, projectDir: string): Pick<AppArgs, "source" | "image" | "procfile" | "appJson"> {
    const resolve = (p?: string) => (p === undefined ? undefined : path.resolve(projectDir, p));
    const source = resolve(settings.source);
    let procfile = settings.procfile && !settings.procfile.includes("\n") ? resolve(settings.procfile) : settings.procfile;
    let appJson = resolve(settings.appJson);
    if (settings.image && source) {
        procfile ??= path.join(source, "Procfile");
        if (appJson === undefined && fs.existsSync(path.join(source, "app.json"))) appJson = path.join(source, "app.json");
    }
    return { source: settings.image ? undefined : source, image: settings.image, procfile, appJson };
}

/** What the CLI passes to one run of the program, beside the stack config. */
export interface ProgramOverrides {
    /** Describes the release this run makes (`Scale web=3`, `Rollback to v4`). */
    releaseDescription?: string;
}

/**
 * The Pulumi program: one {@link App} from the stack's config. Returns the stack outputs the
 * CLI reads (`url`, `releaseVersion`, `releases`, `imageDigest`, `dynos`, `formation`).
 */
export async function appProgram(projectDir: string = process.cwd(), overrides: ProgramOverrides = {}) {
    const { settings, secrets } = readStackSettings();
    const secretVars: Record<string, pulumi.Input<string>> = {};
    if (secrets) {
        const keys = Object.keys(await new Promise<Record<string, string>>((r) => secrets.apply((s) => r(s ?? {}))));
        for (const key of keys) secretVars[key] = secrets.apply((s) => String(s[key]));
    }
    const app = new App(settings.app, {
        ...appSources(settings, projectDir),
        formation: settings.formation,
        addons: settings.addons,
        config: { ...(settings.config ?? {}), ...secretVars },
        routerPort: settings.routerPort,
        routerHost: settings.routerHost,
        releaseDescription: overrides.releaseDescription ?? settings.releaseDescription,
        restarts: settings.restarts,
        deleteAddonDataOnDestroy: settings.deleteAddonDataOnDestroy,
    });
    return {
        app: settings.app,
        url: app.url,
        releaseVersion: app.releaseVersion,
        releases: app.releases,
        imageDigest: app.imageDigest,
        dynos: app.dynos,
        formation: app.formation,
        addonAttachments: app.addonAttachments,
        attachments: app.attachments,
        config: app.config,
        configSnapshots: app.configSnapshots,
    };
}
