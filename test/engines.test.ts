import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { after, test } from "node:test";
import { runProcess } from "./support/cli";

// The rule for tests that need the engines (test/support/engines.ts): under CI=true a missing
// Docker engine fails the run, never skips; elsewhere the live tests are skipped with one line
// saying why, and their hooks (which would deploy) do not run. Checked on a small test file run
// by `node --test` with a DOCKER_HOST nothing answers on. Needs no engine itself.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-engines-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const support = path.join(__dirname, "support");
const file = path.join(dir, "sample.test.js");
fs.writeFileSync(
    file,
    `const { before, test } = require("node:test");
const { describeLive, testLive } = require(${JSON.stringify(path.join(support, "engines.js"))});
const { requireEngines } = require(${JSON.stringify(path.join(support, "harness.js"))});
describeLive("a live suite", () => {
    before(() => console.log("HOOK RAN"));
    test("inside", () => console.log("TEST RAN"));
});
testLive("a live test", () => console.log("TEST RAN"));
test("an older-style test", async (t) => {
    if (!(await requireEngines(t))) return;
    console.log("TEST RAN");
});
test("a pure test", () => {});
`,
);

const run = (ci: boolean) => {
    // NODE_TEST_CONTEXT would make the inner `node --test` report to this one instead.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    return runProcess(process.execPath, ["--test", "--test-reporter=tap", file], {
        env: { ...env, DOCKER_HOST: "unix:///nonexistent/docker.sock", CI: ci ? "true" : "" },
    });
};

test("CI=true without a Docker engine: each live suite and test fails naming what is missing; nothing of theirs runs", async () => {
    const r = await run(true);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /# fail 3\n/);
    assert.match(r.stdout, /# pass 1\n/);
    assert.match(r.stdout, /# skipped 0\n/);
    for (const name of ["a live suite", "a live test", "an older-style test"]) {
        assert.match(r.stdout, new RegExp(`not ok \\d+ - ${name}\\n`));
    }
    assert.match(r.stdout, /needs a real Docker engine and Pulumi CLI: Docker engine not reachable at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock.*Run `npx dynoform doctor`/);
    assert.doesNotMatch(r.stdout, /HOOK RAN|TEST RAN/);
});

test("without CI: the live tests are skipped with one line on stderr saying why; the pure test runs", async () => {
    const r = await run(false);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /# pass 1\n/);
    for (const name of ["a live suite", "a live test", "an older-style test"]) {
        assert.match(r.stdout, new RegExp(`ok \\d+ - ${name} # SKIP needs a real Docker engine`));
    }
    assert.doesNotMatch(r.stdout, /HOOK RAN|TEST RAN/);
    const said = (r.stdout + r.stderr).split("\n").filter((l) => l.includes("!!! SKIPPED"));
    assert.ok(said.length >= 1 && said.length <= 2, `one line for the file (and one from the older requireEngines), got:\n${said.join("\n")}`);
    assert.match(said[0], /!!! SKIPPED the live tests of .*sample\.test\.js: needs a real Docker engine and Pulumi CLI: Docker engine not reachable/);
});
