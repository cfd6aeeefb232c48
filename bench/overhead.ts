/**
 * What the proxy benchmarks (bench/router.ts, bench/edge.ts) share: a twin of the app's web dyno
 * on a published port (same image, command and limits: the baseline without any proxy), and the
 * latency loop: the same autocannon load on each path in turn, after a warm-up, in one process.
 */
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
 * The same load on each path in turn (a 1 s warm-up first: connections, TLS sessions, JIT), then
 * prints a table of requests, failures, req/s, p50 and p99 (see {@link checkNoFailures}).
 */
export async function measurePaths(paths: LoadPath[], connections: number, seconds: number): Promise<LoadFigures[]> {
    const results: LoadFigures[] = [];
    for (const p of paths) {
        await load(p.url, connections, 1, p.host);
        results.push(await load(p.url, connections, seconds, p.host));
    }
    printTable(
        `HTTP load on one web dyno, ${connections} keep-alive connections, ${seconds} s each; ${machineLine()}`,
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
