import * as fs from "fs";
import * as path from "path";
import type { AppArgs } from "../components/app";
import { AddOnRequest } from "../components/app-definition";
import { FormationSpec } from "../components/formation-plan";
import type { SchedulerJobRequest } from "../components/scheduler";
import type { ClusterSetting } from "./swarm/cluster-setting";

// The stack settings and what both the program and the CLI's checks derive from them. Pure and
// free of the Pulumi SDK: commands that only validate a stack file load this, not the program.

/** The stack settings Dynoform reads from `stacks/Pulumi.<stack>.yaml` (namespace `dynoform`). */
export interface StackSettings {
    /** App name. */
    app: string;
    /** Source folder, relative to the project. */
    source?: string;
    /** A prebuilt image instead of `source` (set by `promote` and `rollback`). */
    image?: string;
    /**
     * Set by `rollback` with `image`: the source folder's content hash then. Once the source
     * differs, the next deploy drops both and builds the source again (as Heroku's next push).
     */
    rollbackSourceHash?: string;
    procfile?: string;
    appJson?: string;
    formation?: FormationSpec;
    addons?: Record<string, AddOnRequest>;
    /** Plain config vars. */
    config?: Record<string, string>;
    routerPort?: number;
    routerHost?: string;
    /** The Docker engine the stack runs on: `ssh://user@host[:port]`, `tcp://host:2376`, or unset for the local socket. */
    dockerHost?: string;
    /** A Docker Swarm cluster to run on instead of one engine (`infra/swarm/cluster-setting.ts`). */
    cluster?: ClusterSetting;
    releaseDescription?: string;
    /** Accepted so older stack files load, never read: only `destroy --delete-addon-data` deletes data. */
    deleteAddonDataOnDestroy?: boolean;
    /** Restart tokens (`dynoform ps:restart`). */
    restarts?: Record<string, string>;
    /** The app's domains on the host's edge router (`dynoform domains:add`); read by the CLI only. */
    domains?: string[];
    /** The edge router's ports and the app's ACME settings (cli/edge.ts); read by the CLI only. */
    edge?: Record<string, unknown>;
    /** Maintenance mode (`dynoform maintenance:on`): the edge answers 503 with a page; read by the CLI only. */
    maintenance?: boolean;
    /** Scheduled jobs by name (`scheduler:add`, `pg:backups:schedule`). */
    scheduler?: Record<string, SchedulerJobRequest>;
    /** Startup checks per process type, as app.json's `healthchecks` (replaces app.json's for the types it names). */
    healthchecks?: Record<string, unknown>;
    /** Seconds between SIGTERM and SIGKILL by process type (`{ worker: 120 }`); 30 for a type not named. */
    stopGraceSeconds?: Record<string, number | string>;
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
