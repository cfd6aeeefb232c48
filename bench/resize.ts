/**
 * Benchmark: `dynoform ps:resize web=standard-2x` of N dynos running standard-1x (N = 10 with
 * --full): seconds, and restarts, which must be 0 (same container IDs, same StartedAt,
 * RestartCount 0). The baseline is `docker update` of the same N containers to the same
 * limits (one call), run in this process.
 *
 * Run: `npx tsc -p . && node dist/bench/resize.js [--full | --sizes 10]`.
 */
import { DYNO_SIZES } from "../components/dyno-size";
import { LABEL } from "../infra/docker/labels";
import { benchApp, benchSizes, cpuLine, dynoContainers, engineEvents, fmt, machineLine, printTable, ratio, runMain, runOk, timed } from "./support";

const FROM = DYNO_SIZES["standard-1x"];
const TO = DYNO_SIZES["standard-2x"];

async function main(): Promise<void> {
    const [n] = benchSizes([3], [10]);
    const app = await benchApp("bench-resize", { quantity: n, size: FROM.name });
    try {
        await app.cli("up", "--yes");
        const before = await dynoContainers(app.stack);
        const resize = await app.cli("ps:resize", `web=${TO.name}`);
        const updates = (await engineEvents(resize.startedAt, resize.endedAt, { [LABEL.stack]: app.stack })).filter((e) => e.action === "update");
        const after = await dynoContainers(app.stack);
        const restarted = after.filter((a) => {
            const b = before.find((x) => x.Id === a.Id);
            return !b || b.State.StartedAt !== a.State.StartedAt || a.RestartCount !== 0;
        }).length;
        const resized = after.filter((a) => a.HostConfig.Memory === TO.memoryMb * 2 ** 20 && a.HostConfig.CpuShares === TO.cpuShares).length;

        // Baseline: the same containers back to the old limits, then timed to the new ones.
        const ids = after.map((c) => c.Id);
        const update = (s: typeof FROM) => runOk("docker", ["update", "--memory", `${s.memoryMb}m`, "--memory-swap", `${s.memoryMb}m`, "--cpu-shares", String(s.cpuShares), ...ids]);
        await update(FROM);
        const dockerUpdate = await timed(() => update(TO));

        printTable(
            `In-place resize of ${n} web dynos ${FROM.name} -> ${TO.name}; ${machineLine()}`,
            ["dynos", "ps:resize s", "resized", "restarted or replaced", `docker update x ${n} s`, "ratio"],
            [[String(after.length), fmt(resize.seconds), `${resized}/${n}`, String(restarted), fmt(dockerUpdate), ratio(resize.seconds, dockerUpdate)]],
        );
        // Where the time goes: the engine's own timestamps of the `docker update` calls the up made.
        const first = (Math.min(...updates.map((e) => e.at)) - resize.startedAt) / 1000;
        const last = (Math.max(...updates.map((e) => e.at)) - resize.startedAt) / 1000;
        const planned = resize.lines.find((l) => l.text.startsWith("Memory:"))?.at ?? 0;
        printTable(
            `Where the ${fmt(resize.seconds)} s of ps:resize go (CLI output and docker events timestamps):`,
            ["phase", "seconds"],
            [
                ["CLI start, stack file edit, stack open, typed plan", fmt(planned)],
                ["refresh, program, engine diffs until the first container update", fmt(first - planned)],
                [`${updates.length} container updates (engine)`, fmt(last - first)],
                ["router config, state write, CLI exit", fmt(resize.seconds - last)],
            ],
        );
        process.stdout.write(`CPU time of the CLI's process tree: ${cpuLine(resize.usage)}\n`);
        if (after.length !== n || restarted !== 0 || resized !== n) {
            throw new Error(`resize check failed: ${after.length} dynos, ${restarted} restarted or replaced, ${resized} resized`);
        }
    } finally {
        await app.cleanup();
    }
}

if (require.main === module) runMain(main);
