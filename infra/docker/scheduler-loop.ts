import * as http from "http";
import { cronMatches, CronSchedule, parseCron } from "../../components/cron";
import type { SchedulerInputs } from "./scheduler";

// The cron loop that runs inside an app's scheduler container (see scheduler.ts). It is sent to
// the container as its command, bundled with components/cron.ts: it may use Node's own modules
// only. It talks to the Docker Engine API on the mounted socket with plain HTTP.

/** A job as the loop receives it: the command or the backup script is final. */
export interface LoopJob {
    name: string;
    schedule: string;
    /** What it does, in words (`preview` compares it). */
    what?: string;
    /** A one-off dyno's shell line. */
    command?: string;
    /** A scheduled backup: a helper container of the Postgres image on the backups volume. */
    backup?: {
        image: string;
        /** The attachment var holding the add-on's URL (`DATABASE_URL`): libpq's env comes from it. */
        urlVar: string;
        volume: string;
        volumeLabels: Record<string, string>;
        mountPath: string;
        script: string;
    };
}

/** Everything the loop needs, passed as JSON in `DYNOFORM_SCHEDULER`: the resource's run fields and how to start runs. */
export type LoopSpec = Pick<SchedulerInputs, "image" | "env" | "network" | "memoryMb" | "cpuShares" | "jobs"> & {
    /** How to reach the Engine API: a socket path, or host and port. */
    docker: { socketPath?: string; host?: string; port?: number };
    /** Labels on every container a job starts (owner, role). */
    labels: Record<string, string>;
    /** The label key that names a job's container: `<key>=scheduler.<job>`. */
    jobLabel: string;
    /** Container names are `<namePrefix>.<job>.<time>`. */
    namePrefix: string;
    /** Real seconds a cron minute lasts: 60, or fewer under a test's clock (see {@link loopClock}). */
    tickSeconds?: number;
};

/**
 * The loop's clock, from `origin` (a whole minute, in ms): cron minutes that last `tickSeconds`
 * real seconds (60: the wall clock itself; a test's clock runs faster, 60 / tickSeconds times,
 * so a job every minute runs every `tickSeconds`). Pure.
 */
export function loopClock(tickSeconds: number, origin: number): { minuteAt(real: number): number; realTimeOf(minute: number): number } {
    const scale = 60 / tickSeconds;
    return {
        /** The cron minute (minutes since the epoch) at a real time. */
        minuteAt: (real) => Math.floor((origin + (real - origin) * scale) / 60_000),
        /** The real time a cron minute begins. */
        realTimeOf: (minute) => origin + (minute * 60_000 - origin) / scale,
    };
}

/** The one log line of a skipped run: the run still going is named by its container. Pure. */
export function skipLine(job: string, due: Date, running: string): string {
    return `${job}: skipped the run due at ${due.toISOString()}: ${running} is still running`;
}

/** `postgres://u:p@host:5432/db` as libpq's variables: the password never on a command line. Pure. */
export function libpqEnvOf(url: string): Record<string, string> {
    const u = new URL(url);
    return {
        PGHOST: u.hostname,
        PGPORT: u.port || "5432",
        PGUSER: decodeURIComponent(u.username),
        PGPASSWORD: decodeURIComponent(u.password),
        PGDATABASE: decodeURIComponent(u.pathname.replace(/^\//, "")),
    };
}

/** The create body of a job's container. Pure. */
export function jobContainer(spec: LoopSpec, job: LoopJob, dyno: string): Record<string, unknown> {
    const labels = { ...spec.labels, [spec.jobLabel]: dyno };
    const limits = { Memory: spec.memoryMb * 2 ** 20, MemorySwap: spec.memoryMb * 2 ** 20, CpuShares: spec.cpuShares };
    const env = (e: Record<string, string>) => Object.entries(e).map(([k, v]) => `${k}=${v}`);
    if (job.backup) {
        const url = spec.env[job.backup.urlVar] ?? "";
        return {
            Image: job.backup.image,
            Entrypoint: ["/bin/sh", "-c"],
            Cmd: [job.backup.script],
            Env: env(url ? libpqEnvOf(url) : {}),
            Labels: labels,
            HostConfig: { ...limits, NetworkMode: spec.network, Init: true, Mounts: [{ Type: "volume", Source: job.backup.volume, Target: job.backup.mountPath }] },
        };
    }
    return {
        Image: spec.image,
        Cmd: ["/bin/sh", "-c", job.command ?? "true"],
        Env: env({ ...spec.env, DYNO: dyno }),
        Labels: labels,
        HostConfig: { ...limits, NetworkMode: spec.network, Init: true },
    };
}

/** `2026-11-30T16:10:00.000Z` -> `20261130t1610`, for container names. Pure. */
export function runStamp(at: Date): string {
    return at.toISOString().slice(0, 16).replace(/[-:]/g, "").toLowerCase();
}

type Api = (method: string, path: string, body?: unknown) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function engineApi(docker: LoopSpec["docker"]): Api {
    return (method, path, body) =>
        new Promise((resolve, reject) => {
            const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
            const req = http.request(
                { ...docker, method, path: `/v1.41${path}`, headers: data ? { "Content-Type": "application/json", "Content-Length": data.length } : {} },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        if ((res.statusCode ?? 500) >= 400) return reject(new Error(`${method} ${path.split("?")[0]}: ${res.statusCode} ${text.trim()}`));
                        resolve(text ? JSON.parse(text) : undefined);
                    });
                },
            );
            req.on("error", reject);
            if (data) req.write(data);
            req.end();
        });
}

/**
 * Runs the loop: on each minute (UTC), starts the jobs whose schedule matches it. Whether a job's
 * previous run is still going is asked of the Docker engine (its containers, by label), so a
 * scheduler started again (by an `up`) knows the runs its predecessor started.
 */
export function main(): void {
    const spec = JSON.parse(process.env.DYNOFORM_SCHEDULER ?? "{}") as LoopSpec;
    const api = engineApi(spec.docker);
    const jobs: Array<LoopJob & { cron: CronSchedule }> = spec.jobs.map((j) => ({ ...j, cron: parseCron(j.schedule) }));
    // Runs being started: the engine lists them as running only once started.
    const starting = new Map<string, string>();
    const log = (line: string) => process.stdout.write(`${line}\n`);

    const fire = async (job: LoopJob, at: Date) => {
        const name = `${spec.namePrefix}.${job.name}.${runStamp(at)}`;
        if (starting.has(job.name)) return log(skipLine(job.name, at, starting.get(job.name)!));
        starting.set(job.name, name);
        let id: string;
        let finished: Array<{ Id: string }>;
        try {
            const dyno = `scheduler.${job.name}`;
            const filters = { label: [...Object.entries(spec.labels).map(([k, v]) => `${k}=${v}`), `${spec.jobLabel}=${dyno}`] };
            const prior = (await api("GET", `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(filters))}`)) as Array<{ Id: string; State: string; Names: string[]; Created: number }>;
            const live = prior.find((c) => c.State === "running");
            if (live) return log(skipLine(job.name, at, live.Names[0]?.replace(/^\//, "") ?? live.Id));
            // The newest finished run stays until this one ends (`scheduler` shows it meanwhile); older
            // ones, left by a scheduler replaced while they ran, go now.
            finished = prior.filter((c) => c.State !== "running").sort((a, b) => b.Created - a.Created);
            for (const c of finished.slice(1)) await api("DELETE", `/containers/${c.Id}?force=1`).catch(() => undefined);
            if (job.backup) await api("POST", "/volumes/create", { Name: job.backup.volume, Labels: job.backup.volumeLabels });
            id = ((await api("POST", `/containers/create?name=${encodeURIComponent(name)}`, jobContainer(spec, job, dyno))) as { Id: string }).Id;
            await api("POST", `/containers/${id}/start`).catch(async (err: Error) => {
                await api("DELETE", `/containers/${id}?force=1`).catch(() => undefined);
                throw err;
            });
        } finally {
            starting.delete(job.name);
        }
        log(`${job.name}: started ${name} for the run due at ${at.toISOString()}`);
        const waited = (await api("POST", `/containers/${id}/wait`).catch((err: Error) => log(`${job.name}: lost track of ${name}: ${err.message}`))) as { StatusCode: number } | undefined;
        if (!waited) return;
        log(`${job.name}: ${name} exited with status ${waited.StatusCode}`);
        // Docker keeps the last run's container, its logs and exit code, for `logs` and `scheduler`.
        for (const c of finished.slice(0, 1)) await api("DELETE", `/containers/${c.Id}?force=1`).catch(() => undefined);
    };

    // A scheduler (re)started within a minute does not fire that minute: cron fired it at :00.
    const clock = loopClock(spec.tickSeconds ?? 60, Math.floor(Date.now() / 60_000) * 60_000);
    let last = clock.minuteAt(Date.now());
    const tick = () => {
        const minute = clock.minuteAt(Date.now());
        if (minute > last) {
            last = minute;
            const at = new Date(minute * 60_000);
            for (const job of jobs) {
                if (cronMatches(job.cron, at)) fire(job, at).catch((err: Error) => log(`${job.name}: the run due at ${at.toISOString()} failed to start: ${err.message}`));
            }
        }
        setTimeout(tick, Math.max(clock.realTimeOf(minute + 1) - Date.now(), 0) + 50);
    };
    const pace = spec.tickSeconds && spec.tickSeconds !== 60 ? `; a test's clock: a minute lasts ${spec.tickSeconds} s` : "";
    log(`scheduler started: ${jobs.map((j) => `${j.name} (${j.schedule})`).join(", ") || "no jobs"}; times are UTC${pace}`);
    tick();
}
