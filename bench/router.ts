/**
 * Benchmark: the router's overhead. The same HTTP load (autocannon, same connections and
 * duration) on one web dyno three ways: through the router (nginx, its published port), to a
 * twin of the dyno (same image, command and limits) on a published port, and straight to the
 * dyno's bridge address. Latency p50/p99, throughput, and the router container's memory
 * (cgroup usage and peak, from `docker stats`).
 *
 * Run: `npx tsc -p . && node dist/bench/router.js [--full]`.
 */
import { connectDocker } from "../infra/docker/client";
import { LABEL } from "../infra/docker/labels";
import { containersWith } from "../test/support/harness";
import { checkNoFailures, DynoTwin, LoadPath, measurePaths, startTwin } from "./overhead";
import { benchApp, FULL, mib, printTable, ratio, runMain } from "./support";

const CONNECTIONS = 10;

async function main(): Promise<void> {
    const seconds = FULL ? 10 : 3;
    const app = await benchApp("bench-router", { quantity: 1, size: "standard-1x" });
    let twin: DynoTwin | undefined;
    try {
        await app.cli("up", "--yes");
        twin = await startTwin(app.stack);
        const ip = Object.values(twin.dyno.NetworkSettings.Networks ?? {})[0].IPAddress;
        const [router] = await containersWith({ [LABEL.stack]: app.stack, [LABEL.processType]: "router" });
        const routerIdle = await memoryOf(router.Id);
        const paths: LoadPath[] = [
            { what: "through the router (nginx, published port)", url: app.url },
            { what: "dyno twin on a published port", url: twin.url },
            { what: "dyno bridge address (no proxy)", url: `http://${ip}:${twin.port}/` },
        ];
        const results = await measurePaths(paths, CONNECTIONS, seconds);
        const routerLoaded = await memoryOf(router.Id);
        const [viaRouter, published, bridge] = results;
        printTable(
            "Router overhead (router / direct)",
            ["against", "p50", "p99", "throughput (direct / router)"],
            [
                ["dyno twin, published port", ratio(viaRouter.p50, published.p50), ratio(viaRouter.p99, published.p99), ratio(published.rps, viaRouter.rps)],
                ["dyno bridge address", ratio(viaRouter.p50, bridge.p50), ratio(viaRouter.p99, bridge.p99), ratio(bridge.rps, viaRouter.rps)],
            ],
        );
        process.stdout.write(
            `\nRouter container memory (cgroup, docker stats): idle ${mib(routerIdle.usage)} (RSS ${mib(routerIdle.rss)}), ` +
                `after the load ${mib(routerLoaded.usage)} (RSS ${mib(routerLoaded.rss)}), cgroup peak with page cache ${mib(routerLoaded.peak)}\n`,
        );
        checkNoFailures(paths, results);
    } finally {
        await twin?.remove();
        await app.cleanup();
    }
}

/** Memory of a container from `docker stats` (one sample): current usage and the cgroup's peak. */
async function memoryOf(id: string): Promise<{ usage: number; rss: number; peak: number }> {
    const { memory_stats: m } = (await connectDocker().getContainer(id).stats({ stream: false })) as {
        memory_stats: { usage?: number; max_usage?: number; stats?: { total_inactive_file?: number; total_rss?: number; anon?: number } };
    };
    const usage = m.usage ?? 0;
    // What `docker stats` shows: usage less the page cache that can be dropped at once.
    return { usage: usage - (m.stats?.total_inactive_file ?? 0), rss: m.stats?.total_rss ?? m.stats?.anon ?? 0, peak: m.max_usage ?? usage };
}

if (require.main === module) runMain(main);
