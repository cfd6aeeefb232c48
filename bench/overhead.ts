/**
 * What the proxy benchmarks (bench/router.ts, bench/edge.ts) share: a twin of the app's web dyno
 * on a published port (same image, command and limits: the baseline without any proxy), and the
 * latency loop: the same autocannon load on each path, taken in turns, after a warm-up, in one process.
 */
import autocannon = require("autocannon");
import { connectDocker } from "../infra/docker/client";
import { LABEL } from "../infra/docker/labels";
import { freePort } from "../test/support/harness";
import { dynoContainers, load, LoadFigures, machineLine, printTable, runOk, untilAccepting } from "./support";

/** One way to reach the dyno: a URL, and the Host (and TLS server name) to send, if any. */
export interface LoadPath {
    what: string;
    url: string;
    host?: string;
}

/** The app's web.1 and its twin on a published port of 127.0.0.1. */
export interface DynoTwin {
    /** The dyno's docker inspect. */
    dyno: Awaited<ReturnType<typeof dynoContainers>>[number];
    /** The port the dyno listens on ($PORT). */
    port: number;
    /** The twin's URL on its published port. */
    url: string;
    remove(): Promise<void>;
}

/** Starts a twin of the stack's web dyno on a published port and waits until it accepts connections. */
export async function startTwin(stack: string): Promise<DynoTwin> {
    const [dyno] = await dynoContainers(stack);
    const port = Number((dyno.Config.Env ?? []).find((e) => e.startsWith("PORT="))!.slice(5));
    const twinPort = await freePort();
    const id = (
        await runOk("docker", [
            "run", "-d", "--label", `${LABEL.stack}=${stack}-twin`, "-p", `127.0.0.1:${twinPort}:${port}`,
            "--memory", String(dyno.HostConfig.Memory), "--memory-swap", String(dyno.HostConfig.Memory),
            "--cpu-shares", String(dyno.HostConfig.CpuShares), "--init", "-e", `PORT=${port}`, "-e", "DYNO=web.1",
            dyno.Config.Image, ...(dyno.Config.Cmd ?? []),
        ])
    ).trim();
    await untilAccepting([id], port);
    return {
        dyno,
        port,
        url: `http://127.0.0.1:${twinPort}/`,
        remove: () => connectDocker().getContainer(id).remove({ force: true }).then(() => undefined, () => undefined),
    };
}

/**
 * Rounds each path's load is split into. The paths take turns (each round starting at the next
 * path), so a busy moment of the machine (other processes on the same 2 CPUs) falls on every path
 * alike instead of on whichever ran then.
 */
const ROUNDS = 5;

/** One round of load on a path; every 2xx answer's latency (ms) goes into `latencies`. */
function loadRound(p: LoadPath, connections: number, seconds: number, latencies: number[]): Promise<autocannon.Result> {
    return new Promise((resolve, reject) => {
        const instance = autocannon(
            { url: p.url, connections, duration: seconds, timeout: 10, headers: p.host ? { host: p.host } : undefined, servername: p.host },
            (err, r) => (err ? reject(err) : resolve(r)),
        );
        instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
            if (status >= 200 && status < 300) latencies.push(ms);
        });
    });
}

/** The `q` quantile (0-1) of the latencies, to 0.1 ms (nearest rank). Pure. */
export function quantile(latencies: number[], q: number): number {
    if (!latencies.length) return 0;
    const sorted = [...latencies].sort((a, b) => a - b);
    return Math.round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] * 10) / 10;
}

/**
 * The same load on each path (a 1 s warm-up first: connections, TLS sessions, JIT), in
 * {@link ROUNDS} turns of `seconds / ROUNDS`, then prints a table of requests, failures, req/s,
 * p50 and p99 over all of a path's answers (see {@link checkNoFailures}).
 */
export async function measurePaths(paths: LoadPath[], connections: number, seconds: number): Promise<LoadFigures[]> {
    for (const p of paths) await load(p.url, connections, 1, p.host);
    const latencies = paths.map(() => [] as number[]);
    const runs = paths.map(() => [] as autocannon.Result[]);
    for (let round = 0; round < ROUNDS; round++) {
        for (let k = 0; k < paths.length; k++) {
            const i = (round + k) % paths.length;
            runs[i].push(await loadRound(paths[i], connections, seconds / ROUNDS, latencies[i]));
        }
    }
    const results: LoadFigures[] = runs.map((rs, i) => {
        const sum = (f: (r: autocannon.Result) => number) => rs.reduce((n, r) => n + f(r), 0);
        const took = sum((r) => r.duration);
        return {
            sent: sum((r) => r.requests.sent),
            ok: sum((r) => r["2xx"]),
            non2xx: sum((r) => r.non2xx),
            errors: sum((r) => r.errors),
            timeouts: sum((r) => r.timeouts),
            p50: quantile(latencies[i], 0.5),
            p99: quantile(latencies[i], 0.99),
            rps: sum((r) => r["2xx"]) / took,
            seconds: took,
        };
    });
    printTable(
        `HTTP load on one web dyno, ${connections} keep-alive connections, ${seconds} s each in ${ROUNDS} turns; ${machineLine()}`,
        ["path", "requests", "non-2xx+errors", "req/s", "p50 ms", "p99 ms"],
        results.map((r, i) => [paths[i].what, String(r.sent), String(failedRequests(r)), r.rps.toFixed(0), String(r.p50), String(r.p99)]),
    );
    return results;
}

/** Requests that did not answer 2xx. */
export function failedRequests(r: LoadFigures): number {
    return r.non2xx + r.errors + r.timeouts;
}

/** Throws naming every path where a request failed. */
export function checkNoFailures(paths: LoadPath[], results: LoadFigures[]): void {
    const failed = paths.filter((_, i) => failedRequests(results[i]) > 0);
    if (failed.length) throw new Error(`requests failed: ${failed.map((p) => p.what).join(", ")}`);
}
