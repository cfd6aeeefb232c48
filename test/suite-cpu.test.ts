import assert from "node:assert/strict";
import { test } from "node:test";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { concurrentPass, expandGlobs, kindOf, testFileOf } from "../bench/suite-cpu";

test("suite-cpu runs package.json's concurrent pass, on given paths when there are any", () => {
    const script = "npm run build --silent && node dist/cli/main.js doctor && node --test --test-concurrency=3 --test-timeout=1200000 dist/test/*.test.js dist/test/cli && node --test --test-concurrency=1 dist/test/reliability/serial";
    assert.deepEqual(concurrentPass(script, []), ["node", "--test", "--test-concurrency=3", "--test-timeout=1200000", "dist/test/*.test.js", "dist/test/cli"]);
    assert.deepEqual(concurrentPass(script, ["dist/test/smoke.live.test.js"]), ["node", "--test", "--test-concurrency=3", "--test-timeout=1200000", "dist/test/smoke.live.test.js"]);
    assert.throws(() => concurrentPass("tsc && node x.js", []), /no `node --test` step/);
});

test("suite-cpu tells a test file's process from the runner, and long-lived processes by kind", () => {
    const file = (args: string[]) => testFileOf({ comm: "node", args });
    assert.match(file(["/usr/bin/node", "--test-concurrency=3", "/x/dist/test/cli/ps.live.test.js"]) ?? "", /test\/cli\/ps\.live\.test\.js$/);
    assert.equal(file(["node", "--test", "--test-concurrency=3", "dist/test/cli/ps.live.test.js"]), undefined, "the runner");
    assert.equal(file(["node", "/x/dist/cli/main.js", "up"]), undefined);
    assert.equal(file(["node", "dist/bench/suite-cpu.js", "dist/test/cli/ps.live.test.js"]), undefined, "this script, given a file");
    const kind = (comm: string, args: string[], ancestors: string[] = [], ppid = 1) => kindOf({ comm, args, pid: 100, ppid }, ancestors);
    assert.equal(kind("dockerd", ["/usr/sbin/dockerd", "--data-root", "/var/lib/docker"]), "dockerd (this machine's engine)");
    assert.equal(kind("dockerd", ["/usr/sbin/dockerd", "--data-root", "/var/lib/dynoform-test-cluster/dfsw1/docker"]), "dockerd (test labs' engines)");
    assert.equal(kind("node", ["node", "index.js"], ["containerd-shim", "systemd"]), "containers' processes (dynos, add-ons, routers)");
    assert.equal(kind("kworker/0:1", [], [], 2), "kernel threads");
    assert.equal(kind("pulumi", ["pulumi", "up"], ["node"]), undefined, "a test tree's process has no kind");
});

test("suite-cpu expands the test script's file patterns as its shell would", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-suite-cpu-"));
    try {
        fs.mkdirSync(path.join(dir, "t"));
        for (const f of ["b.test.js", "a.test.js", "a.test.js.map", "x.js"]) fs.writeFileSync(path.join(dir, "t", f), "");
        assert.deepEqual(expandGlobs(["node", "--test", "t/*.test.js", "t/sub"], dir), ["node", "--test", "t/a.test.js", "t/b.test.js", "t/sub"]);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
