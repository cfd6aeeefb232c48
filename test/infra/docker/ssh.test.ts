import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { test } from "node:test";
import type { AddressInfo } from "net";
import { connectDocker, dockerHostAddress, dockerOptions, DockerHostError, isRemoteDockerHost } from "../../../infra/docker/client";
import { checkHostKey, fingerprint, hostFieldMatches, keyType, knownHostsName, parseSshHost, sessionRefused, sshAgent } from "../../../infra/docker/ssh";

/** An SSH public key blob: string type, then the key bytes. */
function blob(type: string, key: string): Buffer {
    const t = Buffer.from(type);
    const k = Buffer.from(key);
    const len = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
    return Buffer.concat([len(t.length), t, len(k.length), k]);
}

test("ssh:// hosts: user, port, key and known_hosts files (~ and relative paths resolved)", () => {
    assert.deepEqual(parseSshHost("ssh://deploy@server.example:2222?identityFile=~/.ssh/deploy&knownHostsFile=keys/kh", "/proj", "/home/me"), {
        user: "deploy", host: "server.example", port: 2222, identityFile: "/home/me/.ssh/deploy", knownHostsFile: "/proj/keys/kh",
    });
    const d = parseSshHost("ssh://root@10.0.0.5", "/proj", "/home/me");
    assert.equal(d.port, 22);
    assert.equal(d.identityFile, undefined);
    assert.equal(d.knownHostsFile, "/home/me/.ssh/known_hosts");
    assert.throws(() => parseSshHost("ssh://root@h?password=x"), /unknown option "password"/);
    assert.throws(() => parseSshHost("ssh:///nohost"), /not a valid ssh:\/\/user@host/);
});

test("known_hosts: plain, [host]:port, hashed and glob entries; unknown, changed and revoked keys", () => {
    const key = blob("ssh-ed25519", "server-key");
    const other = blob("ssh-ed25519", "attacker-key");
    const b64 = key.toString("base64");
    assert.equal(checkHostKey(`10.0.0.5 ssh-ed25519 ${b64}\n`, "10.0.0.5", key), "known");
    assert.equal(checkHostKey(`10.0.0.5 ssh-ed25519 ${b64}\n`, "10.0.0.6", key), "unknown");
    assert.equal(checkHostKey(`10.0.0.5 ssh-ed25519 ${b64}\n`, "10.0.0.5", other), "changed");
    assert.equal(checkHostKey(`10.0.0.5 ssh-rsa ${blob("ssh-rsa", "x").toString("base64")}\n`, "10.0.0.5", key), "unknown");
    assert.equal(checkHostKey(`[h]:2222 ssh-ed25519 ${b64}\n`, knownHostsName("h", 2222), key), "known");
    assert.equal(checkHostKey(`*.example.com,!bad.example.com ssh-ed25519 ${b64}\n`, "a.example.com", key), "known");
    assert.equal(hostFieldMatches("*.example.com,!bad.example.com", "bad.example.com"), false);
    const salt = crypto.randomBytes(20);
    const hash = crypto.createHmac("sha1", salt).update("10.0.0.5").digest("base64");
    assert.equal(checkHostKey(`|1|${salt.toString("base64")}|${hash} ssh-ed25519 ${b64}\n`, "10.0.0.5", key), "known");
    assert.equal(checkHostKey(`@revoked * ssh-ed25519 ${b64}\n10.0.0.5 ssh-ed25519 ${b64}\n`, "10.0.0.5", key), "revoked");
    assert.equal(keyType(key), "ssh-ed25519");
    assert.match(fingerprint(key), /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test("Docker host forms: remote or local, the server's address, TLS needs its certificate files", () => {
    assert.equal(isRemoteDockerHost("unix:///var/run/docker.sock"), false);
    assert.equal(isRemoteDockerHost("ssh://root@10.0.0.5"), true);
    assert.equal(dockerHostAddress("ssh://root@10.0.0.5:2222?identityFile=/k"), "10.0.0.5");
    assert.equal(dockerHostAddress("tcp://server:2376"), "server");
    assert.equal(dockerHostAddress("unix:///var/run/docker.sock"), undefined);
    assert.throws(() => dockerOptions("tcp://server:2376?certPath=/nonexistent"), (e: Error) => e instanceof DockerHostError && /\/nonexistent\/ca\.pem cannot be read/.test(e.message));
    assert.deepEqual(dockerOptions("tcp://server:2375"), { host: "server", port: 2375, protocol: "http" });
});

test("a client for the local socket ignores a DOCKER_HOST naming a server (promote's source, doctor's copies)", () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = "ssh://root@10.0.0.5?identityFile=/k&knownHostsFile=/kh";
    try {
        const modem = connectDocker("unix:///var/run/docker.sock").modem as unknown as Record<string, unknown>;
        assert.equal(modem.socketPath, "/var/run/docker.sock");
        assert.equal(modem.host, undefined, "not the server's address");
        assert.equal(modem.protocol, "http", "not docker-modem's own ssh");
        const tcp = connectDocker("tcp://server:2375").modem as unknown as Record<string, unknown>;
        assert.deepEqual([tcp.host, tcp.port, tcp.protocol, tcp.username], ["server", 2375, "http", undefined]);
    } finally {
        if (saved === undefined) delete process.env.DOCKER_HOST;
        else process.env.DOCKER_HOST = saved;
    }
});

test("a channel the server refuses is told apart from a broken connection", () => {
    assert.equal(sessionRefused(Object.assign(new Error("(SSH) Channel open failure: open failed"), { reason: 2 })), true);
    assert.equal(sessionRefused(Object.assign(new Error("(SSH) Channel open failure: server closed channel unexpectedly"), { reason: "" })), false);
    assert.equal(sessionRefused(new Error("Not connected")), false);
    assert.equal(sessionRefused(undefined), false);
});

/**
 * An ed25519 key pair that ssh2 can read back. ssh2 1.17's generateKeyPairSync strips a public
 * key's leading zero bytes, so about one pair in 256 is malformed (mscdex/ssh2#1513): the server
 * cannot load such a host key, or refuses such a client key. Draw again until both halves parse.
 */
function ed25519KeyPair(): { private: string; public: string } {
    const { utils } = require("ssh2") as typeof import("ssh2");
    for (;;) {
        const pair = utils.generateKeyPairSync("ed25519");
        if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
    }
}

/**
 * An SSH server in this process that lets any key in, allows `maxSessions` sessions per
 * connection (refusing more, as OpenSSH's MaxSessions does) and answers each HTTP request on a
 * `dial-stdio` session with 200 (keep-alive) once `hold()` lets go.
 */
async function sessionLimitedServer(maxSessions: number, hold: (refused: number) => boolean = () => false) {
    const { Server } = require("ssh2") as typeof import("ssh2");
    const hostKey = ed25519KeyPair();
    const clientKey = ed25519KeyPair();
    const seen = { connections: 0, sessions: 0, refused: 0, served: 0 };
    const waiting: Array<() => void> = [];
    const release = () => {
        if (!hold(seen.refused)) for (const answer of waiting.splice(0)) answer();
    };
    const clients: Array<{ end(): void }> = [];
    const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
        clients.push(client);
        seen.connections++;
        let open = 0;
        client.on("authentication", (ctx) => ctx.accept());
        client.on("session", (accept, reject) => {
            if (open >= maxSessions) {
                seen.refused++;
                reject();
                return release();
            }
            open++;
            seen.sessions++;
            accept().once("exec", (acceptExec) => {
                const channel = acceptExec();
                channel.once("close", () => open--);
                // One GET per chunk (no body).
                channel.on("data", () => {
                    waiting.push(() => {
                        channel.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
                        seen.served++;
                    });
                    release();
                });
            });
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-ssh-"));
    fs.writeFileSync(path.join(dir, "id"), clientKey.private);
    fs.writeFileSync(path.join(dir, "known_hosts"), `[127.0.0.1]:${port} ${hostKey.public}\n`);
    const close = () => {
        for (const c of clients) c.end();
        server.close();
        fs.rmSync(dir, { recursive: true, force: true });
    };
    return { seen, close, host: `ssh://root@127.0.0.1:${port}?identityFile=${dir}/id&knownHostsFile=${dir}/known_hosts` };
}

function get(agent: http.Agent): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        http.get({ agent, host: "docker", path: "/_ping" }, (res) => (res.resume(), res.on("end", () => resolve(res.statusCode ?? 0)))).on("error", reject);
    });
}

test("more requests at once than the server allows sessions on a connection: all are answered, over a second connection", async () => {
    // Answers wait until the server has refused 3 sessions: 5 requests are open at once, 2 allowed per connection.
    const server = await sessionLimitedServer(2, (refused) => refused < 3);
    try {
        const agent = sshAgent(parseSshHost(server.host));
        const results = await Promise.allSettled(Array.from({ length: 5 }, () => get(agent)));
        assert.deepEqual(results.map((r) => (r.status === "fulfilled" ? r.value : String(r.reason))), [200, 200, 200, 200, 200]);
        assert.equal(server.seen.served, 5);
        assert.ok(server.seen.connections >= 2, `connections: ${server.seen.connections}`);
    } finally {
        server.close();
    }
});

test("requests one after another reuse one session (each new one starts `docker system dial-stdio` on the server)", async () => {
    const server = await sessionLimitedServer(10);
    try {
        const agent = sshAgent(parseSshHost(server.host));
        for (let i = 0; i < 5; i++) assert.equal(await get(agent), 200);
        assert.equal(sshAgent(parseSshHost(server.host)), agent, "one agent per server in a process");
        assert.deepEqual([server.seen.served, server.seen.sessions, server.seen.connections], [5, 1, 1]);
    } finally {
        server.close();
    }
});
