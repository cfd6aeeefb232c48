/**
 * Benchmark: a rolling deploy under load. `dynoform config:set` on 3 web dynos while autocannon
 * sends requests through the router for the whole rollout. Requests sent, non-2xx, errors and
 * timeouts (all must be 0), and p99 latency during the rollout against p99 of the same load
 * before it, in this process.
 *
 * Run: `npx tsc -p . && node dist/bench/rolling.js [--full]`.
 */
import { envOf } from "../test/support/cli";
import { benchApp, dynoContainers, fmt, FULL, load, loadDuring, LoadFigures, machineLine, printTable, ratio, runMain } from "./support";

const DYNOS = 3;
const CONNECTIONS = 10;

async function main(): Promise<void> {
    const app = await benchApp("bench-rolling", { quantity: DYNOS, size: "standard-1x" });
    try {
        await app.cli("up", "--yes");
        const before = await dynoContainers(app.stack);
        await load(app.url, CONNECTIONS, 1); // warm-up
        const steady = await load(app.url, CONNECTIONS, FULL ? 10 : 5);
        const greeting = `rolled-${Date.now()}`;
        const { figures: during, value: rollout } = await loadDuring(app.url, CONNECTIONS, () => app.cli("config:set", `GREETING=${greeting}`));
        const after = await dynoContainers(app.stack);
        const replaced = after.filter((a) => !before.some((b) => b.Id === a.Id) && envOf(a).GREETING === greeting).length;
        const body = await (await fetch(app.url)).text();

        const rows: Array<[string, LoadFigures]> = [
            ["before (steady)", steady],
            [`during config:set (${fmt(rollout.seconds)} s)`, during],
        ];
        printTable(
            `Rolling deploy (config:set) of ${DYNOS} web dynos under load through the router, ${CONNECTIONS} connections; ${machineLine()}`,
            ["load", "seconds", "requests", "2xx", "non-2xx", "errors", "timeouts", "req/s", "p50 ms", "p99 ms"],
            rows.map(([what, f]) => [what, fmt(f.seconds), String(f.sent), String(f.ok), String(f.non2xx), String(f.errors), String(f.timeouts), f.rps.toFixed(0), String(f.p50), String(f.p99)]),
        );
        process.stdout.write(
            `\n${replaced}/${DYNOS} dynos replaced with the new config; the router answers "${body}". ` +
                `p99 during / before: ${ratio(during.p99, steady.p99)}; failed requests during the rollout: ${during.non2xx + during.errors + during.timeouts}\n`,
        );
        if (replaced !== DYNOS || !body.endsWith(greeting)) throw new Error(`the rollout did not reach every dyno (${replaced}/${DYNOS}, body "${body}")`);
        if (during.non2xx + during.errors + during.timeouts > 0) throw new Error("requests failed during the rollout");
    } finally {
        await app.cleanup();
    }
}

if (require.main === module) runMain(main);
