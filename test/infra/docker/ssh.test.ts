import assert from "node:assert/strict";
import * as crypto from "crypto";
import { test } from "node:test";
import { connectDocker, dockerHostAddress, dockerOptions, DockerHostError, isRemoteDockerHost } from "../../../infra/docker/client";
import { checkHostKey, fingerprint, hostFieldMatches, keyType, knownHostsName, parseSshHost } from "../../../infra/docker/ssh";

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
