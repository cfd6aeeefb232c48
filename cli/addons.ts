import { AddOnPlan } from "../components/addon-plans";
import { connectDocker } from "../infra/docker/client";
import { ADDON_LABEL, dockerName, LABEL } from "../infra/docker/labels";
import { GlobalOptions } from "./options";
import { checkStack, projectDir } from "./project";
import { AppOutputs } from "./stack-outputs";
import { readStackFile, validateSettings } from "./stack-settings";

/** One add-on of a stack as the CLI shows it: what the stack asks for, and what Docker runs. */
export interface AddonView {
    name: string;
    plan: AddOnPlan;
    /** Heroku tier when app.json named one (`essential-0`). */
    tier?: string;
    /** The config var it is attached as. */
    varName: string;
    /** `stack` (dynoform:addons in the stack file) or `app.json`. */
    from: "stack" | "app.json";
    /** `<app>.<stack>.<name>-data` (or the name an older deployment gave it). */
    volume: string;
    volumeExists: boolean;
    container?: string;
    /** Docker's state (`running`), with health when it has one: `running (healthy)`; `missing` when there is no container. */
    state: string;
}

/** `postgres://app:secret@postgres:5432/app` -> `postgres://app:********@postgres:5432/app`. Pure. */
export function maskUrl(url: string): string {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/]*):[^@/]*@/i, "$1:********@");
}

/** The add-ons of the stack in `--cwd`, from the stack file and app.json, with their Docker state. */
export async function listAddons(argv: Pick<GlobalOptions, "cwd" | "stack">): Promise<{ app: string; addons: AddonView[] }> {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    const view = readStackFile(dir, argv.stack);
    const definition = validateSettings(dir, view, argv.stack);
    const app = view.settings.app;
    const docker = connectDocker();
    const containers = await docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.app}=${app}`, `${LABEL.stack}=${argv.stack}`, ADDON_LABEL] },
    });
    const addons: AddonView[] = [];
    for (const a of definition.addons) {
        // Found by its owner labels: a volume of an older deployment keeps its older name.
        const owned = await docker.listVolumes({
            filters: { label: [`${LABEL.app}=${app}`, `${LABEL.stack}=${argv.stack}`, `${ADDON_LABEL}=${a.name}`] },
        });
        const volume = owned.Volumes?.[0]?.Name ?? dockerName.dataVolume(app, argv.stack, a.name);
        const volumeExists = owned.Volumes?.length > 0;
        const c = containers.find((x) => x.Labels[ADDON_LABEL] === a.name);
        const health = c && /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1];
        addons.push({
            name: a.name,
            plan: a.plan,
            tier: a.tier,
            varName: a.varName,
            from: view.settings.addons && a.name in view.settings.addons ? "stack" : "app.json",
            volume,
            volumeExists,
            container: c?.Names[0]?.replace(/^\//, ""),
            state: c ? `${c.State}${health ? ` (${health})` : ""}` : "missing",
        });
    }
    return { app, addons };
}

/** The attachment URL of an add-on from the stack's outputs, when deployed. */
export function attachmentUrlOf(outputs: AppOutputs, a: Pick<AddonView, "varName">): string | undefined {
    return outputs.attachments?.[a.varName];
}
