import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as net from "net";
import * as path from "path";
import { test } from "node:test";
import { dockerOptions, resolveDockerEndpoint } from "../../../infra/docker/client";
import { PACKAGE_ROOT } from "../../../infra/toolchain/paths";

// The bootstrap's Docker check: an engine named by DOCKER_HOST must answer as it is; one that
// does not is a one-line error naming DOCKER_HOST and a non-zero exit (no daemon is started).
test("doctor with a DOCKER_HOST that does not answer: one line naming DOCKER_HOST, exit 1", async () => {
    // A port that was just free on loopback: nothing answers there.
    const port = await new Promise<number>((resolve) => {
        const srv = net.createServer().listen(0, "127.0.0.1", () => {
            const p = (srv.address() as net.AddressInfo).port;
            srv.close(() => resolve(p));
        });
    });
    for (const host of [`tcp://127.0.0.1:${port}`, "unix:///nonexistent/docker.sock"]) {
        const r = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "dist", "cli", "main.js"), "doctor"], {
            env: { ...process.env, DOCKER_HOST: host },
            encoding: "utf8",
            timeout: 60_000,
        });
        assert.equal(r.status, 1, r.stderr);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, r.stderr);
        assert.equal(lines[0].startsWith(`dynoform: Docker engine not reachable at DOCKER_HOST=${host}: `), true, lines[0]);
    }
});

test("DOCKER_HOST forms: unix socket, tcp with and without port; anything else is an error", () => {
    assert.deepEqual(dockerOptions("unix:///var/run/docker.sock"), { socketPath: "/var/run/docker.sock" });
    assert.deepEqual(dockerOptions("tcp://10.0.0.5:2376"), { host: "10.0.0.5", port: 2376, protocol: "http" });
    assert.deepEqual(dockerOptions("tcp://docker"), { host: "docker", port: 2375, protocol: "http" });
    assert.throws(() => dockerOptions("ssh://me@host"), /not a unix:\/\/ or tcp:\/\/host:port address/);
    assert.deepEqual(resolveDockerEndpoint("tcp://x:1"), { host: "tcp://x:1", source: "argument" });
});
