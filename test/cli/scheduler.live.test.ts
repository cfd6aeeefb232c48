import assert from "node:assert/strict";
import { test } from "node:test";
import { testLive } from "../support/engines";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { SCHEDULER_ROLE } from "../../components/scheduler";
import { demuxLogs } from "../../infra/docker/logs";
import { deployOnce, usageLine } from "../support/cli";
import { containersWith } from "../support/harness";
import { eventually } from "../support/poll";

// Heroku Scheduler through the real CLI, on one deployment for the file (tests run in order):
// a job every minute, its output in `logs`, its exit code in `scheduler`, an overlapping run
// skipped, and a scheduled Postgres backup with its retention. The scheduler runs on a clock the
// test controls: a cron minute lasts TICK real seconds (the CLI's children inherit the setting).
// Every wait below is on that clock (a run, a skip, a backup: one to three minutes each), so TICK
// sets most of the file's time; each wait's deadline stays in real seconds (a loaded CI host).
const TICK = 10;
process.env.DYNOFORM_SCHEDULER_TICK_SECONDS = String(TICK);
/** How long a wait for a scheduled run may take: the deadlines the file had at 20 s minutes. */
const RUN_DEADLINE_MS = 120_000;
const tiny = deployOnce("sched", {
    settings: {
        addons: { postgres: "postgres" },
        config: { GREETING: "hi-from-config" },
        // A job that outlives its minute: its next run must be skipped, with a log line.
        scheduler: { slow: { schedule: "* * * * *", command: `echo slow started; sleep ${Math.round(TICK * 1.5)}` } },
    },
});

/** The finished run of a job, from Docker's containers (cheap to poll; the CLI is asked once it is there). */
async function finishedRun(stack: string, job: string) {
    const runs = await containersWith({ [LABEL.stack]: stack, [LABEL.dyno]: `scheduler.${job}` });
    return runs.find((c) => c.State === "exited");
}

/** What the stack's scheduler container printed, read through Docker: cheap to poll, where a CLI run costs about 1 CPU-s. */
async function schedulerLog(stack: string): Promise<string> {
    const [c] = (await containersWith({ [LABEL.stack]: stack, [LABEL.role]: SCHEDULER_ROLE })).filter((x) => x.State === "running");
    return c ? demuxLogs((await connectDocker().getContainer(c.Id).logs({ stdout: true, stderr: true })) as unknown as Buffer) : "";
}

/** `stat` of the backups folder and its files, from a throwaway container of the add-on's image. */
async function backupFileModes(stack: string): Promise<string> {
    const docker = connectDocker();
    const [pg] = await containersWith({ [LABEL.stack]: stack, "dev.dynoform.addon": "postgres" });
    const image = (await docker.getContainer(pg.Id).inspect()).Image;
    const c = await docker.createContainer({ Image: image, Entrypoint: ["/bin/sh", "-c"], Cmd: ["stat -c '%a %n' /backups /backups/*"], HostConfig: { Mounts: [{ Type: "volume", Source: `tiny.${stack}.pg-backups`, Target: "/backups" }] } });
    try {
        await c.start();
        await c.wait();
        return demuxLogs((await c.logs({ stdout: true, stderr: true })) as unknown as Buffer).trim();
    } finally {
        await c.remove({ force: true });
    }
}

testLive("scheduler:add refuses a bad cron expression with one line naming the field; nothing changes", async (t) => {
    const { project, stack } = await tiny.deployed();
    const before = project.readStack(stack);
    const bad = await project.cli(["scheduler:add", "61 * * * *", "--stack", stack, "--", "echo", "hi"]);
    assert.match(usageLine(bad), /`schedule`: minute "61" is out of range 0-59/);
    const short = await project.cli(["scheduler:add", "* * *", "--stack", stack, "--", "echo", "hi"]);
    assert.match(usageLine(short), /`schedule`: "\* \* \*" has 3 fields; a schedule has five/);
    const at = await project.cli(["pg:backups:schedule", "--at", "25:00", "--stack", stack]);
    assert.match(usageLine(at), /`--at`: expected a time of day in UTC as HH:MM/);
    assert.equal(project.readStack(stack), before, "the stack file is unchanged");
});

testLive("a job every minute runs on time as a one-off dyno: output in logs, exit code in scheduler", async (t) => {
    const { project, stack } = await tiny.deployed();
    const add = await project.cli(["scheduler:add", "* * * * *", "--name", "tick", "--no-up", "--stack", stack, "--", "sh", "-c", 'echo "tick $DYNO $GREETING db=${DATABASE_URL%%:*}"; exit 3']);
    assert.equal(add.code, 0, add.stderr);
    assert.match(project.readStack(stack), /tick:\n\s+schedule: "\* \* \* \* \*"\n\s+command:/);
    const preview = await project.cli(["preview", "--stack", stack]);
    assert.equal(preview.code, 0, preview.stderr);
    assert.match(preview.stdout, /^Scheduler \(UTC\):\n  \+ tick \(\* \* \* \* \*\): sh -c 'echo .*exit 3'$/m, preview.stdout);
    assert.doesNotMatch(preview.stdout, /slow/, "an unchanged job is not listed");
    assert.match(preview.stdout, /update\s+docker:Scheduler \S+-scheduler$/m);
    const up = await project.cli(["up", "--yes", "--stack", stack]);
    assert.equal(up.code, 0, up.stderr);

    const run = await eventually(() => finishedRun(stack, "tick"), RUN_DEADLINE_MS, "the tick job's first run to finish", 250);
    const info = await connectDocker().getContainer(run.Id).inspect();
    // On the test's clock, minutes begin on multiples of TICK seconds.
    const late = Date.parse(info.State.StartedAt) % (TICK * 1000);
    assert.ok(late < (TICK * 1000) / 2, `started on the minute: ${late} ms after it began (at ${info.State.StartedAt})`);
    t.diagnostic(`the tick run started ${late} ms into its ${TICK} s minute`);

    const list = await project.cli(["scheduler", "--stack", stack, "--json"]);
    assert.equal(list.code, 0, list.stderr);
    const tick = (JSON.parse(list.stdout) as Array<{ name: string; schedule: string; runs: string; lastRun: { exitCode: number; startedAt: string } | null }>).find((j) => j.name === "tick");
    assert.ok(tick?.lastRun, list.stdout);
    assert.equal(tick.schedule, "* * * * *");
    assert.equal(tick.lastRun.exitCode, 3);
    const text = await project.cli(["scheduler", "--stack", stack]);
    assert.match(text.stdout, /^tick\s+\* \* \* \* \*\s+sh -c .*\(last run \S+: exit 3(; running since \S+)?, next \S+\)$/m, text.stdout);

    const logs = await project.cli(["logs", "--stack", stack, "-n", "500"]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /scheduler\[tick\]: tick scheduler\.tick hi-from-config db=postgres$/m, "the job's output, with config vars and add-on URLs");

    const rm = await project.cli(["scheduler:remove", "tick", "--stack", stack]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal((await containersWith({ [LABEL.stack]: stack, [LABEL.dyno]: "scheduler.tick" })).length, 0, "the removed job's runs are gone");
    const missing = await project.cli(["scheduler:remove", "tick", "--stack", stack]);
    assert.match(usageLine(missing), /no scheduler job `tick`/);
});

testLive("an overlapping run of a job is skipped with a log line", async () => {
    const { project, stack } = await tiny.deployed();
    // `slow` runs for a minute and a half: its next minute finds it still running. The scheduler
    // was replaced by the `up`s above: the one running now started the run it finds (or its
    // predecessor did), and the skip names that run's container either way.
    await eventually(async () => /slow: skipped the run due at /.test(await schedulerLog(stack)), 160_000, "the overlapping slow run to be skipped", 250);
    const l = await project.cli(["logs", "--stack", stack, "-n", "500", "--dyno", "scheduler"]);
    const skipped = /dynoform\[scheduler\]: slow: skipped the run due at \S+: (\S+) is still running$/m.exec(l.stdout);
    assert.ok(skipped, l.stdout);
    assert.match(skipped[1], new RegExp(`^tiny\\.${stack}\\.scheduler\\.slow\\.\\d{8}t\\d{4}$`));
});

testLive("pg:backups:schedule: backups appear on schedule, the newest --retain kept, files 0600; unschedule stops them", async (t) => {
    const { project, stack } = await tiny.deployed();
    const sched = await project.cli(["pg:backups:schedule", "--cron", "* * * * *", "--retain", "1", "--stack", stack]);
    assert.equal(sched.code, 0, sched.stderr);
    assert.match(project.readStack(stack), /pg-backups:\n\s+schedule: "\* \* \* \* \*"\n\s+backup: postgres\n\s+retain: 1/);

    type Listed = { id: string; status: string; mode: string; time: string };
    const list = async () => {
        const r = await project.cli(["pg:backups", "--stack", stack, "--json"]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as Listed[];
    };
    const first = await eventually(async () => (await finishedRun(stack, "pg-backups")) && (await list()).find((b) => b.status === "Completed"), RUN_DEADLINE_MS, "a scheduled backup", 2000);
    const firstRun = (await finishedRun(stack, "pg-backups"))!.Id;
    const run = (await connectDocker().getContainer(firstRun).inspect()).State.StartedAt;
    assert.ok(Date.parse(run) % (TICK * 1000) < (TICK * 1000) / 2, `the backup ran on the minute (started at ${run})`);
    const [folder, ...files] = (await backupFileModes(stack)).split("\n");
    assert.equal(folder, "700 /backups");
    // The test's minute is 10 s: on a busy machine the next capture may already have replaced the
    // first (retain 1) by now, so the folder holds the first backup's file or a later one's.
    const idOf = (f: string) => Number(/^600 \/backups\/b(\d+)\.dump$/.exec(f)?.[1] ?? NaN);
    assert.ok(files.length >= 1 && files.every((f) => idOf(f) >= Number(first.id.slice(1))), `files 0600, ${first.id} or later:\n${files.join("\n")}`);
    // The next minute's capture replaces it: retain 1 keeps only the newest.
    // Polled through Docker (the next run's container) before the CLI is asked.
    const later = await eventually(async () => {
        if ((await finishedRun(stack, "pg-backups"))?.Id === firstRun) return undefined;
        const done = (await list()).filter((b) => b.status === "Completed");
        return done.length === 1 && done[0].id !== first.id ? done : undefined;
    }, RUN_DEADLINE_MS, "a second scheduled backup, with the first deleted (retain 1)", 1000);
    assert.ok(Number(later[0].id.slice(1)) > Number(first.id.slice(1)));
    const scheduler = await project.cli(["scheduler", "--stack", stack]);
    assert.match(scheduler.stdout, /^pg-backups\s+\* \* \* \* \*\s+pg:backups:capture postgres \(keep 1\)\s+\(last run \S+: exit 0[;,]/m, scheduler.stdout);

    const slowRuns = await containersWith({ [LABEL.stack]: stack, [LABEL.dyno]: "scheduler.slow" });
    assert.ok(slowRuns.length <= 2, `one finished run kept per job, and one running: ${slowRuns.map((c) => `${c.Names[0]} ${c.State}`).join(", ")}`);

    const un = await project.cli(["pg:backups:unschedule", "--stack", stack]);
    assert.equal(un.code, 0, un.stderr);
    assert.doesNotMatch(project.readStack(stack), /pg-backups:/);
    const again = await project.cli(["pg:backups:unschedule", "--stack", stack]);
    assert.match(usageLine(again), /no backup schedule/);
});
