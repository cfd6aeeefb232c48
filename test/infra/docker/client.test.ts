import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { test } from "node:test";

// connectDocker loads dockerode without its BuildKit session module (gRPC, protobufjs); the
// session still works when called. Each case runs in a fresh node, whose module cache is empty.

const CLIENT = path.resolve(__dirname, "..", "..", "..", "infra", "docker", "client.js");

function inFreshNode(script: string): string {
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", cwd: path.dirname(CLIENT) });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
}

test("connectDocker: dockerode loads without gRPC or protobufjs; plain require('dockerode') loads both", () => {
    const count = `const k = Object.keys(require.cache); console.log(k.filter((f) => /[\\\\/](@grpc|protobufjs)[\\\\/]/.test(f)).length);`;
    const ours = Number(inFreshNode(`require(${JSON.stringify(CLIENT)}).connectDocker(); ${count}`));
    const plain = Number(inFreshNode(`require("dockerode"); ${count}`));
    assert.equal(ours, 0, "no gRPC or protobufjs module loaded through connectDocker");
    assert.ok(plain > 50, `dockerode alone loads them (${plain} modules)`);
});

test("connectDocker: the deferred session loads the real one on its first call (a dial error reaches the handler)", () => {
    const out = inFreshNode(`
        require(${JSON.stringify(CLIENT)}).connectDocker();
        const withSession = require("dockerode/lib/session");
        const docker = { modem: { dial: (_opts, cb) => cb(new Error("no engine here")) } };
        withSession(docker, undefined, (err) => {
            const loaded = Object.keys(require.cache).some((f) => /[\\\\/]@grpc[\\\\/]proto-loader[\\\\/]/.test(f));
            console.log(err.message + " / real module loaded: " + loaded);
        });`);
    assert.equal(out, "no engine here / real module loaded: true");
});

test("removeContainer: the engine's refusals are tried again until the container is gone; 404 is gone; no answer three times throws", async () => {
    const { removeContainer } = require(CLIENT) as typeof import("../../../infra/docker/client");
    /** A container whose removals answer, in turn, with these status codes (0: removed; undefined: no answer). */
    const container = (answers: Array<number | undefined>) => {
        const calls: unknown[] = [];
        const c = {
            calls,
            async remove(opts: unknown) {
                calls.push(opts);
                const code = answers.length > 1 ? answers.shift() : answers[0];
                if (code === 0) return;
                throw Object.assign(new Error(code === undefined ? "connect ECONNREFUSED" : `(HTTP code ${code}) refused`), { statusCode: code });
            },
        };
        return c as typeof c & import("dockerode").Container;
    };
    const flipping = container([409, 500, 409, 0]);
    await removeContainer(flipping, 5000, 1);
    assert.equal(flipping.calls.length, 4, "two conflicts and a failed kill, then removed");
    assert.deepEqual(flipping.calls[0], { force: true, v: false });

    const gone = container([409, 404]);
    await removeContainer(gone, 5000, 1);
    assert.equal(gone.calls.length, 2, "already gone counts as removed");

    const stuck = container([409]);
    const started = Date.now();
    await assert.rejects(removeContainer(stuck, 50, 5), /HTTP code 409/);
    assert.ok(stuck.calls.length >= 5 && Date.now() - started < 1000, `tried until the deadline (${stuck.calls.length} calls)`);

    const flaky = container([undefined, undefined, 0]);
    await removeContainer(flaky, 5000, 1);
    assert.equal(flaky.calls.length, 3, "a request lost twice (over SSH), then answered");

    const unreachable = container([undefined]);
    const asked = Date.now();
    await assert.rejects(removeContainer(unreachable, 5000, 1), /ECONNREFUSED/);
    assert.equal(unreachable.calls.length, 3, "an engine that does not answer is asked three times in all");
    assert.ok(Date.now() - asked < 1000, "not until the deadline");
});
