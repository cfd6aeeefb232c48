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
import { containersWith, freePort } from "../test/support/harness";
import { benchApp, dynoContainers, FULL, load, LoadFigures, machineLine, mib, printTable, ratio, runMain, runOk, untilAccepting } from "./support";

const CONNECTIONS = 10;

async function main(): Promise<void> {
    const seconds = FULL ? 10 : 3;
    const app = await benchApp("bench-router", { quantity: 1, size: "standard-1x" });
    const docker = connectDocker();
    let twin = "";
    try {
        await app.cli("up", "--yes");
        const [dyno] = await dynoContainers(app.stack);
        const port = (dyno.Config.Env ?? []).find((e) => e.startsWith("PORT="))!.slice(5);
        const ip = Object.values(dyno.NetworkSettings.Networks ?? {})[0].IPAddress;
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

        const [router] = await containersWith({ [LABEL.stack]: app.stack, [LABEL.processType]: "router" });
        const routerIdle = await memoryOf(router.Id);
        const targets: Array<[string, string]> = [
            ["through the router (nginx, published port)", app.url],
            ["dyno twin on a published port", `http://127.0.0.1:${twinPort}/`],
            ["dyno bridge address (no proxy)", `http://${ip}:${port}/`],
        ];
        const results: Array<[string, LoadFigures]> = [];
        for (const [what, url] of targets) {
            await load(url, CONNECTIONS, 1); // warm-up: connections, JIT
            results.push([what, await load(url, CONNECTIONS, seconds)]);
        }
        const routerLoaded = await memoryOf(router.Id);
        const failed = results.filter(([, r]) => r.non2xx + r.errors + r.timeouts > 0);

        printTable(
            `HTTP load on one web dyno, ${CONNECTIONS} connections, ${seconds} s each; ${machineLine()}`,
            ["path", "requests", "non-2xx+errors", "req/s", "p50 ms", "p99 ms"],
            results.map(([what, r]) => [what, String(r.sent), String(r.non2xx + r.errors + r.timeouts), r.rps.toFixed(0), String(r.p50), String(r.p99)]),
        );
        const [viaRouter, published, bridge] = results.map(([, r]) => r);
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
        if (failed.length) throw new Error(`requests failed: ${failed.map(([w]) => w).join(", ")}`);
    } finally {
        if (twin) await docker.getContainer(twin).remove({ force: true }).catch(() => undefined);
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
