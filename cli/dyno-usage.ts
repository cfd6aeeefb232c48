import type Docker = require("dockerode");

// What `ps` adds to a dyno's state: its memory and CPU use against its size, and why it last
// stopped (Heroku's words: crashed with exit N, R15 OOM-killed, restarted by Docker).

/** Memory and CPU a running dyno uses now. */
export interface DynoUsage {
    /** MiB in use (page cache that can be dropped not counted, as `docker stats`), and the limit. */
    memoryMb: number;
    limitMb: number;
    /** Percent of the limit. */
    memoryPercent: number;
    /** Percent of one CPU over the last second (100 = one core busy). */
    cpuPercent: number;
}

/** Why a dyno last stopped. */
export interface LastStop {
    /** When it stopped (ISO). */
    at: string;
    reason: "oom-killed" | "crashed" | "exited";
    exitCode: number;
    /** Heroku's code: R15 for a kill for memory. */
    error?: "R15";
    /** Docker started it again (its restart policy); false when it stays stopped. */
    restartedByDocker: boolean;
}

/** Numbers from Docker's stats (`GET /containers/{id}/stats?stream=false`), cgroup v1 or v2. Pure. */
export function usageOf(s: Docker.ContainerStats): DynoUsage | undefined {
    const mem = s.memory_stats;
    if (!mem || typeof mem.usage !== "number" || !mem.limit) return undefined;
    const st = (mem.stats ?? {}) as Record<string, number | undefined>;
    const cache = st.inactive_file ?? st.total_inactive_file ?? 0;
    const used = Math.max(0, mem.usage - cache);
    const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
    const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
    const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
    const cpuPercent = s.precpu_stats?.system_cpu_usage && sysDelta > 0 && cpuDelta >= 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
    return {
        memoryMb: Math.round((used / 2 ** 20) * 10) / 10,
        limitMb: Math.round(mem.limit / 2 ** 20),
        memoryPercent: Math.round((used / mem.limit) * 1000) / 10,
        cpuPercent: Math.round(cpuPercent * 10) / 10,
    };
}

/**
 * Why a container last stopped, from `docker inspect`'s State and restart count and the times the
 * kernel OOM-killed it (engine events: Docker clears `OOMKilled` when it restarts it). Undefined
 * when it never stopped. Pure.
 */
export function lastStopOf(
    state: { Running: boolean; Restarting: boolean; ExitCode: number; OOMKilled: boolean; FinishedAt: string },
    restartCount: number,
    oomKills: string[],
    /** The exit code of the last `die` event: Docker resets State.ExitCode to 0 when it restarts a container. */
    lastDieExitCode?: number,
): LastStop | undefined {
    const at = Date.parse(state.FinishedAt);
    if (!state.FinishedAt || Number.isNaN(at) || at <= 0) return undefined;
    const lastOom = oomKills.length ? Date.parse(oomKills[oomKills.length - 1]) : NaN;
    // The OOM event comes just before the exit it causes.
    const oom = state.OOMKilled || (!Number.isNaN(lastOom) && Math.abs(at - lastOom) < 5000);
    const restarted = state.Running || state.Restarting;
    const exitCode = restarted ? (lastDieExitCode ?? (oom ? 137 : state.ExitCode)) : state.ExitCode;
    return {
        at: new Date(at).toISOString(),
        reason: oom ? "oom-killed" : exitCode !== 0 ? "crashed" : "exited",
        exitCode,
        ...(oom ? { error: "R15" as const } : {}),
        restartedByDocker: restartCount > 0 && restarted,
    };
}

/** `mem 45.2/512 MiB 8.8%, cpu 1.5%`. Pure. */
export function usageText(u: DynoUsage): string {
    return `mem ${u.memoryMb}/${u.limitMb} MiB ${u.memoryPercent}%, cpu ${u.cpuPercent}%`;
}

/** `last stop 16:20:01: R15 OOM-killed (exit 137), restarted by Docker`, in local time as `ps` prints times. Pure. */
export function lastStopText(s: LastStop): string {
    const why = s.reason === "oom-killed" ? `R15 OOM-killed (exit ${s.exitCode})` : s.reason === "crashed" ? `crashed with exit ${s.exitCode}` : "exited with 0";
    return `last stop ${new Date(s.at).toTimeString().slice(0, 8)}: ${why}${s.restartedByDocker ? ", restarted by Docker" : ""}`;
}

/** The usage of running containers by name, read in parallel (each read takes about a second: two samples). */
export async function dynoUsage(docker: Docker, containers: string[]): Promise<Map<string, DynoUsage>> {
    const out = new Map<string, DynoUsage>();
    await Promise.all(
        containers.map(async (name) => {
            const stats = (await docker.getContainer(name).stats({ stream: false }).catch(() => undefined)) as Docker.ContainerStats | undefined;
            const u = stats && usageOf(stats);
            if (u) out.set(name, u);
        }),
    );
    return out;
}

/** The exit code of a container's last `die` event since `created`, from the engine's event log. */
export async function lastDieExitCode(docker: Docker, id: string, created: string): Promise<number | undefined> {
    try {
        const stream = (await docker.getEvents({
            since: Math.floor(Date.parse(created) / 1000),
            until: Number((Date.now() / 1000).toFixed(3)),
            filters: { type: ["container"], container: [id], event: ["die"] },
        })) as NodeJS.ReadableStream;
        let text = "";
        for await (const chunk of stream) text += chunk.toString();
        const last = text.split("\n").filter((l) => l.trim()).pop();
        const code = last ? Number((JSON.parse(last) as { Actor?: { Attributes?: Record<string, string> } }).Actor?.Attributes?.exitCode) : NaN;
        return Number.isInteger(code) ? code : undefined;
    } catch {
        return undefined;
    }
}
