import assert from "node:assert/strict";
import { test } from "node:test";
import * as vm from "vm";
import { engineAccess, loopProgram } from "../../../infra/docker/scheduler";
import { jobContainer, libpqEnvOf, LoopSpec, runStamp } from "../../../infra/docker/scheduler-loop";
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
    assert.throws(() => engineAccess("ssh://x"), /only unix:\/\/ and tcp:\/\//);
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
