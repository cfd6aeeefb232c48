import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as http from "http";
import * as net from "net";
import * as path from "path";
import { test } from "node:test";
import { dockerOptions, DockerSlowError, pingDocker, resolveDockerEndpoint } from "../../infra/docker/client";
import { ensureDockerEngine } from "../../toolchain/docker-engine";
import { PACKAGE_ROOT } from "../../toolchain/paths";

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

test("DOCKER_HOST forms: unix socket, tcp with and without port, ssh; anything else is an error", () => {
    assert.deepEqual(dockerOptions("unix:///var/run/docker.sock"), { socketPath: "/var/run/docker.sock" });
    assert.deepEqual(dockerOptions("tcp://10.0.0.5:2375"), { host: "10.0.0.5", port: 2375, protocol: "http" });
    assert.deepEqual(dockerOptions("tcp://docker"), { host: "docker", port: 2375, protocol: "http" });
    assert.ok((dockerOptions("ssh://me@host") as { agent?: unknown }).agent, "ssh:// goes through the SSH agent");
    assert.throws(() => dockerOptions("npipe:////./pipe/docker_engine"), /not a unix:\/\/, tcp:\/\/host:port or ssh:\/\/user@host address/);
    assert.deepEqual(resolveDockerEndpoint("tcp://x:1"), { host: "tcp://x:1", source: "argument" });
});

/** An HTTP server standing in for a busy engine: it answers `/version`, its first `lateCount` answers `late` ms late. */
async function busyEngine(late: number, lateCount: number): Promise<{ host: string; requests: () => number; close: () => void }> {
    let requests = 0;
    const srv = http.createServer((req, res) => {
        const delay = requests++ < lateCount ? late : 0;
        setTimeout(() => {
            res.setHeader("content-type", "application/json");
            res.end(JSON.stringify({ Version: "99.0.0-busy", ApiVersion: "1.41" }));
        }, delay).unref();
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    return { host: `tcp://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, requests: () => requests, close: () => { srv.closeAllConnections(); srv.close(); } };
}

// A loaded host's engine can take seconds to answer: that is slow, not missing. It is waited
// for (and never started a second time); only an engine that never answers is an error.
test("an engine that answers late is named slow, not missing, and waited for", async () => {
    const late = await busyEngine(4000, 2); // the two pings with short deadlines below
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = late.host;
    try {
        await assert.rejects(pingDocker(resolveDockerEndpoint(), 1000), (err: Error) => {
            assert.ok(err instanceof DockerSlowError, err.name);
            assert.equal(err.message, `Docker engine at DOCKER_HOST=${late.host} did not answer within 1 s`);
            return true;
        });
        const said: string[] = [];
        const status = await ensureDockerEngine((line) => said.push(line));
        assert.deepEqual(status, { host: late.host, version: "99.0.0-busy", action: "found" });
        assert.equal(said.length, 1, said.join("\n"));
        assert.match(said[0], /did not answer within 3 s: waiting up to 60 s for it$/);
    } finally {
        if (saved === undefined) delete process.env.DOCKER_HOST;
        else process.env.DOCKER_HOST = saved;
        late.close();
    }
});
