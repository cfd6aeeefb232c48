import assert from "node:assert/strict";
import { test } from "node:test";
import {
    formatLogLine,
    LogLine,
    LogLineSplitter,
    logSourceOf,
    matchesFilter,
    parseDockerTimestamp,
    pollUntilStopped,
    schedulerContainers,
} from "../../cli/app-logs";

// The pure parts of `dynoform logs`: naming containers, filters, Docker timestamps, and
// splitting Docker's multiplexed log stream into lines across chunk boundaries.

const labels = (l: Record<string, string>) => ({ Id: "c1", Labels: l });

test("logSourceOf: dynos as app[web.1], one-offs as app[run.2], the router as dynoform[router], add-ons as addon[name]", () => {
    const web = logSourceOf(labels({ "dev.dynoform.process-type": "web", "dev.dynoform.dyno": "web.1" }));
    assert.deepEqual([web.kind, web.dyno, web.processType, web.label], ["app", "web.1", "web", "app[web.1]"]);
    assert.equal(logSourceOf(labels({ "dev.dynoform.role": "run", "dev.dynoform.process-type": "run", "dev.dynoform.dyno": "run.2" })).label, "app[run.2]");
    assert.equal(logSourceOf(labels({ "dev.dynoform.process-type": "router", "dev.dynoform.dyno": "router.1" })).label, "dynoform[router]");
    const pg = logSourceOf(labels({ "dev.dynoform.process-type": "postgres", "dev.dynoform.dyno": "postgres.1", "dev.dynoform.addon": "postgres" }));
    assert.deepEqual([pg.kind, pg.label], ["addon", "addon[postgres]"]);
});

test("logSourceOf: a scheduled job's runs as scheduler[job], the scheduler itself as dynoform[scheduler]", () => {
    const run = logSourceOf(labels({ "dev.dynoform.role": "scheduler-job", "dev.dynoform.process-type": "scheduler", "dev.dynoform.dyno": "scheduler.report" }));
    assert.deepEqual([run.kind, run.dyno, run.processType, run.label], ["app", "scheduler.report", "scheduler", "scheduler[report]"]);
    assert.ok(matchesFilter(run, { dyno: "scheduler" }) && matchesFilter(run, { dyno: "scheduler.report" }) && matchesFilter(run, { ps: "scheduler" }));
    const loop = logSourceOf(labels({ "dev.dynoform.role": "scheduler", "dev.dynoform.process-type": "scheduler" }));
    assert.deepEqual([loop.kind, loop.label], ["dynoform", "dynoform[scheduler]"]);
    assert.ok(matchesFilter(loop, { dyno: "scheduler" }));
});

test("schedulerContainers: what a cluster's logs read beside the services: the scheduler and its runs, no dyno, add-on or one-off", () => {
    assert.ok(schedulerContainers(labels({ "dev.dynoform.role": "scheduler-job", "dev.dynoform.dyno": "scheduler.report" })));
    assert.ok(schedulerContainers(labels({ "dev.dynoform.role": "scheduler" })));
    for (const role of ["dyno", "run", "release", "addon", "router"]) assert.equal(schedulerContainers(labels({ "dev.dynoform.role": role })), false, role);
    assert.equal(schedulerContainers({ Labels: undefined as unknown as Record<string, string> }), false);
});

test("matchesFilter: --dyno takes a dyno or a process type, --ps a process type, --source a kind", () => {
    const web2 = logSourceOf(labels({ "dev.dynoform.process-type": "web", "dev.dynoform.dyno": "web.2" }));
    const router = logSourceOf(labels({ "dev.dynoform.process-type": "router" }));
    assert.ok(matchesFilter(web2, {}));
    assert.ok(matchesFilter(web2, { dyno: "web.2" }));
    assert.ok(matchesFilter(web2, { dyno: "web" }));
    assert.ok(!matchesFilter(web2, { dyno: "web.1" }));
    assert.ok(matchesFilter(web2, { ps: "web" }));
    assert.ok(!matchesFilter(web2, { ps: "worker" }));
    assert.ok(matchesFilter(router, { dyno: "router" }));
    assert.ok(!matchesFilter(router, { source: "app" }));
    assert.ok(matchesFilter(router, { source: "dynoform" }));
});

test("parseDockerTimestamp: nanoseconds, trailing zeros dropped by Docker, offsets; garbage is undefined", () => {
    assert.equal(parseDockerTimestamp("2026-11-28T12:00:00.123456789Z"), 1795867200123456789n);
    assert.equal(parseDockerTimestamp("2026-11-28T12:00:00.1Z"), 1795867200100000000n);
    assert.equal(parseDockerTimestamp("2026-11-28T12:00:00Z"), 1795867200000000000n);
    assert.equal(parseDockerTimestamp("2026-11-28T13:00:00.5+01:00"), 1795867200500000000n);
    assert.equal(parseDockerTimestamp("hello"), undefined);
});

function frame(stream: 1 | 2, text: string): Buffer {
    const body = Buffer.from(text);
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(body.length, 4);
    return Buffer.concat([header, body]);
}

test("LogLineSplitter: frames and lines split across chunks, stdout and stderr apart, last line flushed", () => {
    const source = logSourceOf(labels({ "dev.dynoform.process-type": "web", "dev.dynoform.dyno": "web.1" }));
    const lines: LogLine[] = [];
    const s = new LogLineSplitter(source, false, (l) => lines.push(l));
    const all = Buffer.concat([
        frame(1, "2026-11-28T12:00:00.1Z first\n2026-11-28T12:00:00.2Z sec"),
        frame(2, "2026-11-28T12:00:00.3Z oops\r\n"),
        frame(1, "ond\n2026-11-28T12:00:00.4Z no newline"),
    ]);
    for (let i = 0; i < all.length; i += 5) s.push(all.subarray(i, i + 5));
    s.flush();
    assert.deepEqual(
        lines.map((l) => [l.stream, l.text]),
        [
            ["stdout", "first"],
            ["stderr", "oops"],
            ["stdout", "second"],
            ["stdout", "no newline"],
        ],
    );
    assert.equal(formatLogLine(lines[0]), "2026-11-28T12:00:00.100Z app[web.1]: first");
});

test("LogLineSplitter: a TTY container's stream has no frame headers", () => {
    const source = logSourceOf(labels({ "dev.dynoform.dyno": "run.1", "dev.dynoform.process-type": "run" }));
    const lines: LogLine[] = [];
    const s = new LogLineSplitter(source, true, (l) => lines.push(l));
    s.push(Buffer.from("2026-11-28T12:00:00Z $ ls\r\n2026-11-28T12:00:01Z a b\r\n"));
    assert.deepEqual(lines.map((l) => formatLogLine(l)), ["2026-11-28T12:00:00.000Z app[run.1]: $ ls", "2026-11-28T12:00:01.000Z app[run.1]: a b"]);
});

test("pollUntilStopped: ticks again after each run (a throwing one too); stop closes once, resolves done, and no tick follows", async () => {
    let ticks = 0;
    let closed = 0;
    let reached = () => undefined as void;
    const third = new Promise<void>((resolve) => (reached = resolve));
    const loop = pollUntilStopped(
        async () => {
            ticks++;
            if (ticks === 2) throw new Error("Docker did not answer");
            if (ticks === 3) reached();
        },
        5,
        () => closed++,
    );
    assert.equal(loop.stopped(), false);
    await third;
    loop.stop();
    loop.stop();
    await loop.done;
    const atStop = ticks;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(ticks, atStop, "no tick after stop");
    assert.equal(closed, 1, "onStop once");
    assert.equal(loop.stopped(), true);
});
