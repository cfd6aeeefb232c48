import * as pulumi from "@pulumi/pulumi";
import { App } from "../components/app";
import { LoadedStack, loadStack, programStackFile } from "./stack-file";
import { appSources } from "./settings";
import { resolveHostFiles } from "./swarm/cluster-setting";
import type { FailedRelease } from "./release";

/** What the CLI passes to one run of the program, beside the stack config. */
export interface ProgramOverrides {
    /** Describes the release this run makes (`Scale web=3`, `Rollback to v4`). */
    releaseDescription?: string;
    /** This run records a release even when nothing the dynos run changes (`rollback`). */
    newRelease?: boolean;
    /**
     * Called during an `up` with the release and URL the run deployed, so the CLI need not ask
     * `pulumi stack output` for them afterwards (not called by a preview: the values are unknown).
     */
    deployed?: (outputs: { releaseVersion: number; url: string }) => void;
    /**
     * How many dynos of each type the last deployment runs (the plan's read of the stack's
     * outputs; `{}` before the first `up`): new dynos then start side by side. Read when the
     * program runs, so the CLI may set it after opening the stack.
     */
    running?: Record<string, number>;
    /** Puts a release back after a failed rollout (cli/rollout-revert.ts): its image and exact config, and the failure to record. */
    revert?: { imageId: string; config: Record<string, string>; failed: FailedRelease };
}

/**
 * The Pulumi program: one {@link App} from the stack file as the loader read it. The CLI
 * passes the stack it has already loaded and validated (`loaded`), so the program neither reads
 * the file again nor validates the app again; a plain `pulumi up` (`infra/main.ts`) loads it here
 * through the same loader. Only secret values come from the engine's config (decrypted there).
 * Returns the stack outputs the CLI reads (`url`, `releaseVersion`, `releases`, `imageDigest`,
 * `dynos`, `formation`).
 */
export async function appProgram(projectDir: string = process.cwd(), overrides: ProgramOverrides = {}, loaded?: LoadedStack) {
    const { view, definition } = loaded ?? loadStack(projectDir, pulumi.getStack(), {}, programStackFile(projectDir, pulumi.getStack()));
    const settings = view.settings;
    const secrets = new pulumi.Config("dynoform").getSecretObject<Record<string, string>>("secrets");
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
        running: overrides.running,
        definition,
        scheduler: settings.scheduler,
        healthchecks: settings.healthchecks,
        stopGraceSeconds: settings.stopGraceSeconds,
        cluster: settings.cluster && { workers: (settings.cluster.workers ?? []).map((w) => resolveHostFiles(w, projectDir)) },
        revert: revert && { config: pulumi.secret(revert.config), failed: revert.failed },
    });
    const { deployed } = overrides;
    if (deployed) pulumi.all([app.releaseVersion, app.url]).apply(([releaseVersion, url]) => deployed({ releaseVersion, url }));
    return {
        app: settings.app,
        url: app.url,
        releaseVersion: app.releaseVersion,
        releases: app.releases,
        imageDigest: app.imageDigest,
        imageRef: app.imageRef,
        dynos: app.dynos,
        formation: app.formation,
        addonAttachments: app.addonAttachments,
        attachments: app.attachments,
        config: app.config,
        configSnapshots: app.configSnapshots,
        schedulerJobs: app.schedulerJobs,
    };
}
