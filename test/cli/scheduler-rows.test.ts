import assert from "node:assert/strict";
import { test } from "node:test";
import { jobRows, lastRunText, schedulerChanges } from "../../cli/scheduler";

// The pure part of `dynoform scheduler`: each declared job with its last run (from the container
// Docker keeps) and its next time.

test("jobRows: the latest run of each job, its exit code, and the next time (UTC)", () => {
    const jobs = [
        { name: "report", schedule: "*/10 * * * *", command: "npm run report" },
        { name: "pg-backups", schedule: "0 2 * * *", backup: { addon: "postgres", retain: 7 } },
    ];
    const runs = [
        { job: "report", container: "a", state: "exited" as const, startedAt: "2026-11-30T16:00:00.5Z", finishedAt: "2026-11-30T16:00:02Z", exitCode: 0 },
        { job: "report", container: "b", state: "exited" as const, startedAt: "2026-11-30T16:10:00.4Z", finishedAt: "2026-11-30T16:10:03Z", exitCode: 3 },
    ];
    const rows = jobRows(jobs, runs, new Date("2026-11-30T16:12:00Z"));
    assert.equal(rows[0].lastRun?.container, "b");
    assert.equal(rows[0].next, "2026-11-30T16:20:00.000Z");
    assert.equal(rows[1].runs, "pg:backups:capture postgres (keep 7)");
    assert.equal(rows[1].lastRun, null);
    assert.equal(rows[1].next, "2026-12-01T02:00:00.000Z");
    assert.equal(lastRunText(rows[0]), "last run 2026-11-30T16:10:00Z: exit 3");
    assert.equal(lastRunText(rows[1]), "no run yet");
    const running = { job: "report", container: "c", state: "running" as const, startedAt: "2026-11-30T16:20:00.1Z" };
    const row = jobRows(jobs, [...runs, running], new Date("2026-11-30T16:20:30Z"))[0];
    assert.equal(row.lastRun?.container, "b", "a run going on does not hide the last one's exit code");
    assert.equal(lastRunText(row), "last run 2026-11-30T16:10:00Z: exit 3; running since 2026-11-30T16:20:00Z");
});

test("schedulerChanges: what preview says about jobs added, changed and removed; nothing when the same", () => {
    const deployed = [
        { name: "report", schedule: "*/10 * * * *", what: "npm run report" },
        { name: "old", schedule: "0 * * * *", what: "echo old" },
        { name: "same", schedule: "@daily", what: "true" },
    ];
    const desired = [
        { name: "report", schedule: "*/5 * * * *", command: "npm run report" },
        { name: "same", schedule: "@daily", command: "true" },
        { name: "pg-backups", schedule: "0 2 * * *", backup: { addon: "postgres", retain: 7 } },
    ];
    assert.deepEqual(schedulerChanges(deployed, desired), [
        "Scheduler (UTC):",
        "  ~ report (*/5 * * * *): npm run report (was */10 * * * *: npm run report)",
        "  + pg-backups (0 2 * * *): pg:backups:capture postgres (keep 7)",
        "  - old (0 * * * *): echo old",
    ]);
    assert.deepEqual(schedulerChanges(deployed.slice(2), desired.slice(1, 2)), []);
});
