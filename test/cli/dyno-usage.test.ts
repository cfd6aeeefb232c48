import assert from "node:assert/strict";
import { test } from "node:test";
import type Docker = require("dockerode");
import { lastStopOf, lastStopText, usageOf, usageText } from "../../cli/dyno-usage";

const stats = (over: Record<string, unknown>) =>
    ({
        memory_stats: { usage: 100 * 2 ** 20, limit: 512 * 2 ** 20, stats: { inactive_file: 20 * 2 ** 20 } },
        cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 40_000_000_000, online_cpus: 2 },
        precpu_stats: { cpu_usage: { total_usage: 2_500_000_000 }, system_cpu_usage: 38_000_000_000 },
        ...over,
    }) as unknown as Docker.ContainerStats;

test("usageOf: memory without reclaimable cache against the limit; CPU over the sample as docker stats counts it", () => {
    assert.deepEqual(usageOf(stats({})), { memoryMb: 80, limitMb: 512, memoryPercent: 15.6, cpuPercent: 50 });
    assert.equal(usageOf(stats({ memory_stats: {} })), undefined, "a stopped container has no memory figures");
    assert.equal(usageOf(stats({ precpu_stats: {} }))!.cpuPercent, 0, "no earlier sample: no CPU figure");
    assert.equal(usageText(usageOf(stats({}))!), "mem 80/512 MiB 15.6%, cpu 50%");
});

test("lastStopOf: an OOM kill (R15), a crash with its exit code, Docker's restart; never stopped is undefined", () => {
    const state = { Running: true, Restarting: false, ExitCode: 137, OOMKilled: false, FinishedAt: "2026-11-30T16:20:01.5Z" };
    const oom = lastStopOf({ ...state, ExitCode: 0 }, 2, ["2026-11-30T16:20:01.4Z"], 137)!;
    assert.deepEqual(oom, { at: "2026-11-30T16:20:01.500Z", reason: "oom-killed", exitCode: 137, error: "R15", restartedByDocker: true });
    assert.match(lastStopText(oom), /^last stop \d\d:\d\d:\d\d: R15 OOM-killed \(exit 137\), restarted by Docker$/);
    const crash = lastStopOf({ ...state, Running: false, ExitCode: 3 }, 0, ["2026-11-30T15:00:00Z"])!;
    assert.deepEqual([crash.reason, crash.exitCode, crash.error, crash.restartedByDocker], ["crashed", 3, undefined, false]);
    assert.match(lastStopText(crash), /: crashed with exit 3$/);
    assert.equal(lastStopOf({ ...state, FinishedAt: "0001-01-01T00:00:00Z" }, 0, []), undefined);
    assert.equal(lastStopOf({ ...state, OOMKilled: true }, 0, [])!.reason, "oom-killed");
    // Docker resets State.ExitCode to 0 when it restarts a container: the die event's code is the one.
    const restarted = lastStopOf({ ...state, ExitCode: 0 }, 1, [], 3)!;
    assert.deepEqual([restarted.reason, restarted.exitCode, restarted.restartedByDocker], ["crashed", 3, true]);
    assert.equal(lastStopOf({ ...state, ExitCode: 0 }, 1, ["2026-11-30T16:20:01Z"])!.exitCode, 137, "an OOM kill without its event is SIGKILL's 137");
});
