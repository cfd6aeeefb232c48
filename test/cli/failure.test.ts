import assert from "node:assert/strict";
import { test } from "node:test";
import { engineCause } from "../../cli/failure";
import { describeHolder, holderGone, processStart } from "../../cli/stack-lock";

// The pure parts of a failed engine run's summary and of the stack lock; the behaviour through
// the CLI is in failed-up.test.ts and stack-lock.test.ts.

const DUMP = `Updating (dev):
 +  pulumi:pulumi:Stack tiny-dev creating (0s)
Diagnostics:
  pulumi:pulumi:Stack (tiny-dev):
    error: Unhandled exception: Error: no base images recorded in /x/base-images.json: run \`npx dynoform doctor\` first
        at recordedBaseImages (/x/base-images.js:138:15)
    error: no base images recorded in /x/base-images.json: run \`npx dynoform doctor\` first
  pulumi-nodejs:dynamic:Resource (tiny-release):
    error: release phase failed: exit code 1
    error: update failed
`;

test("the cause of a failed run: its error diagnostics, deduplicated, at most two, without 'update failed'", () => {
    assert.deepEqual(engineCause(DUMP, `error: update failed\n`), [
        "no base images recorded in /x/base-images.json: run `npx dynoform doctor` first",
        "release phase failed: exit code 1",
    ]);
});

test("a stack locked by another Pulumi process: said without Pulumi's advice to `pulumi cancel`", () => {
    const stderr = `error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.
  file:///s/.pulumi/locks/organization/tiny/dev/x.json: created by root@host (pid 4242) at 2026-11-30T13:00:00Z
`;
    const [line, ...rest] = engineCause("", stderr);
    assert.deepEqual(rest, []);
    assert.match(line, /^the stack is being changed by another Pulumi process \(.*pid 4242.*\): wait for it to finish/);
    assert.doesNotMatch(line, /pulumi cancel/);
});

test("a run that failed without a diagnostic: its last line", () => {
    assert.deepEqual(engineCause("", "some output\nerror: could not connect\n"), ["could not connect"]);
});

test("a lock holder is gone when its pid is not running or runs a process started at another time", () => {
    const me = { pid: process.pid, start: processStart(process.pid), command: "up --stack dev", since: "2026-11-30T13:02:11.000Z" };
    assert.equal(holderGone(me), false);
    assert.equal(holderGone({ ...me, start: `${me.start}1` }), true, "pid reused by a later process");
    assert.equal(holderGone({ ...me, pid: 2 ** 22 + 1 }), true);
    assert.equal(describeHolder(me), `pid ${process.pid} (\`dynoform up --stack dev\`) since 13:02:11 UTC`);
});
