import assert from "node:assert/strict";
import { test } from "node:test";
import { CronError, cronMatches, nextRun, parseCron } from "../../components/cron";

const at = (iso: string) => new Date(iso);

test("parseCron: steps, ranges, lists, names, macros; Sunday as 0 or 7", () => {
    const s = parseCron("*/10 9-17 * jan-mar mon,wed,7");
    assert.deepEqual(s.minute, [0, 10, 20, 30, 40, 50]);
    assert.deepEqual(s.hour, [9, 10, 11, 12, 13, 14, 15, 16, 17]);
    assert.deepEqual(s.month, [1, 2, 3]);
    assert.deepEqual(s.dayOfWeek, [0, 1, 3]);
    assert.deepEqual(parseCron("5-20/5 * * * *").minute, [5, 10, 15, 20]);
    assert.deepEqual(parseCron("@daily"), parseCron("0 0 * * *"));
    assert.deepEqual(parseCron("30/15 * * * *").minute, [30, 45]);
});

test("parseCron: a bad expression is one line naming the field", () => {
    const cases: Array<[string, RegExp]> = [
        ["61 * * * *", /^minute "61" is out of range 0-59$/],
        ["* 24 * * *", /^hour "24" is out of range 0-23$/],
        ["* * 0 * *", /^day of month "0" is out of range 1-31$/],
        ["* * * 13 *", /^month "13" is out of range 1-12$/],
        ["* * * * 8", /^day of week "8" is out of range 0-7$/],
        ["* * * * funday", /^day of week "funday" is not a number or a name$/],
        ["*/0 * * * *", /^minute "\*\/0" has a step that is not a whole number above 0$/],
        ["10-5 * * * *", /^minute "10-5" is a range from high to low$/],
        ["* * * *", /^"\* \* \* \*" has 4 fields; a schedule has five/],
        ["", /has 0 fields/],
        ["1,,2 * * * *", /^minute "1,,2" is not a value, range or step$/],
    ];
    for (const [expr, re] of cases) {
        assert.throws(() => parseCron(expr), (e: Error) => e instanceof CronError && re.test(e.message) && !e.message.includes("\n"), expr);
    }
});

test("cronMatches: UTC minutes; restricted day-of-month and day-of-week match either (cron's rule)", () => {
    const s = parseCron("*/10 * * * *");
    assert.equal(cronMatches(s, at("2026-11-30T16:10:00Z")), true);
    assert.equal(cronMatches(s, at("2026-11-30T16:11:00Z")), false);
    const both = parseCron("0 0 1 * mon");
    assert.equal(cronMatches(both, at("2026-12-01T00:00:00Z")), true, "the 1st (a Tuesday)");
    assert.equal(cronMatches(both, at("2026-11-30T00:00:00Z")), true, "a Monday");
    assert.equal(cronMatches(both, at("2026-12-02T00:00:00Z")), false);
    assert.equal(cronMatches(parseCron("0 0 * * 1-5"), at("2026-11-29T00:00:00Z")), false, "a Sunday");
});

test("nextRun: the first matching minute strictly after the time given", () => {
    assert.equal(nextRun(parseCron("* * * * *"), at("2026-11-30T16:10:30Z"))?.toISOString(), "2026-11-30T16:11:00.000Z");
    assert.equal(nextRun(parseCron("*/10 * * * *"), at("2026-11-30T16:10:00Z"))?.toISOString(), "2026-11-30T16:20:00.000Z");
    assert.equal(nextRun(parseCron("0 2 * * *"), at("2026-11-30T16:10:00Z"))?.toISOString(), "2026-12-01T02:00:00.000Z");
    assert.equal(nextRun(parseCron("0 0 29 2 *"), at("2026-11-30T00:00:00Z"))?.toISOString(), "2028-02-29T00:00:00.000Z");
    assert.equal(nextRun(parseCron("0 0 31 2 *"), at("2026-11-30T00:00:00Z")), undefined, "February 31st never comes");
});

test("nextRun agrees with a minute-by-minute scan", () => {
    const exprs = ["*/7 * * * *", "15 3,15 * * *", "0 0 * * 0", "*/20 9-10 1,15 * 3", "59 23 31 12 *"];
    for (const e of exprs) {
        const s = parseCron(e);
        let t = at("2026-01-30T22:13:00Z");
        for (let i = 0; i < 5; i++) {
            const next = nextRun(s, t)!;
            let scan = new Date(t.getTime() + 60_000);
            while (!cronMatches(s, scan)) scan = new Date(scan.getTime() + 60_000);
            assert.equal(next.toISOString(), scan.toISOString(), `${e} after ${t.toISOString()}`);
            t = next;
        }
    }
});
