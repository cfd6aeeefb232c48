/**
 * What the benchmarks in bench/ share: sizes from the command line, the machine line printed
 * beside every figure, the real CLI run with its output timestamped and its process tree's
 * memory sampled, the Docker engine's event log, load generation and tables.
 */
import autocannon = require("autocannon");
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import { connectDocker } from "../infra/docker/client";
import { acceptsConnections } from "../infra/docker/dyno-ops";
import { LABEL } from "../infra/docker/labels";
import { CliProject, cliProject, TINY_APP, tinyStack } from "../test/support/cli";
import { containersWith } from "../test/support/harness";
export { machineLine, printTable } from "./report";

/** `--full` runs the sizes the issue names; without it, sizes that keep `npm run bench` short. */
export const FULL = process.argv.includes("--full");

/** `--sizes 1,10,30` if given, else the full or the small list. */
export function benchSizes(small: number[], full: number[]): number[] {
    const at = process.argv.indexOf("--sizes");
    if (at < 0) return FULL ? full : small;
    const sizes = process.argv[at + 1]?.split(",").map(Number);
    if (!sizes?.length || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
        throw new Error("--sizes takes whole numbers, e.g. --sizes 1,10,30");
    }
    return sizes;
}

/** Seconds `fn` took. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
    const start = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
export const fmt = (seconds: number): string => seconds.toFixed(2);
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}x`;
export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** Runs a command to completion without blocking the event loop (so several run in parallel). */
export function run(
    cmd: string,
    args: string[],
    opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

/** Like {@link run}, but a non-zero exit is an error carrying the command's stderr. */
export async function runOk(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
    const r = await run(cmd, args, opts);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${r.code}:\n${r.stderr}`);
    return r.stdout;
}

/** A process tree's peak resident memory (and each process's share at that moment), and the CPU time each process used. */
export interface TreeUsage {
    peakBytes: number;
    byCommand: Record<string, number>;
    cpuSeconds: Record<string, number>;
    /** How many processes of each name were seen (one living under 200 ms may be missed). */
    processes: Record<string, number>;
}

const PAGE_SIZE = Number(spawnSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).stdout.trim()) || 4096;
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

interface TreeProcess {
    pid: number;
    name: string;
    rss: number;
    /** User and system CPU time so far, in clock ticks. */
    cpuTicks: number;
}

/** `root` and all its descendants now, from /proc/<pid>/stat. */
function treeNow(root: number): TreeProcess[] {
    const procs: Array<TreeProcess & { ppid: number; comm: string }> = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        let stat: string;
        try {
            stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        } catch {
            continue; // exited between readdir and read
        }
        const close = stat.lastIndexOf(")");
        const fields = stat.slice(close + 2).split(" ");
        procs.push({
            pid: Number(entry),
            ppid: Number(fields[1]),
            comm: stat.slice(stat.indexOf("(") + 1, close),
            name: "",
            rss: Number(fields[21]) * PAGE_SIZE,
            cpuTicks: Number(fields[11]) + Number(fields[12]),
        });
    }
    const inTree = new Set([root]);
    for (let grew = true; grew; ) {
        grew = false;
        for (const p of procs) {
            if (!inTree.has(p.pid) && inTree.has(p.ppid)) {
                inTree.add(p.pid);
                grew = true;
            }
        }
    }
    return procs
        .filter((p) => inTree.has(p.pid))
        .map((p) => ({ ...p, name: p.pid === root ? "dynoform CLI (node)" : p.comm === "node" ? nodeRole(p.pid) : p.comm }));
}

/** A node process of the CLI's tree by its script: the dynamic-provider host or the program's language host. */
function nodeRole(pid: number): string {
    let argv: string[] = [];
    try {
        argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
        return "node";
    }
    const script = argv.slice(1).find((a) => !a.startsWith("-")) ?? "";
    if (script.includes("dynamic")) return "provider host (node)";
    return script ? `node ${script.split("/").slice(-2).join("/")}` : "node (other)";
}

const sumBy = (procs: TreeProcess[], value: (p: TreeProcess) => number): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const p of procs) out[p.name] = (out[p.name] ?? 0) + value(p);
    return out;
};

/**
 * Samples a process tree every `everyMs` until `stop()`: the peak of its resident memory, and
 * the CPU time of each process as last seen (a process's last few ms before it exits are lost).
 */
export function sampleTree(root: number, everyMs = 200): { stop(): TreeUsage } {
    let peak = { peakBytes: 0, byCommand: {} as Record<string, number> };
    const lastSeen = new Map<number, TreeProcess>();
    const sample = () => {
        const now = treeNow(root);
        for (const p of now) lastSeen.set(p.pid, p);
        const total = now.reduce((a, p) => a + p.rss, 0);
        if (total > peak.peakBytes) peak = { peakBytes: total, byCommand: sumBy(now, (p) => p.rss) };
    };
    sample();
    const timer = setInterval(sample, everyMs);
    return {
        stop() {
            clearInterval(timer);
            const seen = [...lastSeen.values()];
            return { ...peak, cpuSeconds: sumBy(seen, (p) => p.cpuTicks / CLOCK_TICKS), processes: sumBy(seen, () => 1) };
        },
    };
}

/** Peak memory of a process tree and each command's share, for printing. */
export function memoryLine(m: TreeUsage): string {
    const parts = Object.entries(m.byCommand)
        .sort((a, b) => b[1] - a[1])
        .map(([cmd, bytes]) => `${cmd} ${mib(bytes)}`);
    return `${mib(m.peakBytes)} (${parts.join(", ")})`;
}

/** CPU time of a process tree by command (and how many processes), for printing. */
export function cpuLine(m: TreeUsage): string {
    const total = Object.values(m.cpuSeconds).reduce((a, b) => a + b, 0);
    const parts = Object.entries(m.cpuSeconds)
        .sort((a, b) => b[1] - a[1])
        .map(([cmd, s]) => `${cmd}${m.processes[cmd] > 1 ? ` (${m.processes[cmd]} processes)` : ""} ${fmt(s)} s`);
    return `${fmt(total)} s (${parts.join(", ")})`;
}

/** One run of the real CLI: wall time, output lines with the second they arrived, memory and CPU of its processes. */
export interface CliRun {
    seconds: number;
    startedAt: number;
    endedAt: number;
    stdout: string;
    stderr: string;
    lines: Array<{ at: number; text: string }>;
    usage: TreeUsage;
}

/**
 * Runs `dynoform <args>` in the project (the compiled CLI, as a user would); a failure throws.
 * `cliJs`: another build's `dist/cli/main.js` (a baseline), run with the project's environment.
 */
export async function runCli(project: CliProject, args: string[], cliJs?: string): Promise<CliRun> {
    const startedAt = Date.now();
    const start = process.hrtime.bigint();
    const h = project.spawnCli(args, { cliJs });
    h.child.stdin?.end();
    const sampler = sampleTree(h.child.pid!);
    const lines: CliRun["lines"] = [];
    let partial = "";
    h.child.stderr!.on("data", (c: Buffer) => {
        const at = Number(process.hrtime.bigint() - start) / 1e9;
        const parts = (partial + c.toString("utf8")).split("\n");
        partial = parts.pop() ?? "";
        for (const text of parts) lines.push({ at, text });
    });
    const code = await h.exited;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const usage = sampler.stop();
    if (code !== 0) throw new Error(`dynoform ${args.join(" ")} exited with ${code}:\n${h.err()}`);
    return { seconds, startedAt, endedAt: Date.now(), stdout: h.out(), stderr: h.err(), lines, usage };
}

/** A tiny-app project (test/support/cli's TINY_APP) whose stack settings the bench rewrites. */
export interface BenchApp {
    project: CliProject;
    stack: string;
    /** The stack settings as last written. */
    settings: Record<string, unknown>;
    /** Rewrites the stack file with this web formation (no deploy). */
    setWeb(quantity: number, size: string): void;
    cli(...args: string[]): Promise<CliRun>;
    /** The router's URL. */
    url: string;
    cleanup(): Promise<void>;
}

export async function benchApp(prefix: string, web: { quantity: number; size: string }, cliJs?: string): Promise<BenchApp> {
    const project = await cliProject(prefix, { files: TINY_APP });
    const stack = project.stackName("bench");
    const settings = await tinyStack({ formation: { web } });
    project.writeStack(stack, settings);
    const app: BenchApp = {
        project,
        stack,
        settings,
        setWeb(quantity, size) {
            app.settings = { ...app.settings, formation: { web: { quantity, size } } };
            project.writeStack(stack, app.settings);
        },
        cli: (...args) => runCli(project, [...args, "--stack", stack], cliJs),
        url: `http://127.0.0.1:${settings.routerPort}/`,
        cleanup: () => project.cleanup(),
    };
    return app;
}

/** The app's dyno containers (docker inspect), optionally of one process type. */
export async function dynoContainers(stack: string) {
    const docker = connectDocker();
    const list = await containersWith({ [LABEL.stack]: stack, [LABEL.role]: "dyno" });
    return Promise.all(list.filter((c) => c.Labels[LABEL.processType] === "web").map((c) => docker.getContainer(c.Id).inspect()));
}

/** Waits until every container accepts TCP connections on `port` at its first network address. */
export async function untilAccepting(ids: string[], port: number, timeoutMs = 120_000): Promise<void> {
    const docker = connectDocker();
    const deadline = Date.now() + timeoutMs;
    await Promise.all(
        ids.map(async (id) => {
            for (;;) {
                const info = await docker.getContainer(id).inspect();
                const ip = Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress ?? "";
                if (info.State.Running && (await acceptsConnections(ip, port))) return;
                if (Date.now() > deadline) throw new Error(`container ${id} did not accept connections on ${port}`);
                await new Promise((r) => setTimeout(r, 50));
            }
        }),
    );
}

/** One container event from the engine's log, time in ms since the epoch. */
export interface EngineEvent {
    at: number;
    action: string;
    id: string;
    name: string;
    /** The container's labels and name, as the engine reports them with the event. */
    attributes: Record<string, string>;
}

/** Container events between two instants for containers with all these labels (the engine's own timestamps). */
export async function engineEvents(sinceMs: number, untilMs: number, labels: Record<string, string>): Promise<EngineEvent[]> {
    const stream = (await connectDocker().getEvents({
        since: Number((sinceMs / 1000 - 1).toFixed(3)),
        until: Number((untilMs / 1000 + 1).toFixed(3)),
        filters: { type: ["container"], label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) },
    })) as NodeJS.ReadableStream;
    let text = "";
    for await (const chunk of stream) text += chunk.toString();
    return text
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as { timeNano: number; Action: string; Actor: { ID: string; Attributes: Record<string, string> } })
        .map((e) => ({ at: e.timeNano / 1e6, action: e.Action.split(":")[0], id: e.Actor.ID, name: e.Actor.Attributes.name ?? "", attributes: e.Actor.Attributes }))
        .filter((e) => e.at >= sinceMs && e.at <= untilMs);
}

/** What a load run saw. Latencies in ms. */
export interface LoadFigures {
    sent: number;
    ok: number;
    non2xx: number;
    errors: number;
    timeouts: number;
    p50: number;
    p99: number;
    rps: number;
    seconds: number;
}

function loadFigures(r: autocannon.Result): LoadFigures {
    return {
        sent: r.requests.sent,
        ok: r["2xx"],
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        p50: r.latency.p50,
        p99: r.latency.p99,
        rps: r.requests.average,
        seconds: r.duration,
    };
}

/** HTTP load on `url` with `connections` keep-alive connections for `seconds`; `host` is sent as the Host header and TLS server name. */
export async function load(url: string, connections: number, seconds: number, host?: string): Promise<LoadFigures> {
    return loadFigures(await autocannon({ url, connections, duration: seconds, timeout: 10, headers: host ? { host } : undefined, servername: host }));
}

/** HTTP load on `url` that runs until `during` settles; returns both outcomes. */
export async function loadDuring<T>(url: string, connections: number, during: () => Promise<T>): Promise<{ figures: LoadFigures; value: T }> {
    let stopWhenDone = () => {};
    const result = new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon({ url, connections, duration: 3600, timeout: 10 }, (err, r) => (err ? reject(err) : resolve(r)));
        stopWhenDone = () => instance.stop();
    });
    // Let the connections open before the change starts.
    await new Promise((r) => setTimeout(r, 1000));
    try {
        const value = await during();
        await new Promise((r) => setTimeout(r, 1000));
        stopWhenDone();
        return { figures: loadFigures(await result), value };
    } catch (err) {
        stopWhenDone();
        await result.catch(() => undefined);
        throw err;
    }
}

/** Ends a bench script: prints a failure and sets the exit code. */
export function runMain(main: () => Promise<void>): void {
    main().catch((err) => {
        process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 1;
    });
}
