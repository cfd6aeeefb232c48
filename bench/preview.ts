/**
 * Benchmark: `dynoform preview` of an app with N web dynos and nothing changed (N = 1, 10, 50
 * with --full): seconds, and the cost of each dyno beyond the first, which should stay flat.
 * The baseline is the same preview of the one-dyno app, run in this process.
 *
 * Run: `npx tsc -p . && node dist/bench/preview.js [--full | --sizes 1,10,50]`.
 */
import { benchApp, benchSizes, fmt, machineLine, printTable, ratio, runMain } from "./support";

/** Small dynos: 50 of them must fit beside whatever else runs on the machine. */
const SIZE = "custom-128mb";

async function main(): Promise<void> {
    const sizes = benchSizes([1, 5], [1, 10, 50]);
    const app = await benchApp("bench-preview", { quantity: sizes[0], size: SIZE });
    try {
        const rows: Array<{ n: number; seconds: number; resources: number }> = [];
        for (const n of sizes) {
            app.setWeb(n, SIZE);
            await app.cli("up", "--yes");
            const preview = await app.cli("preview");
            const same = /^Resources: (\d+) same$/m.exec(preview.stdout);
            if (!same) throw new Error(`preview of an unchanged app with ${n} dynos planned changes:\n${preview.stdout}`);
            rows.push({ n, seconds: preview.seconds, resources: Number(same[1]) });
            process.stderr.write(`N=${n}: no-op preview ${fmt(preview.seconds)} s (${same[1]} resources, all same)\n`);
        }
        const base = rows[0];
        printTable(
            `No-op preview (nothing changed) of an app with N web dynos (${SIZE}); ${machineLine()}`,
            ["N", "resources", "preview s", `ratio to N=${base.n}`, `s per dyno beyond N=${base.n}`],
            rows.map((r) => [
                String(r.n),
                String(r.resources),
                fmt(r.seconds),
                ratio(r.seconds, base.seconds),
                r.n === base.n ? "-" : ((r.seconds - base.seconds) / (r.n - base.n)).toFixed(3),
            ]),
        );
    } finally {
        await app.cleanup();
    }
}

if (require.main === module) runMain(main);
