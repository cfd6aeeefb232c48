/**
 * Benchmark: the edge router's overhead. The same HTTP load (autocannon, same keep-alive
 * connections and duration) on one web dyno four ways, in one run: to a twin of the dyno (same
 * image, command and limits) on a published port (the baseline), through the app's router
 * (nginx, its published port), through the edge router (Caddy, host network) over plain HTTP
 * (`<app>.localhost`), and through the edge over HTTPS with a certificate issued by a local
 * Pebble CA. The edge reaches the app through its router, so edge figures include both hops.
 *
 * Run: `npx tsc -p . && node dist/bench/edge.js [--full]`.
 */
import autocannon from "autocannon";
import { connectDocker } from "../infra/docker/client";
import { LABEL } from "../infra/docker/labels";
import { freePort } from "../test/support/harness";
import { startPebble } from "../test/support/pebble";
import { benchApp, dynoContainers, FULL, LoadFigures, machineLine, printTable, ratio, runMain, runOk, untilAccepting } from "./support";

const CONNECTIONS = 10;

async function loadOn(url: string, seconds: number, host?: string): Promise<LoadFigures> {
    const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, timeout: 10, headers: host ? { host } : undefined, servername: host });
    return { sent: r.requests.sent, ok: r["2xx"], non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, seconds: r.duration };
}

async function main(): Promise<void> {
    const seconds = FULL ? 10 : 3;
    const edge = `dynoform-edge-bench-${process.pid}`;
    process.env.DYNOFORM_EDGE = edge;
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const pebble = await startPebble(`${edge}-pebble`, httpPort, httpsPort);
    const app = await benchApp("bench-edge", { quantity: 1, size: "standard-1x" });
    const docker = connectDocker();
    let twin = "";
    try {
        const caFile = `${app.project.dir}/acme-ca.pem`;
        require("fs").writeFileSync(caFile, pebble.directoryCa);
        app.settings = {
            ...app.settings,
            app: "benchedge",
            domains: [],
            edge: { httpPort, httpsPort, hostIp: "127.0.0.1", acmeDirectory: pebble.directory, acmeCaRoot: "acme-ca.pem" },
        };
        app.project.writeStack(app.stack, app.settings);
        await app.cli("up", "--yes");
        await app.cli("domains:add", "benchedge.test");
        const [dyno] = await dynoContainers(app.stack);
        const port = (dyno.Config.Env ?? []).find((e) => e.startsWith("PORT="))!.slice(5);
        const twinPort = await freePort();
        twin = (
            await runOk("docker", [
                "run", "-d", "--label", `${LABEL.stack}=${app.stack}-twin`, "-p", `127.0.0.1:${twinPort}:${port}`,
                "--memory", String(dyno.HostConfig.Memory), "--memory-swap", String(dyno.HostConfig.Memory),
                "--cpu-shares", String(dyno.HostConfig.CpuShares), "--init", "-e", `PORT=${port}`, "-e", "DYNO=web.1",
                dyno.Config.Image, ...(dyno.Config.Cmd ?? []),
            ])
        ).trim();
        await untilAccepting([twin], Number(port));
        const targets: Array<[string, string, string | undefined]> = [
            ["dyno twin on a published port (baseline)", `http://127.0.0.1:${twinPort}/`, undefined],
            ["app router (nginx, published port)", app.url, undefined],
            ["edge router, HTTP (Caddy -> app router)", `http://127.0.0.1:${httpPort}/`, "benchedge.localhost"],
            ["edge router, HTTPS (Caddy -> app router)", `https://127.0.0.1:${httpsPort}/`, "benchedge.test"],
        ];
        const results: Array<[string, LoadFigures]> = [];
        for (const [what, url, host] of targets) {
            await loadOn(url, 1, host); // warm-up: connections, TLS sessions, JIT
            results.push([what, await loadOn(url, seconds, host)]);
        }
        printTable(
            `HTTP load on one web dyno, ${CONNECTIONS} keep-alive connections, ${seconds} s each; ${machineLine()}`,
            ["path", "requests", "non-2xx+errors", "req/s", "p50 ms", "p99 ms"],
            results.map(([what, r]) => [what, String(r.sent), String(r.non2xx + r.errors + r.timeouts), r.rps.toFixed(0), String(r.p50), String(r.p99)]),
        );
        const [direct, ...rest] = results;
        printTable(
            "Overhead against the dyno on a published port (path / direct; throughput direct / path)",
            ["path", "p50", "p99", "throughput"],
            rest.map(([what, r]) => [what, ratio(r.p50 || 0.1, direct[1].p50 || 0.1), ratio(r.p99, direct[1].p99), ratio(direct[1].rps, r.rps)]),
        );
        const failed = results.filter(([, r]) => r.non2xx + r.errors + r.timeouts > 0);
        if (failed.length) throw new Error(`requests failed: ${failed.map(([w]) => w).join(", ")}`);
    } finally {
        if (twin) await docker.getContainer(twin).remove({ force: true }).catch(() => undefined);
        await app.cleanup();
        await pebble.stop();
        await docker.getContainer(edge).remove({ force: true }).catch(() => undefined);
        await docker.getVolume(edge).remove({ force: true }).catch(() => undefined);
    }
}

if (require.main === module) runMain(main);
