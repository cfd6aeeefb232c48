import assert from "node:assert/strict";
import { test } from "node:test";
import { DynoformInputError } from "../../components/errors";
import { dailyAt, jobNameFor, validateRetain, validateSchedulerJobs } from "../../components/scheduler";

const fails = (fn: () => unknown, field: string, re: RegExp) =>
    assert.throws(fn, (e: Error) => e instanceof DynoformInputError && e.field === field && re.test(e.reason), field);

test("validateSchedulerJobs: commands and backups, checked", () => {
    assert.deepEqual(
        validateSchedulerJobs({ report: { schedule: "*/10 * * * *", command: "npm run report" }, "pg-backups": { schedule: "0 2 * * *", backup: "postgres", retain: "3" } }, ["postgres"]),
        [
            { name: "report", schedule: "*/10 * * * *", command: "npm run report" },
            { name: "pg-backups", schedule: "0 2 * * *", backup: { addon: "postgres", retain: 3 } },
        ],
    );
    assert.deepEqual(validateSchedulerJobs({ b: { schedule: "@daily", backup: "db" } }, ["db"])[0].backup, { addon: "db", retain: 7 });
    assert.deepEqual(validateSchedulerJobs(undefined), []);
});

test("validateSchedulerJobs: bad input names the field", () => {
    fails(() => validateSchedulerJobs({ r: { schedule: "* * * * 9", command: "x" } }), "scheduler.r.schedule", /^day of week "9" is out of range 0-7$/);
    fails(() => validateSchedulerJobs({ r: { schedule: 5, command: "x" } }), "scheduler.r.schedule", /expected a cron expression/);
    fails(() => validateSchedulerJobs({ "Bad Name": { schedule: "* * * * *", command: "x" } }), "scheduler.Bad Name", /lower-case letters/);
    fails(() => validateSchedulerJobs({ r: { schedule: "* * * * *" } }), "scheduler.r", /not neither/);
    fails(() => validateSchedulerJobs({ r: { schedule: "* * * * *", command: "x", backup: "pg" } }), "scheduler.r", /not both/);
    fails(() => validateSchedulerJobs({ r: { schedule: "* * * * *", command: "x", at: 1 } }), "scheduler.r.at", /unknown key/);
    fails(() => validateSchedulerJobs({ r: { schedule: "* * * * *", backup: "cache" } }, ["postgres"]), "scheduler.r.backup", /not a Postgres add-on of this app \(Postgres add-ons: postgres\)/);
    fails(() => validateSchedulerJobs({ r: { schedule: "* * * * *", backup: "postgres", retain: 0 } }, ["postgres"]), "scheduler.r.retain", /from 1 to 1000/);
    fails(() => validateSchedulerJobs(["x"]), "scheduler", /expected a map/);
});

test("dailyAt: HH:MM in UTC as a daily cron expression", () => {
    assert.equal(dailyAt("02:00"), "0 2 * * *");
    assert.equal(dailyAt("23:59 UTC"), "59 23 * * *");
    assert.equal(dailyAt("7:05"), "5 7 * * *");
    for (const bad of ["24:00", "2", "02:60", "2am", "02:00 CET"]) fails(() => dailyAt(bad), "--at", /HH:MM/);
});

test("jobNameFor and validateRetain", () => {
    assert.equal(jobNameFor("npm run report", []), "npm-run-report");
    assert.equal(jobNameFor("npm run report", ["npm-run-report"]), "npm-run-report-2");
    assert.equal(jobNameFor("!!!", []), "job");
    assert.equal(validateRetain(5, "--retain"), 5);
    fails(() => validateRetain(1.5, "--retain"), "--retain", /whole number/);
});
