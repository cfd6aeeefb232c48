import assert from "node:assert/strict";
import { test } from "node:test";
import * as vm from "vm";
import { engineAccess, loopProgram, tickSecondsFrom } from "../../../infra/docker/scheduler";
import { jobContainer, libpqEnvOf, loopClock, LoopSpec, runStamp, skipLine } from "../../../infra/docker/scheduler-loop";
import { scheduledCaptureScript } from "../../../infra/docker/backups";

const spec: LoopSpec = {
    docker: { socketPath: "/var/run/docker.sock" },
    labels: { "dev.dynoform.app": "tiny", "dev.dynoform.role": "scheduler-job" },
    jobLabel: "dev.dynoform.dyno",
    namePrefix: "tiny.dev.scheduler",
    image: "sha256:abc",
    env: { GREETING: "hi", DATABASE_URL: "postgres://app:s%40cret@tiny-postgres:5432/app" },
    network: "tiny.dev",
    memoryMb: 512,
    cpuShares: 1024,
    jobs: [],
};

test("jobContainer: a command run is a one-off dyno of the release, with its config vars, network and limits", () => {
    const c = jobContainer(spec, { name: "report", schedule: "* * * * *", command: "npm run report" }, "scheduler.report") as any;
    assert.deepEqual(c.Cmd, ["/bin/sh", "-c", "npm run report"]);
    assert.equal(c.Image, "sha256:abc");
    assert.ok(c.Env.includes("GREETING=hi") && c.Env.includes("DYNO=scheduler.report"));
    assert.equal(c.Labels["dev.dynoform.dyno"], "scheduler.report");
    assert.deepEqual(c.HostConfig, { Memory: 512 * 2 ** 20, MemorySwap: 512 * 2 ** 20, CpuShares: 1024, NetworkMode: "tiny.dev", Init: true });
});

test("jobContainer: a backup run gets libpq's env from the add-on URL, never the password in its command", () => {
    const script = scheduledCaptureScript(3);
    const backup = { image: "pg", urlVar: "DATABASE_URL", volume: "tiny.dev.pg-backups", volumeLabels: {}, mountPath: "/backups", script };
    const c = jobContainer(spec, { name: "pg-backups", schedule: "0 2 * * *", backup }, "scheduler.pg-backups") as any;
    assert.equal(c.Image, "pg");
    assert.ok(c.Env.includes("PGPASSWORD=s@cret") && c.Env.includes("PGHOST=tiny-postgres"));
    assert.ok(!JSON.stringify([c.Cmd, c.Entrypoint]).includes("s@cret"));
    assert.deepEqual(c.HostConfig.Mounts, [{ Type: "volume", Source: "tiny.dev.pg-backups", Target: "/backups" }]);
    assert.match(script, /head -n -3/);
    assert.throws(() => scheduledCaptureScript(0));
});

test("libpqEnvOf, runStamp, engineAccess", () => {
    assert.deepEqual(libpqEnvOf("postgres://u:p@h/db"), { PGHOST: "h", PGPORT: "5432", PGUSER: "u", PGPASSWORD: "p", PGDATABASE: "db" });
    assert.equal(runStamp(new Date("2026-11-30T16:10:00Z")), "20261130t1610");
    assert.deepEqual(engineAccess("unix:///run/docker.sock"), {
        docker: { socketPath: "/var/run/docker.sock" },
        mounts: [{ Type: "bind", Source: "/run/docker.sock", Target: "/var/run/docker.sock" }],
    });
    assert.deepEqual(engineAccess("tcp://10.0.0.5:2376"), { docker: { host: "10.0.0.5", port: 2376 }, mounts: [] });
    assert.deepEqual(engineAccess("ssh://root@10.0.0.5?identityFile=/k"), {
        docker: { socketPath: "/var/run/docker.sock" },
        mounts: [{ Type: "bind", Source: "/var/run/docker.sock", Target: "/var/run/docker.sock" }],
    });
    assert.throws(() => engineAccess("npipe:////./pipe/docker_engine"), /only unix:\/\/, ssh:\/\/ and tcp:\/\//);
});

test("loopProgram: the loop and its cron parser as one program needing nothing but Node", () => {
    const program = loopProgram();
    assert.doesNotThrow(() => new vm.Script(program));
    // Run up to main() with a require that offers Node's modules only: the bundle resolves the cron parser itself.
    const started: string[] = [];
    const context = vm.createContext({
        require: (id: string) => {
            if (id.startsWith(".")) throw new Error(`the bundle required ${id}`);
            return require(id);
        },
        process: { env: { DYNOFORM_SCHEDULER: JSON.stringify({ ...spec, jobs: [{ name: "r", schedule: "*/5 * * * *", command: "true" }] }) }, stdout: { write: (s: string) => started.push(s) } },
        setTimeout: () => undefined,
        Buffer,
        URL,
    });
    vm.runInContext(program, context);
    assert.deepEqual(started, ["scheduler started: r (*/5 * * * *); times are UTC\n"]);
});

test("loopClock: the wall clock's minutes, or a test's clock whose minutes last tickSeconds", () => {
    const origin = Date.parse("2026-11-30T16:10:00Z");
    const wall = loopClock(60, origin);
    const at = Date.parse("2026-11-30T16:12:59.999Z");
    assert.equal(wall.minuteAt(at), Math.floor(at / 60_000));
    assert.equal(wall.realTimeOf(wall.minuteAt(at) + 1), Date.parse("2026-11-30T16:13:00Z"));
    const fast = loopClock(15, origin);
    // Four cron minutes a real minute, each beginning on a multiple of 15 s.
    assert.equal(fast.minuteAt(origin), origin / 60_000);
    assert.equal(fast.minuteAt(origin + 14_999), origin / 60_000);
    assert.equal(fast.minuteAt(origin + 15_000), origin / 60_000 + 1);
    assert.equal(fast.minuteAt(origin + 60_000), origin / 60_000 + 4);
    assert.equal(fast.realTimeOf(origin / 60_000 + 5), origin + 75_000);
    for (let m = origin / 60_000; m < origin / 60_000 + 10; m++) assert.equal(fast.minuteAt(fast.realTimeOf(m)), m);
});

test("skipLine names the run still going by its container; tickSecondsFrom takes divisors of 60 only", () => {
    assert.equal(
        skipLine("slow", new Date("2026-11-30T16:11:00Z"), "tiny.dev.scheduler.slow.20261130t1610"),
        "slow: skipped the run due at 2026-11-30T16:11:00.000Z: tiny.dev.scheduler.slow.20261130t1610 is still running",
    );
    assert.equal(tickSecondsFrom({}), undefined);
    assert.equal(tickSecondsFrom({ DYNOFORM_SCHEDULER_TICK_SECONDS: "60" }), undefined);
    assert.equal(tickSecondsFrom({ DYNOFORM_SCHEDULER_TICK_SECONDS: "15" }), 15);
    for (const bad of ["7", "0", "90", "x", "1.5"]) assert.throws(() => tickSecondsFrom({ DYNOFORM_SCHEDULER_TICK_SECONDS: bad }), /DYNOFORM_SCHEDULER_TICK_SECONDS: expected a divisor of 60/);
});
