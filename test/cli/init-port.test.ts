import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { canBind, firstFreePort, FIRST_ROUTER_PORT, pickedWhy, pickRouterPort, stackFilePorts } from "../../cli/init-port";

const dirs: string[] = [];
after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("init's router port", () => {
    test("firstFreePort: the first port from the start that is not taken", () => {
        assert.equal(firstFreePort(new Set()), 5000);
        assert.equal(firstFreePort(new Set([5000, 5001, 5003])), 5002);
        assert.equal(firstFreePort(new Set([7000]), 7000), 7001);
        assert.throws(() => firstFreePort(new Set([65535]), 65535), /no free router port/);
    });

    test("stackFilePorts: the other stack files' router ports, not this stack's", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-init-port-"));
        dirs.push(dir);
        fs.mkdirSync(path.join(dir, "stacks"));
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.a.yaml"), 'config:\n  dynoform:routerPort: "5000"\n');
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.b.yaml"), "config:\n  dynoform:routerPort: 5001\n");
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.c.yaml"), "config: [broken\n");
        assert.deepEqual(stackFilePorts(dir, "b"), [{ port: 5000, why: "stack file Pulumi.a.yaml" }]);
        assert.deepEqual(stackFilePorts(path.join(dir, "none"), "a"), []);
    });

    test("pickRouterPort skips a port bound on 127.0.0.1 and says why", async () => {
        // Hold the port pickRouterPort would pick first, and the next one, then ask.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-init-port-"));
        dirs.push(dir);
        const first = (await pickRouterPort(dir, "s")).port;
        assert.ok(first >= FIRST_ROUTER_PORT);
        const held = await listen(first);
        try {
            assert.equal(await canBind(first), false);
            const next = await pickRouterPort(dir, "s");
            assert.ok(next.port > first, `${next.port} > ${first}`);
            assert.ok(next.skipped.some((s) => s.port === first && s.why === "bound on 127.0.0.1"), JSON.stringify(next.skipped));
            assert.match(pickedWhy(next.skipped), new RegExp(`taken: .*${first}: bound on 127\\.0\\.0\\.1`));
        } finally {
            held.close();
        }
    });

    test("pickedWhy: one entry per port, in order", () => {
        assert.equal(pickedWhy([]), "the first free port from 5000; change it with --router-port");
        assert.equal(
            pickedWhy([{ port: 5001, why: "bound on 127.0.0.1" }, { port: 5000, why: "router a" }, { port: 5001, why: "router b" }]),
            "the first free port from 5000; taken: 5000: router a; 5001: bound on 127.0.0.1, router b; change it with --router-port",
        );
    });
});

function listen(port: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(port, "127.0.0.1", () => resolve(srv));
    });
}
