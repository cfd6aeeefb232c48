/**
 * Benchmark: the edge router's overhead. The same HTTP load (autocannon, same keep-alive
 * connections and duration) on one web dyno four ways, in one run: to a twin of the dyno (same
 * image, command and limits) on a published port (the baseline), through the app's router
 * (nginx, its published port), through the edge router (Caddy, host network) over plain HTTP
 * (`<app>.localhost`), and through the edge over HTTPS with a certificate issued by a local
 * Pebble CA. The edge proxies straight to the web dyno (its address on the app network, as the
 * app's router resolved it): one hop, as the app's router is.
 *
 * Run: `npm run build && node dist/bench/edge.js [--full]`.
 */
import * as fs from "fs";
import * as path from "path";
import { connectDocker } from "../infra/docker/client";
import { freePort } from "../test/support/harness";
import { startPebble } from "../test/support/pebble";
import { checkNoFailures, DynoTwin, LoadPath, measurePaths, startTwin } from "./overhead";
import { benchApp, FULL, printTable, ratio, runMain } from "./support";

const CONNECTIONS = 10;
/** The goal: p99 through the edge over HTTP within 1.5x of the dyno's published port. */
const P99_GOAL = 1.5;

async function main(): Promise<void> {
    const seconds = FULL ? 10 : 3;
    const edge = `dynoform-edge-bench-${process.pid}`;
    process.env.DYNOFORM_EDGE = edge;
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    const pebble = await startPebble(`${edge}-pebble`, httpPort, httpsPort);
    const app = await benchApp("bench-edge", { quantity: 1, size: "standard-1x" });
    const docker = connectDocker();
    let twin: DynoTwin | undefined;
    try {
        fs.writeFileSync(path.join(app.project.dir, "acme-ca.pem"), pebble.directoryCa);
        app.settings = {
            ...app.settings,
            app: "benchedge",
            domains: [],
            edge: { httpPort, httpsPort, hostIp: "127.0.0.1", acmeDirectory: pebble.directory, acmeCaRoot: "acme-ca.pem" },
        };
        app.project.writeStack(app.stack, app.settings);
        await app.cli("up", "--yes");
        await app.cli("domains:add", "benchedge.test");
        twin = await startTwin(app.stack);
        const paths: LoadPath[] = [
            { what: "dyno twin on a published port (baseline)", url: twin.url },
            { what: "app router (nginx, published port)", url: app.url },
            { what: "edge router, HTTP (Caddy -> dyno)", url: `http://127.0.0.1:${httpPort}/`, host: "benchedge.localhost" },
            { what: "edge router, HTTPS (Caddy -> dyno)", url: `https://127.0.0.1:${httpsPort}/`, host: "benchedge.test" },
        ];
        // Autocannon checks no certificate: Pebble's root is not needed, the TLS cost is the same.
        const results = await measurePaths(paths, CONNECTIONS, seconds);
        const [direct] = results;
        printTable(
            "Overhead against the dyno on a published port (path / direct; throughput direct / path)",
            ["path", "p50", "p99", "throughput"],
            results.slice(1).map((r, i) => [paths[i + 1].what, ratio(r.p50 || 0.1, direct.p50 || 0.1), ratio(r.p99, direct.p99), ratio(direct.rps, r.rps)]),
        );
        const httpP99 = results[2].p99 / direct.p99;
        process.stdout.write(`\nGoal: edge HTTP p99 within ${P99_GOAL}x of direct: ${httpP99.toFixed(1)}x, ${httpP99 <= P99_GOAL ? "met" : "NOT met"} in this run\n`);
        checkNoFailures(paths, results);
    } finally {
        await twin?.remove();
        await app.cleanup();
        await pebble.stop();
        await docker.getContainer(edge).remove({ force: true }).catch(() => undefined);
        await docker.getVolume(edge).remove({ force: true }).catch(() => undefined);
    }
}

if (require.main === module) runMain(main);
