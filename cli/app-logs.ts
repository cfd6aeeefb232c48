import Docker = require("dockerode");
import { jobDyno, jobOfDyno, SCHEDULER_JOB_ROLE, SCHEDULER_ROLE } from "../components/scheduler";
import { ADDON_LABEL, containerRole, LABEL } from "../infra/docker/labels";

/** Where a log line came from, in Heroku's words: `app[web.1]`, `dynoform[router]`, `addon[postgres]`. */
export interface LogSource {
    containerId: string;
    /** `app` (dynos and one-offs), `dynoform` (the router), `addon`. */
    kind: "app" | "dynoform" | "addon";
    /** `web.1`, `run.2`, `router`, `postgres`. */
    dyno: string;
    /** `web`, `run`, `router`, `postgres`. */
    processType: string;
    /** The prefix printed before each line: `app[web.1]`. */
    label: string;
}

/** Names a container of an app by its labels. Pure. */
export function logSourceOf(c: Pick<Docker.ContainerInfo, "Id" | "Labels">): LogSource {
    const labels = c.Labels ?? {};
    const processType = labels[LABEL.processType] ?? labels[LABEL.role] ?? "unknown";
    const role = containerRole(labels);
    const addon = labels[ADDON_LABEL];
    if (role === "addon" && addon) return { containerId: c.Id, kind: "addon", dyno: addon, processType, label: `addon[${addon}]` };
    // A scheduled job's run (`scheduler[report]`), and the scheduler that starts them.
    if (labels[LABEL.role] === SCHEDULER_JOB_ROLE) {
        const dyno = labels[LABEL.dyno] ?? jobDyno("unknown");
        return { containerId: c.Id, kind: "app", dyno, processType: SCHEDULER_ROLE, label: `scheduler[${jobOfDyno(dyno)}]` };
    }
    if (labels[LABEL.role] === SCHEDULER_ROLE) return { containerId: c.Id, kind: "dynoform", dyno: "scheduler", processType: "scheduler", label: "dynoform[scheduler]" };
    if (role === "router" || processType === "router") return { containerId: c.Id, kind: "dynoform", dyno: "router", processType, label: "dynoform[router]" };
    const dyno = labels[LABEL.dyno] || `${processType}.${labels[LABEL.index] ?? "1"}`;
    return { containerId: c.Id, kind: "app", dyno, processType: dyno.replace(/\.[^.]*$/, ""), label: `app[${dyno}]` };
}

/** What `--dyno`, `--ps` and `--source` select. */
export interface LogFilter {
    /** A dyno (`web.1`) or a process type (`web`); `router` and add-on names work too. */
    dyno?: string;
    /** A process type. */
    ps?: string;
    source?: LogSource["kind"];
}

/** True when a source passes the filter. Pure. */
export function matchesFilter(s: LogSource, f: LogFilter): boolean {
    if (f.source && s.kind !== f.source) return false;
    if (f.ps && s.processType !== f.ps) return false;
    if (f.dyno && s.dyno !== f.dyno && s.processType !== f.dyno) return false;
    return true;
}

/**
 * Docker's RFC 3339 timestamp with nanoseconds (`2026-11-28T12:00:00.123456789Z`, trailing
 * zeros dropped) as nanoseconds since the epoch, or undefined. Pure.
 */
export function parseDockerTimestamp(ts: string): bigint | undefined {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
    if (!m) return undefined;
    const seconds = Date.parse(`${m[1]}${m[3]}`);
    if (Number.isNaN(seconds)) return undefined;
    return BigInt(seconds) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

/** Nanoseconds since the epoch as Heroku prints them: `2026-11-28T12:00:00.123Z`. Pure. */
export function formatTimestamp(ns: bigint): string {
    return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** One line a container printed. */
export interface LogLine {
    ns: bigint;
    source: LogSource;
    stream: "stdout" | "stderr";
    text: string;
}

/** `2026-11-28T12:00:00.123Z app[web.1]: text`. Pure. */
export function formatLogLine(l: LogLine, paint: (kind: LogSource["kind"], s: string) => string = (_k, s) => s): string {
    return `${formatTimestamp(l.ns)} ${paint(l.source.kind, `${l.source.label}:`)} ${l.text}`;
}

/**
 * Turns Docker's log stream (8-byte frame headers: stream, 0, 0, 0, size; none for a TTY
 * container) with `timestamps: true` into lines, across chunk boundaries.
 */
export class LogLineSplitter {
    private pending: Buffer = Buffer.alloc(0);
    private partial: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };

    constructor(
        private readonly source: LogSource,
        private readonly tty: boolean,
        private readonly emit: (line: LogLine) => void,
    ) {}

    push(chunk: Buffer): void {
        if (this.tty) return this.text("stdout", chunk.toString("utf8"));
        this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
        while (this.pending.length >= 8) {
            const size = this.pending.readUInt32BE(4);
            if (this.pending.length < 8 + size) break;
            const stream = this.pending[0] === 2 ? "stderr" : "stdout";
            this.text(stream, this.pending.subarray(8, 8 + size).toString("utf8"));
            this.pending = this.pending.subarray(8 + size);
        }
    }

    /** Emits what is left without a newline (the stream ended). */
    flush(): void {
        for (const stream of ["stdout", "stderr"] as const) {
            if (this.partial[stream]) this.line(stream, this.partial[stream]);
            this.partial[stream] = "";
        }
    }

    private text(stream: "stdout" | "stderr", s: string): void {
        const parts = (this.partial[stream] + s).split("\n");
        this.partial[stream] = parts.pop() ?? "";
        for (const p of parts) this.line(stream, p);
    }

    private line(stream: "stdout" | "stderr", raw: string): void {
        const space = raw.indexOf(" ");
        const ns = space > 0 ? parseDockerTimestamp(raw.slice(0, space)) : undefined;
        if (ns === undefined) return;
        this.emit({ ns, source: this.source, stream, text: raw.slice(space + 1).replace(/\r$/, "") });
    }
}

/** Orders log lines by their timestamps (nanoseconds), oldest first. */
export const byTime = (a: Pick<LogLine, "ns">, b: Pick<LogLine, "ns">): number => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0);

/** Which of the app's containers a reader takes: all of them, or those `only` keeps. */
export type ContainerPick = (c: Pick<Docker.ContainerInfo, "Labels">) => boolean;

/** The scheduler and its job runs: on a cluster, the containers `logs` reads beside the services. Pure. */
export const schedulerContainers: ContainerPick = (c) => [SCHEDULER_ROLE, SCHEDULER_JOB_ROLE].includes(c.Labels?.[LABEL.role] ?? "");

/** The app's containers (running or not) in one stack, by labels. */
export async function appContainers(docker: Docker, app: string, stack: string, only?: ContainerPick): Promise<Docker.ContainerInfo[]> {
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL.app}=${app}`, `${LABEL.stack}=${stack}`] } });
    return only ? list.filter(only) : list;
}

async function isTty(docker: Docker, id: string): Promise<boolean> {
    return Boolean((await docker.getContainer(id).inspect().catch(() => undefined))?.Config?.Tty);
}

/**
 * The last `n` lines of every matching container, merged in time order (the `n` latest overall),
 * with what {@link followLogs} needs to go on from there without repeating or losing a line.
 */
export async function recentLines(
    docker: Docker,
    app: string,
    stack: string,
    filter: LogFilter,
    n: number,
    only?: ContainerPick,
): Promise<{ lines: LogLine[]; cutoffs: Map<string, bigint>; known: Set<string> }> {
    const lines: LogLine[] = [];
    const cutoffs = new Map<string, bigint>();
    const known = new Set<string>();
    for (const c of await appContainers(docker, app, stack, only)) {
        known.add(c.Id);
        const source = logSourceOf(c);
        if (n <= 0 || !matchesFilter(source, filter)) continue;
        const buf = (await docker
            .getContainer(c.Id)
            .logs({ stdout: true, stderr: true, timestamps: true, tail: n, follow: false })
            .catch(() => Buffer.alloc(0))) as unknown as Buffer;
        const splitter = new LogLineSplitter(source, await isTty(docker, c.Id), (l) => {
            lines.push(l);
            if (l.ns > (cutoffs.get(c.Id) ?? 0n)) cutoffs.set(c.Id, l.ns);
        });
        splitter.push(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
        splitter.flush();
    }
    lines.sort(byTime);
    return { lines: n > 0 ? lines.slice(-n) : [], cutoffs, known };
}

interface Followed {
    source: LogSource;
    /** Lines at or before this time were shown (or deliberately skipped). */
    cutoff: bigint;
    tty?: boolean;
    stream?: NodeJS.ReadableStream & { destroy(): void };
    starting?: boolean;
}

/** Options of {@link followLogs}. */
export interface FollowOptions {
    docker: Docker;
    app: string;
    stack: string;
    filter: LogFilter;
    /** Per container: lines up to this time were already shown. Containers not listed show everything. */
    cutoffs: Map<string, bigint>;
    /** Containers listed but not in `cutoffs` that existed when the command started: show lines after `startedNs`. */
    startedNs: bigint;
    known: Set<string>;
    onLine: (line: LogLine) => void;
    /** How often the container list is read, so dynos started later are picked up (1 s). */
    pollMs?: number;
    /** Only these of the app's containers (all by default). */
    only?: ContainerPick;
}

/**
 * Runs `tick` soon and again `everyMs` after each run ends, until `stop()`, which calls `onStop`
 * (to close what the ticks opened) and resolves `done`. A tick that throws (Docker did not
 * answer) is tried again on the next one. How both `logs --tail` followers find new containers.
 */
export function pollUntilStopped(tick: () => Promise<void>, everyMs: number, onStop: () => void): { stop: () => void; done: Promise<void>; stopped: () => boolean } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let wake: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (wake = resolve));
    const run = async () => {
        if (stopped) return;
        try {
            await tick();
        } catch {
            // Docker did not answer: again on the next tick.
        }
        if (!stopped) timer = setTimeout(run, everyMs);
    };
    // After the caller holds the returned object: its ticks may ask `stopped()`.
    setImmediate(run);
    return {
        done,
        stopped: () => stopped,
        stop: () => {
            if (stopped) return;
            stopped = true;
            if (timer) clearTimeout(timer);
            onStop();
            wake();
        },
    };
}

/**
 * Follows the logs of every matching container of the app, and of containers that start later
 * (the container list is read every `pollMs`). Returns a stop function that closes every stream.
 */
export function followLogs(o: FollowOptions): { stop: () => void; done: Promise<void> } {
    const followed = new Map<string, Followed>();
    const stopped = () => loop.stopped();

    const emit = (f: Followed) => (l: LogLine) => {
        if (l.ns <= f.cutoff || stopped()) return;
        f.cutoff = l.ns;
        o.onLine(l);
    };

    const start = async (id: string, f: Followed, follow: boolean) => {
        f.starting = true;
        try {
            f.tty ??= await isTty(o.docker, id);
            const since = Number(f.cutoff / 1_000_000_000n);
            const splitter = new LogLineSplitter(f.source, f.tty, emit(f));
            const container = o.docker.getContainer(id);
            if (!follow) {
                const buf = (await container.logs({ stdout: true, stderr: true, timestamps: true, since, follow: false })) as unknown as Buffer;
                splitter.push(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
                splitter.flush();
                return;
            }
            const stream = (await container.logs({ stdout: true, stderr: true, timestamps: true, since, follow: true })) as unknown as Followed["stream"] &
                NodeJS.ReadableStream;
            if (stopped()) return stream.destroy();
            f.stream = stream;
            stream.on("data", (chunk: Buffer) => splitter.push(chunk));
            const end = () => {
                splitter.flush();
                if (f.stream === stream) f.stream = undefined;
            };
            stream.on("end", end);
            stream.on("close", end);
            stream.on("error", end);
        } catch {
            // The container went away between listing and reading: the next poll forgets it.
        } finally {
            f.starting = false;
        }
    };

    const poll = async () => {
        const list = await appContainers(o.docker, o.app, o.stack, o.only);
        const seen = new Set<string>();
        for (const c of list) {
            seen.add(c.Id);
            let f = followed.get(c.Id);
            if (!f) {
                const source = logSourceOf(c);
                if (!matchesFilter(source, o.filter)) continue;
                const cutoff = o.cutoffs.get(c.Id) ?? (o.known.has(c.Id) ? o.startedNs : 0n);
                f = { source, cutoff };
                followed.set(c.Id, f);
                if (c.State !== "running") await start(c.Id, f, false);
            }
            if (c.State === "running" && !f.stream && !f.starting && !stopped()) await start(c.Id, f, true);
        }
        for (const [id, f] of followed) {
            if (!seen.has(id)) {
                f.stream?.destroy();
                followed.delete(id);
            }
        }
    };
    const loop = pollUntilStopped(poll, o.pollMs ?? 1000, () => {
        for (const f of followed.values()) f.stream?.destroy();
        followed.clear();
    });
    return { done: loop.done, stop: loop.stop };
}
