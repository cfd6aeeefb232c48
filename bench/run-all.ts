/**
 * `npm run bench`: every benchmark in bench/, at sizes that finish in a few minutes on a 2-core
 * machine, one after another (they measure against baselines run in the same process, so they
 * must not compete with each other). Pass `--full` for the sizes the issues name.
 */
import { spawnSync } from "child_process";
import * as path from "path";

const full = process.argv.includes("--full");
const benches: Array<{ script: string; args: string[] }> = [
    { script: "dynos.js", args: ["--sizes", full ? "1,10,30" : "1,10"] },
];

let failed = 0;
for (const b of benches) {
    process.stdout.write(`\n### bench/${b.script.replace(/\.js$/, ".ts")} ${b.args.join(" ")}\n`);
    const r = spawnSync(process.execPath, [path.join(__dirname, b.script), ...b.args], { stdio: "inherit" });
    if (r.status !== 0) failed += 1;
}
process.exitCode = failed ? 1 : 0;
