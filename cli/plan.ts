import type { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { diffFormation, FormationChange, formationMemory, PlannedProcess } from "../components/formation-plan";
import { connectDocker } from "../infra/docker/client";
import type { HostMemory } from "../infra/docker/memory";
import { readStackConfig, readStackOutputs } from "../infra/engine/stack-read";
import type { LoadedStack } from "../infra/stack-file";
import { HostRead, stackDrift, stackMemory } from "./host-read";
import { AppOutputs, appOutputs } from "./stack-outputs";

/** What a deploy of the stack would change, in Heroku's words. */
export interface AppPlan {
    /** A pinned image (promote, rollback) that differs from the one running. */
    image?: { from: string; to: string };
    formation: FormationChange[];
    config: { changed: string[]; added: string[]; removed: string[] };
    /** Add-ons attached or detached (by name, with their attachment var). */
    addons: { added: string[]; removed: string[] };
    /**
     * The release the change would make (current + 1), or the current one when neither the image,
     * the config vars nor the add-ons change (scaling and resizing are not releases, as on Heroku).
     */
    nextRelease: number;
    currentRelease: number;
    memory: HostMemory;
    /** What of the last deployment the host read found missing or stopped: `up` refreshes and heals it. */
    drift: string[];
    /** The scheduled jobs the last deployment runs, as its outputs recorded them (undefined: not recorded). */
    deployedJobs?: Array<{ name: string; schedule: string; what: string }>;
    /** What the deploy leaves out: app.json's add-ons Dynoform does not run, one line each. */
    warnings: string[];
    /** Dynos per process type the last deployment runs (`{}` before the first); undefined when its outputs do not say. */
    running?: Record<string, number>;
}

type DeployedFormation = Record<string, { quantity: number; size: string }>;

/**
 * Compares what the loaded stack file asks for with what the last `up` deployed (the stack's
 * outputs: one `pulumi stack output`, which the caller may have started already: `lastOutputs`) and
 * with the host as `host` read it (memory, drift). Plain config vars come from the loaded file;
 * only when the stack has secret config vars is `pulumi config` asked for their values.
 */
export async function planApp(stack: Stack, loaded: LoadedStack, host: HostRead, lastOutputs?: Promise<AppOutputs>): Promise<AppPlan> {
    const { view, definition } = loaded;
    const ws = stack.workspace as LocalWorkspace;
    const ref = { projectDir: ws.workDir, stack: stack.name, env: ws.envVars };
    const hasSecrets = view.secretKeys.length > 0 || loaded.text.includes("dynoform:secrets");
    const [outputs, secrets] = await Promise.all([
        lastOutputs ?? readStackOutputs(ref).then(appOutputs),
        hasSecrets ? readStackConfig(ref).then((all) => all["dynoform:secrets"]) : Promise.resolve(undefined),
    ]);
    const app = view.settings.app;
    const pinnedImage = view.settings.image;
    const running = outputs.imageDigest ?? "";
    const image = pinnedImage && running && pinnedImage !== running ? { from: running, to: pinnedImage } : undefined;
    const deployedFormation: DeployedFormation = outputs.formation ?? {};
    const desiredFormation: DeployedFormation = Object.fromEntries(
        definition.plan.map((p) => [p.type, { quantity: p.quantity, size: p.size.name }]),
    );
    const where = view.settings.cluster ? "cluster" : "host";
    const formation = diffFormation(outputs.formation ? deployedFormation : {}, desiredFormation, where);

    const desired: Record<string, string> = { ...definition.configDefaults, ...(view.settings.config ?? {}) };
    if (secrets) Object.assign(desired, JSON.parse(secrets));
    const deployed = { ...(outputs.config ?? {}) };
    for (const k of definition.generatedSecrets) delete deployed[k];
    const keys = new Set([...Object.keys(desired), ...Object.keys(deployed)]);
    const config = { changed: [] as string[], added: [] as string[], removed: [] as string[] };
    for (const k of [...keys].sort()) {
        if (!(k in deployed)) config.added.push(k);
        else if (!(k in desired)) config.removed.push(k);
        else if (String(desired[k]) !== String(deployed[k])) config.changed.push(k);
    }
    const currentRelease = Number(outputs.releaseVersion ?? 0);
    const addons = diffAddons(outputs.addonAttachments ?? {}, Object.fromEntries(definition.addons.map((a) => [a.name, a.varName])));
    const released = Boolean(image) || config.changed.length + config.added.length + config.removed.length + addons.added.length + addons.removed.length > 0;
    const imagePresent = outputs.imageDigest ? await imageOnHost(outputs.imageDigest) : undefined;
    return {
        image,
        formation,
        config,
        addons,
        currentRelease,
        // Failed releases take numbers too (cli/rollout-revert.ts): the next counts past them.
        nextRelease: released || currentRelease === 0 ? Math.max(currentRelease, ...(outputs.releases ?? []).map((r) => r.version)) + 1 : currentRelease,
        memory: stackMemory(host, app, stack.name, formationMemory(definition.plan)),
        // On a cluster the dynos are tasks Swarm itself keeps running, not containers on this engine.
        drift: currentRelease === 0 || view.settings.cluster ? [] : stackDrift({ ...host, imagePresent }, app, stack.name, outputs),
        warnings: definition.skippedAddons,
        deployedJobs: currentRelease === 0 ? [] : outputs.schedulerJobs,
        running: currentRelease === 0 ? {} : outputs.formation && Object.fromEntries(Object.entries(deployedFormation).map(([t, f]) => [t, f.quantity])),
    };
}

async function imageOnHost(image: string): Promise<boolean> {
    return connectDocker().getImage(image).inspect().then(() => true, () => false);
}

/** Add-ons attached (`name as VAR`) and detached between two `{ name: VAR }` maps. Pure. */
export function diffAddons(deployed: Record<string, string>, desired: Record<string, string>): AppPlan["addons"] {
    const show = (name: string, v: string) => `${name} as ${v}`;
    const key = (name: string, v: string) => `${name}\0${v}`;
    const was = new Set(Object.entries(deployed).map(([n, v]) => key(n, v)));
    const will = new Set(Object.entries(desired).map(([n, v]) => key(n, v)));
    return {
        added: Object.entries(desired).filter(([n, v]) => !was.has(key(n, v))).map(([n, v]) => show(n, v)).sort(),
        removed: Object.entries(deployed).filter(([n, v]) => !will.has(key(n, v))).map(([n, v]) => show(n, v)).sort(),
    };
}

/** Where the memory is: the Docker host, or the cluster's nodes that take tasks. */
function memoryPlace(m: AppPlan["memory"]): string {
    return m.nodes === undefined ? "the Docker host" : `the cluster's ${m.nodes} active node${m.nodes === 1 ? "" : "s"}`;
}

/** The one-line refusal of a formation the Docker host cannot hold, naming what it asks for. */
export function notEnoughMemory(plan: PlannedProcess[], m: AppPlan["memory"]): string {
    const asked = plan.filter((p) => p.quantity > 0).map((p) => `${p.type}: ${p.quantity} x ${p.size.name}`).join(", ");
    if (m.availableMb >= m.neededMb && m.largestDynoMb !== undefined && m.largestFreeMb !== undefined && m.largestDynoMb > m.largestFreeMb) {
        return (
            `not enough memory on any one node of the cluster: \`formation\` (${asked}) has dynos of ${m.largestDynoMb} MiB, ` +
            `and the most one node has free is ${m.largestFreeMb} MiB (Swarm places each dyno whole on one node); nothing was changed`
        );
    }
    return (
        `not enough memory on ${memoryPlace(m)}: \`formation\` (${asked}) needs ${m.neededMb} MiB, ` +
        `${m.availableMb} MiB of ${m.totalMb} MiB is not reserved by other apps; nothing was changed`
    );
}

/** The plan as lines for a terminal. */
export function formatPlan(plan: AppPlan): string[] {
    const lines: string[] = [];
    const short = (id: string) => id.replace(/^sha256:/, "").slice(0, 12);
    if (plan.image) lines.push(`Image: ${short(plan.image.from)} -> ${short(plan.image.to)} (every dyno rolls)`);
    if (plan.formation.length) {
        lines.push("Formation:");
        for (const c of plan.formation) lines.push(`  ${c.text}`);
    }
    const { changed, added, removed } = plan.config;
    const parts = [
        changed.length ? `${changed.length} changed (${changed.join(", ")})` : "",
        added.length ? `${added.length} added (${added.join(", ")})` : "",
        removed.length ? `${removed.length} removed (${removed.join(", ")})` : "",
    ].filter(Boolean);
    if (parts.length) lines.push(`Config: ${parts.join(", ")}`);
    const { added: attached, removed: detached } = plan.addons;
    const addonParts = [attached.length ? `${attached.join(", ")} attached` : "", detached.length ? `${detached.join(", ")} detached` : ""].filter(Boolean);
    if (addonParts.length) lines.push(`Add-ons: ${addonParts.join(", ")}`);
    lines.push(formatReleaseLine(plan));
    const m = plan.memory;
    lines.push(
        `Memory: the formation needs ${m.neededMb} MiB; ${m.availableMb} MiB of ${m.totalMb} MiB on ${memoryPlace(m)} is not reserved by other apps` +
            (m.largestFreeMb === undefined ? "" : ` (at most ${m.largestFreeMb} MiB on one node; its biggest dyno needs ${m.largestDynoMb})`) +
            (m.fits ? "" : " — NOT ENOUGH"),
    );
    if (plan.drift.length) lines.push(`Drift: ${plan.drift.join(", ")} (\`up\` refreshes and heals it)`);
    for (const w of plan.warnings) lines.push(`warning: ${w}`);
    return lines;
}

/**
 * The plan's release line. Pure. A formation-only change says it makes no release; when the app
 * is built from source, a code change found by the build makes one too.
 */
export function formatReleaseLine(plan: Pick<AppPlan, "currentRelease" | "nextRelease" | "formation">): string {
    if (plan.nextRelease !== plan.currentRelease) return `Release: v${plan.currentRelease || "-"} -> v${plan.nextRelease}`;
    const why = plan.formation.length ? "a formation change is not a release" : "no image, config or add-on change";
    return `Release: v${plan.currentRelease} (${why})`;
}
