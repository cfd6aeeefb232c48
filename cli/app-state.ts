import * as fs from "fs";
import { APP_TYPE } from "../components/app-definition";
import type Docker = require("dockerode");
import { sizeOfLimits } from "../components/dyno-size";
import { connectDocker } from "../infra/docker/client";
import { containerRole, LABEL, roleFilter } from "../infra/docker/labels";
import { readDeployedResources } from "../infra/engine/stack-read";
import type { ReleaseRecord } from "../infra/release";
import { DynoUsage, lastDieExitCode, LastStop, lastStopOf } from "./dyno-usage";
import { UsageError } from "./errors";
import { GlobalOptions } from "./options";
import { checkStack, projectDir, stackFile } from "./project";
import { AppOutputs, appOutputs, readAppOutputs } from "./stack-outputs";
import { readStackFile } from "./stack-settings";

/**
 * The app named in the stack file, and the stack's outputs from its last `up` (empty before the
 * first). A stack without a Dynoform stack file, made by a plain Pulumi program that uses `App`,
 * is read from the App's outputs in its state.
 */
export async function stackOutputs(argv: GlobalOptions): Promise<{ app: string; outputs: AppOutputs }> {
    const dir = projectDir(argv);
    if (!fs.existsSync(stackFile(dir, argv.stack))) return appInState(dir, argv.stack);
    const outputs = await readAppOutputs(argv);
    return { app: readStackFile(dir, argv.stack).settings.app, outputs };
}

/** The app's name: from the stack file, else from the App in the stack's state (see {@link stackOutputs}). */
export async function stackApp(argv: GlobalOptions): Promise<string> {
    const dir = projectDir(argv);
    if (!fs.existsSync(stackFile(dir, argv.stack))) return (await appInState(dir, argv.stack)).app;
    const app = readStackFile(dir, argv.stack).settings.app;
    if (!app) throw new UsageError(`stacks/Pulumi.${argv.stack}.yaml has no dynoform:app`);
    return app;
}

/** The one `App` of a stack made by any Pulumi program, from its state (no secret is decrypted). */
async function appInState(dir: string, stack: string): Promise<{ app: string; outputs: AppOutputs }> {
    checkStackName(dir, stack);
    const apps = await readDeployedResources({ projectDir: dir, stack }, APP_TYPE);
    if (apps.length === 0) checkStack(dir, stack);
    if (apps.length > 1) {
        throw new UsageError(`stack "${stack}" has ${apps.length} Dynoform Apps (${apps.map((a) => a.name).join(", ")}); these commands read a stack with one`);
    }
    const { name, outputs } = apps[0];
    return { app: typeof outputs.appName === "string" ? outputs.appName : name, outputs: appOutputs(outputs) };
}

/** A bad stack name is refused before the backend is asked. */
function checkStackName(dir: string, stack: string): void {
    try {
        checkStack(dir, stack);
    } catch (err) {
        if (err instanceof UsageError && err.message.startsWith("--stack")) throw err;
    }
}

/** Release history, oldest first. */
export function releasesOf(outputs: AppOutputs): ReleaseRecord[] {
    return outputs.releases ?? [];
}

/** A dyno as `ps` shows it: read from Docker, so crashes and removals are visible. */
export interface DynoStatus {
    dyno: string;
    type: string;
    index: number;
    state: "up" | "crashed" | "restarting" | "starting" | "missing" | "stopped";
    since: string;
    size: string;
    release: string;
    restarts: number;
    /** On a Swarm cluster: the node the dyno runs on, and its task's ID. */
    node?: string;
    task?: string;
    exitCode?: number;
    container?: string;
    /** Heroku's error code of the last crash: `R15` when the kernel killed it for memory. */
    error?: "R15";
    /** When the dyno was last OOM-killed (ISO time), and how many times since it was created. */
    oomKilledAt?: string;
    oomKills?: number;
    /** Why it last stopped, when it ever did (crashed, OOM-killed; restarted by Docker or not). */
    lastStop?: LastStop;
    /** Memory and CPU use now, for running dynos (`ps` reads it). */
    usage?: DynoUsage;
}

/** MiB from Docker's byte counts. */
const MIB = 2 ** 20;

/** The words `ps` prints for a dyno's last OOM kill (Heroku's R15), with its local time. Pure. */
export function oomText(at: string, kills: number): string {
    const time = new Date(at).toTimeString().slice(0, 8);
    return `R15: memory quota vastly exceeded, OOM-killed at ${time}${kills > 1 ? `, ${kills} times` : ""}`;
}

/** Times (ISO) the kernel OOM-killed a container, oldest first, from the engine's event log. */
async function oomKills(docker: Docker, id: string, created: string): Promise<string[]> {
    try {
        const stream = (await docker.getEvents({
            since: Math.floor(Date.parse(created) / 1000),
            until: Number((Date.now() / 1000).toFixed(3)),
            filters: { type: ["container"], container: [id], event: ["oom"] },
        })) as NodeJS.ReadableStream;
        let text = "";
        for await (const chunk of stream) text += chunk.toString();
        return text
            .split("\n")
            .filter((line) => line.trim())
            .map((line) => JSON.parse(line) as { timeNano?: number; time?: number })
            .map((e) => new Date(e.timeNano ? e.timeNano / 1e6 : (e.time ?? 0) * 1000).toISOString());
    } catch {
        return [];
    }
}

/**
 * Heroku's dyno states from Docker's container state. Pure. A dyno Docker is waiting to restart
 * after a failure (non-zero exit or OOM kill) is crashed, as on Heroku: in a crash loop that is
 * most of the time, with Docker's back-off between attempts.
 */
export function dynoState(s: { Status: string; Running: boolean; Restarting: boolean; ExitCode: number; OOMKilled: boolean }): DynoStatus["state"] {
    if (s.Restarting) return s.OOMKilled || s.ExitCode !== 0 ? "crashed" : "restarting";
    if (s.Running) return "up";
    if (s.Status === "created") return "starting";
    if (s.OOMKilled || s.ExitCode !== 0) return "crashed";
    return "stopped";
}

/** Dynos of an app's stack from Docker, plus those the last `up` declared that have no container (missing). */
export async function dynoStatuses(app: string, stack: string, outputs: AppOutputs): Promise<DynoStatus[]> {
    const docker = connectDocker();
    const containers = await docker.listContainers({
        all: true,
        filters: { label: roleFilter("dyno", app, stack) },
    });
    const history = releasesOf(outputs);
    const versionOf = (releaseId: string) => {
        const hit = [...history].reverse().find((r) => r.releaseId === releaseId);
        return hit ? `v${hit.version}` : releaseId || "-";
    };
    const found: DynoStatus[] = [];
    for (const c of containers) {
        const l = c.Labels;
        if (containerRole(l) !== "dyno") continue;
        const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
        if (!info) continue;
        const state = dynoState(info.State);
        // The size from the limits the container runs with: a resize updates them in place.
        const memoryMb = Math.round((info.HostConfig.Memory ?? 0) / MIB);
        const size = memoryMb > 0 ? sizeOfLimits(memoryMb, info.HostConfig.CpuShares ?? 1024, [l[LABEL.size], outputs.formation?.[l[LABEL.processType]]?.size]) : l[LABEL.size] || "-";
        // Docker clears State.OOMKilled when it starts the container again: the event log keeps the kills.
        const ooms = info.State.OOMKilled || info.RestartCount > 0 ? await oomKills(docker, c.Id, info.Created) : [];
        if (info.State.OOMKilled && ooms.length === 0) ooms.push(info.State.FinishedAt);
        found.push({
            dyno: l[LABEL.dyno],
            type: l[LABEL.processType],
            index: Number(l[LABEL.index]),
            state,
            since: state === "up" ? info.State.StartedAt : info.State.FinishedAt,
            size,
            release: versionOf(l[LABEL.release]),
            restarts: info.RestartCount,
            exitCode: state === "up" ? undefined : info.State.ExitCode,
            container: c.Names[0]?.replace(/^\//, ""),
            ...(ooms.length ? { error: "R15" as const, oomKilledAt: ooms[ooms.length - 1], oomKills: ooms.length } : {}),
        });
        const restarted = info.RestartCount > 0 && (info.State.Running || info.State.Restarting);
        const lastStop = lastStopOf(info.State, info.RestartCount, ooms, restarted ? await lastDieExitCode(docker, c.Id, info.Created) : undefined);
        if (lastStop) found[found.length - 1].lastStop = lastStop;
    }
    const declared = outputs.dynos ?? {};
    for (const [type, names] of Object.entries(declared)) {
        for (const name of names) {
            if (!found.some((d) => d.dyno === name)) {
                found.push({ dyno: name, type, index: Number(name.split(".")[1]), state: "missing", since: "", size: "-", release: "-", restarts: 0 });
            }
        }
    }
    return found.sort((a, b) => a.type.localeCompare(b.type) || a.index - b.index);
}

/** "3m ago" style ages. Pure. */
export function age(iso: string, now = Date.now()): string {
    const t = Date.parse(iso);
    if (!iso || Number.isNaN(t) || t <= 0) return "";
    const s = Math.max(0, Math.round((now - t) / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.round(s / 60)}m ago`;
    if (s < 86400) return `${Math.round(s / 3600)}h ago`;
    return `${Math.round(s / 86400)}d ago`;
}
