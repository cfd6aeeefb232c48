/**
 * `npm run bench`: every benchmark in bench/ one after another (each measures against baselines
 * run in its own process, so they must not compete with each other), at sizes that finish in a
 * few minutes on a 2-core machine. `--full` runs the sizes the issue names. Prints the machine
 * and its load average before and after, and the total wall time.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { fmt, FULL, machineLine } from "./support";

const BENCHES = ["scale-out.js", "preview.js", "resize.js", "router.js", "edge.js", "rolling.js", "ssh-host.js", "ssh-requests.js", "swarm.js"];

function main(): void {
    const started = process.hrtime.bigint();
    process.stdout.write(`Dynoform benchmarks (${FULL ? "full" : "small"} sizes); ${machineLine()}\n`);
    const failed: string[] = [];
    const times: string[] = [];
    for (const script of BENCHES) {
        process.stdout.write(`\n### bench/${script.replace(/\.js$/, ".ts")}${FULL ? " --full" : ""}\n`);
        const t0 = process.hrtime.bigint();
        const r = spawnSync(process.execPath, [path.join(__dirname, script), ...(FULL ? ["--full"] : [])], { stdio: "inherit" });
        times.push(`${script.replace(/\.js$/, "")} ${fmt(Number(process.hrtime.bigint() - t0) / 1e9)} s`);
        if (r.status !== 0) failed.push(script);
    }
    const total = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(
        `\nTotal wall time ${fmt(total)} s (${times.join(", ")}); ${machineLine()}\n` +
            (failed.length ? `FAILED: ${failed.join(", ")}\n` : ""),
    );
    process.exitCode = failed.length ? 1 : 0;
}

main();
