import assert from "node:assert/strict";
import { afterLive, beforeLive, testLive } from "../support/engines";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as path from "path";
import { connectDocker } from "../../infra/docker/client";
import { putFiles } from "../../infra/docker/edge";
import { EDGE_ADMIN_SOCKET, EDGE_DIR } from "../../infra/docker/edge-config";
import { execIn } from "../../infra/docker/exec";
import { LABEL } from "../../infra/docker/labels";
import { cliProject, CliProject, TINY_APP, tinyStack, usageLine } from "../support/cli";
import { containersWith, freePort } from "../support/harness";
import { eventually } from "../support/poll";
import { ROUTER_LOAD } from "../support/load";
import { Pebble, startPebble } from "../support/pebble";
import { selfSignedCert } from "../support/test-certs";

// One edge router of this file's own (DYNOFORM_EDGE), on free ports, with Pebble as its ACME CA.
let project: CliProject | undefined;
let pebble: Pebble | undefined;
let root = "";
let httpPort = 0;
let httpsPort = 0;
let hello = "";
let world = "";
const edge = `dynoform-edge-test-${process.pid}`;

beforeLive(async () => {
    process.env.DYNOFORM_EDGE = edge;
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    pebble = await startPebble(`${edge}-pebble`, httpPort, httpsPort);
    root = await pebble.root();
    project = await cliProject("edge", { files: TINY_APP });
    fs.writeFileSync(path.join(project.dir, "acme-ca.pem"), pebble.directoryCa);
    const edgeSettings = { httpPort, httpsPort, hostIp: "127.0.0.1", acmeDirectory: pebble.directory, acmeCaRoot: "acme-ca.pem" };
    hello = project.stackName("hello");
    world = project.stackName("world");
    project.writeStack(hello, await tinyStack({ app: "hello", config: { GREETING: "from-hello" }, edge: edgeSettings, domains: [] }));
    project.writeStack(world, await tinyStack({ app: "world", config: { GREETING: "from-world" }, edge: edgeSettings, domains: [] }));
    // world's first `up` runs in the first test, under load on hello.
    const up = await project.cli(["up", "--yes", "--stack", hello]);
    assert.equal(up.code, 0, up.stderr);
});

afterLive(async () => {
    await project?.cleanup();
    await pebble?.stop();
    const docker = connectDocker();
    await docker.getContainer(edge).remove({ force: true }).catch(() => undefined);
    await docker.getVolume(edge).remove({ force: true }).catch(() => undefined);
});

interface Answer {
    status: number;
    body: string;
    location?: string;
    issuer?: string;
    serial?: string;
}

/**
 * One request through the edge: plain HTTP with a Host header, or HTTPS with SNI, verified
 * against Pebble's root; on a new connection, or on `agent`'s kept one.
 */
function request(host: string, secure: boolean, ca = root, agent: http.Agent | false = false): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const done = (res: http.IncomingMessage) => {
            // Read now: a kept connection goes back to its agent at the end of the response.
            const peer = secure ? (res.socket as import("tls").TLSSocket).getPeerCertificate() : undefined;
            let body = "";
            res.on("data", (d: Buffer) => (body += d.toString()));
            res.on("end", () => {
                resolve({ status: res.statusCode ?? 0, body, location: res.headers.location, issuer: String(peer?.issuer?.CN ?? ""), serial: peer?.serialNumber });
            });
        };
        const req = secure
            ? https.get({ host: "127.0.0.1", port: httpsPort, servername: host, headers: { host }, ca, agent }, done)
            : http.get({ host: "127.0.0.1", port: httpPort, headers: { host }, agent }, done);
        req.on("error", reject);
        req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    });
}

/** Requests through the edge, counted until stopped. */
interface Load {
    ok: number;
    failures: string[];
    stop(): Promise<void>;
}

/**
 * `clients` clients sending requests to `host` at ROUTER_LOAD's pace (one every 20 ms each):
 * half keep their connection, half open one per request, as browsers and scripts do.
 */
function startLoad(host: string, secure: boolean, clients = 4): Load {
    const paceMs = (1000 * ROUTER_LOAD.connections) / ROUTER_LOAD.overallRate;
    const load = { ok: 0, failures: [] as string[], stopped: false };
    const agents: http.Agent[] = [];
    const client = async (agent: http.Agent | false) => {
        while (!load.stopped) {
            const started = Date.now();
            try {
                const r = await request(host, secure, root, agent);
                if (r.status === 200) load.ok++;
                else load.failures.push(`${host}: HTTP ${r.status}: ${r.body.slice(0, 80)}`);
            } catch (err) {
                load.failures.push(`${host}${agent ? " (kept connection)" : ""}: ${(err as Error).message}`);
            }
            await new Promise((r) => setTimeout(r, Math.max(0, started + paceMs - Date.now())));
        }
    };
    const running = Array.from({ length: clients }, (_, i) => {
        if (i % 2) return client(false);
        const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 1 }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
        agents.push(agent);
        return client(agent);
    });
    return Object.assign(load, {
        async stop() {
            load.stopped = true;
            await Promise.all(running);
            for (const a of agents) a.destroy();
        },
    });
}

testLive("under load on hello: domains:add gets a certificate from Pebble, world's first up and its domain:add and maintenance:on/off, 0 failed requests", async (t) => {
    const started = Date.now();
    const steps: string[] = [];
    const timed = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
        const at = Date.now();
        const r = await run();
        steps.push(`${what} ${((Date.now() - at) / 1000).toFixed(1)} s`);
        return r;
    };
    const loads = [startLoad("hello.localhost", false)];
    try {
        await eventually(() => loads[0].ok >= 20, 30_000, "the load running");
        // Two stacks change the edge at once: the edge takes both entries whichever loads its config first.
        const [add, up] = await timed("domains:add hello.test beside world's up", () =>
            Promise.all([project!.cli(["domains:add", "hello.test", "--stack", hello]), project!.cli(["up", "--yes", "--stack", world])]),
        );
        assert.equal(add.code, 0, add.stderr);
        assert.match(add.stdout, /hello\.test is served over HTTPS/);
        assert.equal(up.code, 0, up.stderr);
        // Clients of the new domain, over HTTPS with its certificate, through the other changes.
        loads.push(startLoad("hello.test", true));
        await eventually(() => loads[1].ok >= 20, 30_000, "the load on hello.test running");
        const addWorld = await timed("domains:add world.test", () => project!.cli(["domains:add", "world.test", "--stack", world]));
        assert.equal(addWorld.code, 0, addWorld.stderr);
        assert.match(addWorld.stdout, /world\.test is served over HTTPS/);
        assert.match((await request("world.test", true)).body, /from-world$/);
        const on = await timed("maintenance:on", () => project!.cli(["maintenance:on", "--stack", world]));
        assert.equal(on.code, 0, on.stderr);
        assert.equal((await request("world.localhost", false)).status, 503);
        const off = await timed("maintenance:off", () => project!.cli(["maintenance:off", "--stack", world]));
        assert.equal(off.code, 0, off.stderr);
        assert.equal((await request("world.localhost", false)).status, 200);
    } finally {
        for (const l of loads) await l.stop();
    }
    const ok = loads.reduce((n, l) => n + l.ok, 0);
    const failures = loads.flatMap((l) => l.failures);
    t.diagnostic(
        `edge changes under load on hello (hello.localhost, then hello.test too; kept and new connections): ${ok + failures.length} requests, ` +
            `${failures.length} failed; test took ${((Date.now() - started) / 1000).toFixed(1)} s (${steps.join(", ")})`,
    );
    assert.deepEqual(failures, []);
});

testLive("two apps on one host answer behind the edge router by hostname (<app>.localhost)", async (t) => {
    const a = await eventually(() => request("hello.localhost", false).then((r) => (r.status === 200 ? r : undefined)), 30_000, "hello.localhost");
    const b = await request("world.localhost", false);
    assert.match(a.body, /from-hello$/);
    assert.equal(b.status, 200);
    assert.match(b.body, /from-world$/);
});

testLive("hello.test (added under load): HTTPS with a certificate from Pebble, HTTP redirects to HTTPS, certs lists it", async (t) => {
    assert.match(project!.readStack(hello), /dynoform:domains:\n\s+- hello\.test/);
    const r = await request("hello.test", true);
    assert.equal(r.status, 200);
    assert.match(r.body, /from-hello$/);
    assert.match(r.issuer ?? "", /Pebble/);
    // curl, as a user would check it: --resolve and Pebble's root.
    fs.writeFileSync(path.join(project!.dir, "pebble-root.pem"), root);
    const curl = spawnSync("curl", ["-sS", "--cacert", path.join(project!.dir, "pebble-root.pem"), "--resolve", `hello.test:${httpsPort}:127.0.0.1`, `https://hello.test:${httpsPort}/`], { encoding: "utf8" });
    assert.equal(curl.status, 0, curl.stderr);
    assert.match(curl.stdout, /from-hello$/);
    const plain = await request("hello.test", false);
    assert.equal(plain.status, 308);
    assert.equal(plain.location, `https://hello.test:${httpsPort}/`);
    const certs = await project!.cli(["certs", "--stack", hello, "--json"]);
    assert.equal(certs.code, 0, certs.stderr);
    const [c] = JSON.parse(certs.stdout);
    assert.equal(c.domain, "hello.test");
    assert.equal(c.status, "active");
    assert.match(c.issuer, /Pebble/);
    assert.ok(Date.parse(c.expires) > Date.now());
    const list = await project!.cli(["domains", "--stack", hello]);
    assert.match(list.stdout, /hello\.localhost/);
    assert.match(list.stdout, /hello\.test\s+certificate active/);
});

testLive("bad domains are refused with one line, exit 2, the stack file unchanged", async (t) => {
    await eventually(() => /hello\.test/.test(project!.readStack(hello)), 1_000, "hello.test added by the test before");
    const before = project!.readStack(world);
    const cases: Array<[string, RegExp]> = [
        ["*.world.test", /wildcard needs a DNS-01 challenge/],
        ["World.test", /lowercase/],
        ["bad_name.test", /label `bad_name`/],
        ["hello.test", /already served by app hello/],
    ];
    for (const [domain, reason] of cases) {
        const line = usageLine(await project!.cli(["domains:add", domain, "--stack", world]));
        assert.match(line, reason);
        assert.match(line, /nothing was changed/);
    }
    assert.equal(project!.readStack(world), before);
});

testLive("certs:add refuses a key that is not the certificate's and an expired certificate; serves a matching user certificate", async (t) => {
    const dir = project!.dir;
    const own = selfSignedCert(dir, "own", "world.test");
    const other = selfSignedCert(dir, "other", "world.test");
    const day = 86_400_000;
    const expired = selfSignedCert(dir, "expired", "world.test", { from: new Date(Date.now() - 60 * day), to: new Date(Date.now() - day) });
    // world.test got its certificate from Pebble in the first test; the user's then serves instead.
    const stackBefore = project!.readStack(world);
    const certsBefore = (await project!.cli(["certs", "--stack", world, "--json"])).stdout;
    assert.equal(JSON.parse(certsBefore)[0].source, "acme");
    const mismatch = usageLine(await project!.cli(["certs:add", own.cert, other.key, "--stack", world]));
    assert.match(mismatch, /^dynoform: certs:add: the key does not match the certificate; nothing was changed$/);
    const late = usageLine(await project!.cli(["certs:add", expired.cert, expired.key, "--stack", world]));
    assert.match(late, /^dynoform: certs:add: the certificate expired on \d{4}-\d\d-\d\dT[\d:.]+Z; nothing was changed$/);
    assert.equal(project!.readStack(world), stackBefore);
    assert.equal((await project!.cli(["certs", "--stack", world, "--json"])).stdout, certsBefore);
    const ok = await project!.cli(["certs:add", own.cert, own.key, "--stack", world]);
    assert.equal(ok.code, 0, ok.stderr);
    const served = await eventually(() => request("world.test", true, fs.readFileSync(own.cert, "utf8")).then((r) => (r.issuer === "world.test" ? r : undefined)), 30_000, "world.test with the user's certificate");
    assert.equal(served.status, 200);
    assert.match(served.body, /from-world$/);
    const list = JSON.parse((await project!.cli(["certs", "--stack", world, "--json"])).stdout);
    assert.equal(list[0].source, "custom");
    // The key is on the edge volume only: never in the stack file.
    assert.doesNotMatch(project!.readStack(world), /PRIVATE KEY/);
});

testLive("certs:renew under load: a new certificate from Pebble within seconds, 0 failed requests", async (t) => {
    const first = await request("hello.test", true);
    assert.equal(first.status, 200);
    let stop = false;
    let ok = 0;
    let onNew = 0;
    let newSeenAt = 0;
    const failures: string[] = [];
    const serials = new Set<string>([first.serial!]);
    const worker = async () => {
        while (!stop) {
            try {
                const r = await request("hello.test", true);
                if (r.status === 200) ok++;
                else failures.push(`HTTP ${r.status}`);
                if (r.serial) serials.add(r.serial);
                if (r.serial && r.serial !== first.serial) {
                    onNew++;
                    newSeenAt ||= Date.now();
                }
            } catch (err) {
                failures.push((err as Error).message);
            }
        }
    };
    const load = Array.from({ length: 8 }, worker);
    let renew: Awaited<ReturnType<CliProject["cli"]>> | undefined;
    let renewAt = 0;
    let renewSeconds = 0;
    try {
        await eventually(() => ok >= 20, 30_000, "the load running");
        renewAt = Date.now();
        // A forced renewal is seen within seconds, whatever the certificate's lifetime (Pebble's: 5 years).
        renew = await project!.cli(["certs:renew", "--stack", hello, "--wait", "30"]);
        renewSeconds = (Date.now() - renewAt) / 1000;
        assert.equal(renew.code, 0, renew.stderr);
        // Keep the load on until clients have been served the new certificate a while.
        await eventually(() => onNew >= 50, 30_000, "the new certificate served");
    } finally {
        // The load stops whatever happened: a loop left running keeps the file from ending.
        stop = true;
        await Promise.all(load);
    }
    assert.deepEqual(failures, []);
    assert.ok(serials.size >= 2, `one serial only: ${[...serials].join(", ")}`);
    assert.ok(ok > 50, `only ${ok} requests`);
    const seen = (newSeenAt - renewAt) / 1000;
    t.diagnostic(
        `renewal under load: ${ok} requests (${onNew} on the new certificate), 0 failed, serials ${[...serials].join(", ")}; ` +
            `certs:renew took ${renewSeconds.toFixed(1)} s, clients saw the new certificate ${seen.toFixed(1)} s after it started`,
    );
});

testLive("maintenance:on answers 503 with the page; the dynos keep running; maintenance:off answers 200", async (t) => {
    const on = await project!.cli(["maintenance:on", "--stack", hello]);
    assert.equal(on.code, 0, on.stderr);
    for (const secure of [true, false]) {
        const r = await request(secure ? "hello.test" : "hello.localhost", secure);
        assert.equal(r.status, 503);
        assert.match(r.body, /hello is offline for maintenance/);
    }
    assert.equal((await request("world.localhost", false)).status, 200);
    const run = await project!.cli(["run", "--stack", hello, "--", "node", "-e", "console.log('one-off ok')"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /one-off ok/);
    const off = await project!.cli(["maintenance:off", "--stack", hello]);
    assert.equal(off.code, 0, off.stderr);
    const r = await request("hello.test", true);
    assert.equal(r.status, 200);
    assert.match(r.body, /from-hello$/);
});

/** The hello stack's web dynos' `ip:port` on the app network, from Docker. */
async function webDynoAddresses(): Promise<string[]> {
    const docker = connectDocker();
    const found = await containersWith({ [LABEL.app]: "hello", [LABEL.stack]: hello, [LABEL.processType]: "web" });
    const addresses: string[] = [];
    for (const c of found.filter((x) => x.State === "running")) {
        const info = await docker.getContainer(c.Id).inspect();
        const port = (info.Config.Env ?? []).find((e) => e.startsWith("PORT="))!.slice(5);
        for (const n of Object.values(info.NetworkSettings.Networks)) if (n.IPAddress) addresses.push(`${n.IPAddress}:${port}`);
    }
    return addresses.sort();
}

/** Caddy's admin API in the edge: the answer's body (the status must be 200), posting `file` when given. */
async function edgeAdmin(method: string, path: string, file?: string): Promise<string> {
    const args = ["curl", "-sS", "--unix-socket", EDGE_ADMIN_SOCKET, "-X", method, "-w", "\n%{http_code}", `http://localhost${path}`];
    if (file) args.push("-H", "Content-Type: application/json", "--data-binary", `@${file}`);
    const lines = (await execIn(connectDocker().getContainer(edge), args)).output.trimEnd().split("\n");
    assert.equal(lines.pop(), "200", lines.join("\n"));
    return lines.join("\n");
}

/** Where the edge sends hello.localhost: the upstreams of its route in the config Caddy runs. */
async function edgeUpstreams(): Promise<string[]> {
    const config = JSON.parse(await edgeAdmin("GET", "/config/"));
    const route = config.apps.http.servers.http.routes.find((x: { match: Array<{ host?: string[] }> }) => x.match[0].host?.includes("hello.localhost"));
    return route.handle[0].upstreams.map((u: { dial: string }) => u.dial).sort();
}

testLive("ps:scale web=3 then web=1 under load: the edge proxies straight to the dynos it lists, takes each list before dynos stop, 0 failed requests", async (t) => {
    assert.deepEqual(await edgeUpstreams(), await webDynoAddresses(), "one hop: the edge sends to the web dyno, not to the app's router");
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (agent: http.Agent | false) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = http.get({ host: "127.0.0.1", port: httpPort, headers: { host: "hello.localhost" }, agent }, (res) => {
                let body = "";
                res.on("data", (d: Buffer) => (body += d.toString()));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
            });
            req.on("error", reject);
            req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
        });
    // Clients that keep their connection and clients that open one per request, as browsers and scripts do.
    const worker = async (agent: http.Agent | false) => {
        while (!stop) {
            try {
                const r = await get(agent);
                if (r.status === 200) ok++;
                else failures.push(`HTTP ${r.status}: ${r.body.slice(0, 80)}`);
                seen.add(r.body.split(" ")[0]);
            } catch (err) {
                failures.push((err as Error).message);
            }
        }
    };
    const load = [...Array.from({ length: 4 }, () => worker(keepAlive)), ...Array.from({ length: 4 }, () => worker(false))];
    let downSeconds = 0;
    try {
        await eventually(() => ok >= 20, 30_000, "the load running");
        const up = await project!.cli(["ps:scale", "web=3", "--stack", hello]);
        assert.equal(up.code, 0, up.stderr);
        assert.equal((await webDynoAddresses()).length, 3);
        assert.deepEqual(await edgeUpstreams(), await webDynoAddresses());
        await eventually(() => ["web.1", "web.2", "web.3"].every((d) => seen.has(d)), 30_000, "every web dyno answering through the edge");
        const downAt = Date.now();
        const down = await project!.cli(["ps:scale", "web=1", "--stack", hello]);
        downSeconds = (Date.now() - downAt) / 1000;
        assert.equal(down.code, 0, down.stderr);
        assert.equal((await webDynoAddresses()).length, 1);
        assert.deepEqual(await edgeUpstreams(), await webDynoAddresses());
        const after = ok;
        await eventually(() => ok >= after + 50, 30_000, "the load after scaling down");
    } finally {
        stop = true;
        await Promise.all(load);
        keepAlive.destroy();
    }
    assert.deepEqual(failures, []);
    t.diagnostic(`scale 1 -> 3 -> 1 through the edge under load: ${ok} requests, 0 failed, dynos seen ${[...seen].sort().join(", ")}; ps:scale web=1 took ${downSeconds.toFixed(1)} s`);
});

testLive("a dyno address the edge cannot connect to (Docker restarted the dyno elsewhere): its requests go through the app's router, 0 failed", async (t) => {
    const c = connectDocker().getContainer(edge);
    const [live] = await edgeUpstreams();
    const port = Number(live.slice(live.lastIndexOf(":") + 1));
    // The edge runs on the host's network. Not 127.0.0.1: a router of another test file may
    // publish there on the dyno's port (5000, the first port `init` tries); nothing binds this one.
    const deadIp = "127.0.0.77";
    const refused = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, deadIp, () => (s.destroy(), resolve(false)));
        s.on("error", () => resolve(true));
    });
    assert.ok(refused, `something listens on ${deadIp}:${port}`);
    // The config Caddy runs, with the dyno's address replaced, loaded as a deploy would.
    const running = await edgeAdmin("GET", "/config/");
    const dead = running.split(`"dial":"${live}"`).join(`"dial":"${deadIp}:${port}"`);
    assert.notEqual(dead, running);
    const started = Date.now();
    await putFiles(c, [{ path: "/tmp/caddy.dead.json", content: dead }]);
    await edgeAdmin("POST", "/load", "/tmp/caddy.dead.json");
    try {
        assert.deepEqual(await edgeUpstreams(), [`${deadIp}:${port}`]);
        const [router] = await containersWith({ [LABEL.app]: "hello", [LABEL.stack]: hello, [LABEL.router]: "true" });
        const routed = async () => (await connectDocker().getContainer(router.Id).logs({ stdout: true, stderr: true, since: Math.floor(started / 1000) })).toString("latin1").split("\n").filter((l) => l.includes('"GET / HTTP/1.1" 200')).length;
        const answers: number[] = [];
        // Until the app's router has served a good number of them: the edge finds the address
        // refused and falls back, and leaves it out (passive health) meanwhile.
        await eventually(async () => {
            answers.push((await request("hello.localhost", false)).status);
            return (await routed()) >= 20 ? true : undefined;
        }, 30_000, "requests through the app's router", 0);
        assert.deepEqual([...new Set(answers)], [200], `answers: ${answers.join(" ")}`);
        t.diagnostic(`${answers.length} requests while the edge's only dyno address was dead: all 200 through the app's router`);
    } finally {
        await edgeAdmin("POST", "/load", `${EDGE_DIR}/caddy.json`);
    }
});
