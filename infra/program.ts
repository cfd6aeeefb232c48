import * as pulumi from "@pulumi/pulumi";
import { App } from "../components/app";
import { AddOnRequest } from "../components/app-definition";
import { DynoformInputError } from "../components/errors";
import { FormationSpec } from "../components/formation-plan";
import type { FailedRelease } from "./release";
import { appSources, configVars, normalizeFormation, StackSettings } from "./settings";

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
        restarts: config.getObject<Record<string, string>>("restarts"),
        healthchecks: config.getObject<Record<string, unknown>>("healthchecks"),
    };
    return { settings, secrets: config.getSecretObject<Record<string, string>>("secrets") };
}

/** What the CLI passes to one run of the program, beside the stack config. */
export interface ProgramOverrides {
    /** Describes the release this run makes (`Scale web=3`, `Rollback to v4`). */
    releaseDescription?: string;
    /** This run records a release even when nothing the dynos run changes (`rollback`). */
    newRelease?: boolean;
    /** Puts a release back after a failed rollout (cli/rollout-revert.ts): its image and exact config, and the failure to record. */
    revert?: { imageId: string; config: Record<string, string>; failed: FailedRelease };
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
    const revert = overrides.revert;
    const app = new App(settings.app, {
        ...appSources(revert ? { ...settings, image: revert.imageId } : settings, projectDir),
        formation: settings.formation,
        addons: settings.addons,
        config: { ...(settings.config ?? {}), ...secretVars },
        routerPort: settings.routerPort,
        routerHost: settings.routerHost,
        releaseDescription: overrides.releaseDescription ?? settings.releaseDescription,
        releaseRequest: overrides.newRelease ? require("crypto").randomUUID() : undefined,
        restarts: settings.restarts,
        healthchecks: settings.healthchecks,
        revert: revert && { config: pulumi.secret(revert.config), failed: revert.failed },
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
