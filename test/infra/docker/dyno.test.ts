import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { canonicalJson, checkDynoInputs, containerNameFor, diffDyno, Dyno, DynoInputs, DynoOutputs } from "../../../infra/docker/dyno";
import { containerSpec, execForm } from "../../../infra/docker/dyno-ops";
import { LABEL } from "../../../infra/docker/labels";

// The Dyno provider's pure parts: no Docker, no engine (on real engines: dyno.live.test.ts).

const MIB = 1024 * 1024;

const base: DynoInputs = {
    app: "hello",
    stack: "dev",
    processType: "web",
    index: 1,
    image: "dynoform/node:abc",
    command: "node index.js",
    env: { PORT: "5000", A: "1" },
    memoryMb: 512,
    cpuShares: 1024,
    port: 5000,
};
const state = (over: Partial<DynoOutputs> = {}): DynoOutputs => ({
    ...base,
    containerName: "hello-dev.web.1.abcdef",
    containerId: "f".repeat(64),
    startedAt: "2026-01-01T00:00:00Z",
    state: "running",
    exitCode: 0,
    restartCount: 0,
    ipAddress: "172.18.0.2",
    ...over,
});

describe("checkDynoInputs", () => {
    test("accepts a complete web dyno", () => {
        assert.deepEqual(checkDynoInputs({ ...base, publish: { hostPort: 8080 }, restartPolicy: "no" }), []);
    });
    test("names each bad field", () => {
        const failures = checkDynoInputs({
            ...base,
            app: "bad app",
            index: 0,
            image: "",
            memoryMb: 4,
            cpuShares: 1,
            restartPolicy: "sometimes" as never,
            port: 70000,
            env: { "1BAD": "x", OK: 5 as never },
        });
        const props = failures.map((f) => f.property);
        assert.deepEqual(props, ["app", "index", "image", "memoryMb", "cpuShares", "restartPolicy", "port", "env.1BAD", "env.OK"]);
        for (const f of failures) assert.match(f.reason, /`/, `reason for ${f.property} names the field in backticks`);
        assert.match(failures.find((f) => f.property === "memoryMb")!.reason, /at least 6 \(got 4\)/);
    });
    test("values not known yet (preview) are not judged", () => {
        const unknown = pulumi.runtime.unknownValue as never;
        const inputs = { ...base, memoryMb: unknown, env: unknown, index: unknown, image: unknown, publish: unknown };
        assert.deepEqual(checkDynoInputs(inputs), []);
        assert.deepEqual(checkDynoInputs({ ...base, env: { PORT: unknown } }), [], "one env value unknown");
    });
    test("dockerHost must be a unix:// or tcp:// address", () => {
        assert.deepEqual(checkDynoInputs({ ...base, dockerHost: "unix:///var/run/docker.sock" }), []);
        assert.deepEqual(checkDynoInputs({ ...base, dockerHost: "tcp://127.0.0.1:2375" }), []);
        assert.match(checkDynoInputs({ ...base, dockerHost: "/var/run/docker.sock" })[0].reason, /`dockerHost` must be unix:\/\/\//);
    });
    test("role is dyno, addon or router", () => {
        for (const role of ["dyno", "addon", "router"] as const) assert.deepEqual(checkDynoInputs({ ...base, role }), []);
        const [f] = checkDynoInputs({ ...base, role: "database" as never });
        assert.equal(f.property, "role");
        assert.match(f.reason, /`role` must be one of dyno, addon, router \(got "database"\)/);
    });
    test("publish needs a port and a valid host port", () => {
        const { port: _p, ...noPort } = base;
        const props = checkDynoInputs({ ...noPort, publish: { hostPort: 0 } }).map((f) => f.property);
        assert.deepEqual(props, ["publish", "publish.hostPort"]);
    });
});

describe("diffDyno", () => {
    test("no change: no diff", () => {
        const d = diffDyno(state(), { ...base, env: { A: "1", PORT: "5000" } });
        assert.equal(d.changes, false, "env key order is not a change");
        assert.deepEqual(d.replaces, []);
    });
    test("memory, CPU and restart policy update in place; the engine is asked to name the fields", () => {
        const d = diffDyno(state(), { ...base, memoryMb: 1024, cpuShares: 2048, restartPolicy: "no" });
        assert.equal(d.changes, undefined, "unknown: the engine diffs inputs and names memoryMb, cpuShares");
        assert.deepEqual(d.replaces, []);
    });
    test("image, command and env replace, new container first", () => {
        for (const change of [{ image: "other" }, { command: "node other.js" }, { env: { PORT: "5000", A: "2" } }]) {
            const d = diffDyno(state(), { ...base, ...change });
            assert.deepEqual(d.replaces, Object.keys(change));
            assert.equal(d.deleteBeforeReplace, false);
        }
    });
    test("a dyno publishing the same host port is replaced old-first", () => {
        const olds = state({ publish: { hostPort: 8080 } });
        assert.equal(diffDyno(olds, { ...base, publish: { hostPort: 8080 }, image: "other" }).deleteBeforeReplace, true);
        assert.equal(diffDyno(olds, { ...base, publish: { hostPort: 8081 }, image: "other" }).deleteBeforeReplace, false);
    });
    test("a dyno on a data volume (an add-on) is replaced old-first: never two servers on one volume", () => {
        const olds = state({ mounts: ["app-pg-data:/var/lib/postgresql/data"] });
        const same = { ...base, mounts: ["app-pg-data:/var/lib/postgresql/data"], image: "other" };
        assert.equal(diffDyno(olds, same).deleteBeforeReplace, true);
        assert.equal(diffDyno(olds, { ...same, mounts: ["other-data:/data"] }).deleteBeforeReplace, false);
    });
    test("a dyno whose mounts may be shared (the router's config) moving to another port is replaced new-first", () => {
        const olds = state({ mounts: ["app-router-conf:/etc/nginx/conf.d"], publish: { hostPort: 8080 }, shareMounts: true });
        const moved = { ...base, mounts: ["app-router-conf:/etc/nginx/conf.d"], publish: { hostPort: 8081 }, shareMounts: true };
        assert.equal(diffDyno(olds, moved).deleteBeforeReplace, false);
        assert.equal(diffDyno(olds, { ...moved, shareMounts: undefined }).deleteBeforeReplace, true, "without it: old-first");
        assert.equal(diffDyno(olds, { ...moved, publish: { hostPort: 8080 }, image: "other" }).deleteBeforeReplace, true, "same port: old-first");
    });
    test("a role given to a container made before roles is recorded in place, never a replacement", () => {
        // An add-on server made before roles (no role in state, labelled role=dyno) keeps running: its data stays.
        const addon = state({ mounts: ["app-pg-data:/var/lib/postgresql/data"] });
        const d = diffDyno(addon, { ...base, mounts: ["app-pg-data:/var/lib/postgresql/data"], role: "addon" });
        assert.equal(d.changes, undefined, "an update the engine names (`role`)");
        assert.deepEqual(d.replaces, []);
        assert.equal(d.deleteBeforeReplace, false);
        assert.equal(diffDyno(state({ role: "addon" }), { ...base, role: "addon" }).changes, false);
    });
    test("a health check's new timing is recorded in place (an add-on server is not restarted for it); a new check command replaces", () => {
        const check = { command: "pg_isready -q", intervalSeconds: 1, retries: 30 };
        const olds = state({ healthcheck: check, mounts: ["app-pg-data:/var/lib/postgresql/data"] });
        const news = { ...base, healthcheck: check, mounts: ["app-pg-data:/var/lib/postgresql/data"] };
        const timing = diffDyno(olds, { ...news, healthcheck: { ...check, intervalSeconds: 3, retries: 10 } });
        assert.equal(timing.changes, undefined, "an update the engine names (`healthcheck`)");
        assert.deepEqual(timing.replaces, []);
        const command = diffDyno(olds, { ...news, healthcheck: { ...check, command: "pg_isready -q -h 127.0.0.1" } });
        assert.deepEqual(command.replaces, ["healthcheck"]);
        assert.equal(command.deleteBeforeReplace, true, "one data volume: old-first");
        assert.deepEqual(diffDyno(olds, { ...news, healthcheck: undefined }).replaces, ["healthcheck"], "a check removed replaces");
        assert.deepEqual(diffDyno(state(), { ...base, healthcheck: check }).replaces, ["healthcheck"], "a check added replaces");
    });
    test("drift found by refresh is a change with equal inputs", () => {
        for (const s of ["missing", "exited", "oom-killed"] as const) {
            const d = diffDyno(state({ state: s }), base);
            assert.equal(d.changes, true, s);
            assert.deepEqual(d.replaces, []);
        }
    });
    test("canonicalJson ignores key order and undefined fields", () => {
        assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: undefined }] }), canonicalJson({ a: [1, { d: 2 }], b: 1 }));
        assert.equal(canonicalJson(undefined), canonicalJson(null));
    });
});

describe("containerSpec", () => {
    test("execForm: a single command replaces the shell (it gets SIGTERM itself); shell syntax is left as written", () => {
        assert.equal(execForm("node server.js --port $PORT"), "exec node server.js --port $PORT");
        assert.equal(execForm("  sh worker.sh > /tmp/log "), "exec sh worker.sh > /tmp/log");
        for (const kept of ["npm run build && npm start", "a; b", "a | b", "(a)", "a &", "FOO=1 node x", "cd app", "exec redis-server", "trap '' TERM", "a\nb", "echo `date`"]) {
            assert.equal(execForm(kept), kept);
        }
    });

    test("maps a dyno to Docker's create body", () => {
        const spec = containerSpec(
            { ...base, network: "hello-dev", aliases: ["web"], publish: { hostPort: 8080 }, size: "standard-1x", release: "v3" },
            "hello-dev.web.1.abcdef",
        );
        assert.deepEqual(spec.Cmd, ["/bin/sh", "-c", "exec node index.js"]);
        assert.deepEqual(spec.Env, ["PORT=5000", "A=1"]);
        assert.equal(spec.HostConfig!.Memory, 512 * MIB);
        assert.equal(spec.HostConfig!.MemorySwap, 512 * MIB, "no swap beyond the limit");
        assert.equal(spec.HostConfig!.CpuShares, 1024);
        assert.deepEqual(spec.HostConfig!.RestartPolicy, { Name: "always" });
        assert.equal(spec.HostConfig!.Init, true);
        assert.deepEqual(spec.HostConfig!.PortBindings, { "5000/tcp": [{ HostIp: "127.0.0.1", HostPort: "8080" }] });
        assert.deepEqual(spec.NetworkingConfig, { EndpointsConfig: { "hello-dev": { Aliases: ["web"] } } });
        assert.equal(spec.StopTimeout, 30);
        assert.deepEqual(spec.Labels, {
            [LABEL.managed]: "true",
            [LABEL.app]: "hello",
            [LABEL.stack]: "dev",
            [LABEL.role]: "dyno",
            [LABEL.processType]: "web",
            [LABEL.index]: "1",
            [LABEL.dyno]: "web.1",
            [LABEL.release]: "v3",
            [LABEL.size]: "standard-1x",
        });
    });
    test("no command keeps the image's CMD; no port publishes nothing", () => {
        const { command: _c, port: _p, ...worker } = base;
        const spec = containerSpec(worker, "n");
        assert.equal(spec.Cmd, undefined);
        assert.equal(spec.ExposedPorts, undefined);
        assert.equal(spec.HostConfig!.PortBindings, undefined);
    });
    test("container names let two generations of one dyno exist side by side", () => {
        assert.equal(containerNameFor(base, "a1b2c3"), "hello.dev.web.1.a1b2c3");
        assert.notEqual(containerNameFor(base, "a1b2c3"), containerNameFor(base, "d4e5f6"));
    });
});
