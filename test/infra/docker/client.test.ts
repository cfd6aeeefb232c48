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
