/**
 * Benchmark: what one small edit costs. On a tiny app (1 web dyno, deployed), three rounds of
 * `ps:scale web=2` then `ps:scale web=1` (edit the stack file, `up`, router reload), and three
 * `config:set --no-up` (the stack-file edit alone). Medians of wall time, CPU time of the CLI's
 * process tree, and the `pulumi` processes it ran (sampled every 50 ms).
 *
 * Run: `npx tsc -p . && node dist/bench/edit.js [--rounds 3]`.
 */
import { benchApp, CliRun, fmt, machineLine, printTable, runMain } from "./support";

const at = process.argv.indexOf("--rounds");
const ROUNDS = at >= 0 ? Number(process.argv[at + 1]) : 3;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpu = (r: CliRun) => Object.values(r.usage.cpuSeconds).reduce((a, b) => a + b, 0);
const pulumis = (r: CliRun) => r.usage.processes["pulumi"] ?? 0;

async function main(): Promise<void> {
    const app = await benchApp("bench-edit", { quantity: 1, size: "standard-1x" });
    const runs: Record<string, CliRun[]> = { "ps:scale web=2": [], "ps:scale web=1": [], "config:set --no-up": [] };
    try {
        await app.cli("up", "--yes");
        for (let i = 0; i < ROUNDS; i++) {
            runs["ps:scale web=2"].push(await app.cli("ps:scale", "web=2"));
            runs["ps:scale web=1"].push(await app.cli("ps:scale", "web=1"));
            runs["config:set --no-up"].push(await app.cli("config:set", `ROUND=${i}`, "--no-up"));
        }
    } finally {
        await app.cleanup();
    }
    printTable(
        `One edit, medians of ${ROUNDS}; ${machineLine()}`,
        ["command", "wall s", "CPU s (tree)", "pulumi processes"],
        Object.entries(runs).map(([cmd, rs]) => [
            cmd,
            fmt(median(rs.map((r) => r.seconds))),
            fmt(median(rs.map(cpu))),
            String(median(rs.map(pulumis))),
        ]),
    );
}

if (require.main === module) runMain(main);
