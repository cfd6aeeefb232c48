import assert from "node:assert/strict";
import { test } from "node:test";
import { digest, FailEvent } from "./support/failure-digest";

// What node's runner gives a reporter for a failed test: an ERR_TEST_FAILURE whose cause is the test's own error.
function fail(name: string, file: string | undefined, failureType: string, cause: unknown, message = "test failed"): FailEvent {
    return { name, file, details: { error: Object.assign(new Error(message), { failureType, cause }) } };
}

test("the failure digest names each failed test by file and name, with the first lines of its own error", () => {
    const lines = digest(
        [
            fail("an OOM-killed dyno", "/ci/dist/test/infra/docker/dyno.live.test.js", "testCodeFailure", new Error("timed out after 20000 ms\nwaiting for the hungry dyno")),
            fail("out of memory", "/ci/dist/test/infra/docker/dyno.live.test.js", "subtestsFailed", new Error("1 subtest failed")),
            fail("/ci/dist/test/e2e/swarm-hello.live.test.js", "/ci/dist/test/e2e/swarm-hello.live.test.js", "testTimeoutFailure", undefined, "test timed out after 1200000ms"),
            fail("long", undefined, "testCodeFailure", new Error(["a".repeat(250), "2", "3", "4", "5", "6"].join("\n"))),
        ],
        "/ci",
    );
    assert.deepEqual(lines, [
        "# 3 failed test(s):",
        "# not ok: dist/test/infra/docker/dyno.live.test.js: an OOM-killed dyno",
        "#   timed out after 20000 ms",
        "#   waiting for the hungry dyno",
        "# not ok: dist/test/e2e/swarm-hello.live.test.js: (the file's process)",
        "#   test timed out after 1200000ms",
        "# not ok: ?: long",
        `#   ${"a".repeat(200)}…`,
        "#   2",
        "#   3",
        "#   4",
        "#   (2 more line(s) in the TAP output above)",
    ]);
});

test("the failure digest is empty for a green run, and counts what it leaves out past eight", () => {
    assert.deepEqual(digest([]), []);
    assert.deepEqual(digest([fail("suite", "/f.js", "subtestsFailed", undefined)]), [], "a suite that failed only through its tests");
    const many = Array.from({ length: 11 }, (_, i) => fail(`t${i}`, "/ci/x.test.js", "testCodeFailure", new Error(`e${i}`)));
    const lines = digest(many, "/ci");
    assert.equal(lines[0], "# 11 failed test(s):");
    assert.equal(lines.filter((l) => l.startsWith("# not ok: ")).length, 8);
    assert.equal(lines.at(-1), "# and 3 more (the TAP output above has them all)");
});
