import assert from "node:assert/strict";
import * as http from "http";
import { AddressInfo } from "net";
import { after, before, describe, test } from "node:test";
import type { DynoCheck } from "../../../components/healthchecks";
import { attempt, judgeHttp } from "../../../infra/docker/dyno-checks";

describe("judgeHttp", () => {
    test("any 2xx or 3xx by default; an expected status exactly; content in the body", () => {
        assert.deepEqual(judgeHttp({}, 200, ""), { ok: true });
        assert.deepEqual(judgeHttp({}, 302, ""), { ok: true });
        assert.deepEqual(judgeHttp({}, 500, ""), { ok: false, why: "HTTP 500, expected 2xx or 3xx" });
        assert.deepEqual(judgeHttp({ status: 204 }, 200, ""), { ok: false, why: "HTTP 200, expected 204" });
        assert.deepEqual(judgeHttp({ content: "ready" }, 200, "not yet"), { ok: false, why: 'HTTP 200 without "ready" in the body' });
        assert.deepEqual(judgeHttp({ content: "ready" }, 200, "all ready"), { ok: true });
    });
});

describe("attempt (HTTP), against a real server", () => {
    let server: http.Server;
    let port = 0;
    before(async () => {
        server = http.createServer((req, res) => {
            if (req.url === "/slow") return; // never answers
            res.statusCode = req.url === "/bad" ? 503 : 200;
            res.end(req.headers["x-check"] === "yes" ? "header seen" : "ok");
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        port = (server.address() as AddressInfo).port;
    });
    after(() => {
        server.closeAllConnections();
        server.close();
    });
    const check = (extra: Partial<DynoCheck>): DynoCheck => ({ kind: "http", name: "GET /", path: "/", attempts: 1, timeoutSeconds: 1, waitSeconds: 0, initialDelaySeconds: 0, ...extra });
    const target = () => ({ container: undefined as never, host: "127.0.0.1", port, startedAtMs: Date.now() });
    const noTcp = async () => false;

    test("pass, wrong status, headers sent, timeout, refused", async () => {
        assert.deepEqual(await attempt(check({}), target(), noTcp), { ok: true });
        assert.deepEqual(await attempt(check({ path: "/bad" }), target(), noTcp), { ok: false, why: "HTTP 503, expected 2xx or 3xx" });
        assert.deepEqual(await attempt(check({ headers: { "X-Check": "yes" }, content: "header seen" }), target(), noTcp), { ok: true });
        assert.deepEqual(await attempt(check({ path: "/slow" }), target(), noTcp), { ok: false, why: "no answer within 1 s" });
        const closed = http.createServer();
        await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
        const closedPort = (closed.address() as AddressInfo).port;
        closed.close();
        assert.deepEqual(await attempt(check({ port: closedPort }), target(), noTcp), { ok: false, why: "ECONNREFUSED" });
    });

    test("uptime and listening", async () => {
        const uptime = check({ kind: "uptime", uptimeSeconds: 5 });
        assert.equal((await attempt(uptime, { ...target(), startedAtMs: Date.now() - 6000 }, noTcp)).ok, true);
        assert.equal((await attempt(uptime, target(), noTcp)).ok, false);
        assert.deepEqual(await attempt(check({ kind: "listening" }), target(), async () => true), { ok: true });
        assert.deepEqual(await attempt(check({ kind: "listening" }), target(), noTcp), { ok: false, why: `nothing accepts connections on port ${port}` });
    });
});
