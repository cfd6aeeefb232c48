import assert from "node:assert/strict";
import * as net from "net";
import { describe, test } from "node:test";
import { LABEL } from "../../infra/docker/labels";
import { parsePort } from "../../cli/commands/router-port";
import { UsageError } from "../../cli/errors";
import { busyPortMessage, describeContainer, listeningInodes, listeningProcess, sameHostAddress } from "../../cli/router-port";
import { freePort } from "../support/harness";

// The router port's pure parts and the process lookup (through the CLI: router-port.live.test.ts).

/** A plain TCP listener on 127.0.0.1:port held by this test process. */
function holdPort(p: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
        const server = net.createServer((s) => s.destroy());
        server.once("error", reject);
        server.listen(p, "127.0.0.1", () => resolve(server));
    });
}

describe("router port: pure parts and the process lookup", () => {
    test("sameHostAddress: wildcards overlap everything; other addresses only themselves", () => {
        assert.ok(sameHostAddress("0.0.0.0", "127.0.0.1"));
        assert.ok(sameHostAddress("127.0.0.1", "::"));
        assert.ok(sameHostAddress(undefined, "127.0.0.1"));
        assert.ok(sameHostAddress("127.0.0.1", "127.0.0.1"));
        assert.ok(!sameHostAddress("127.0.0.1", "10.1.2.3"));
    });
    test("describeContainer and busyPortMessage: who holds the port, in one line", () => {
        const labels = { [LABEL.app]: "shop", [LABEL.stack]: "dev", "dev.dynoform.router": "true" };
        assert.equal(describeContainer("shop-dev.router.1.ab12cd", labels), "the router of app shop (stack dev), container shop-dev.router.1.ab12cd");
        assert.equal(describeContainer("pg", {}), "container pg");
        assert.equal(
            busyPortMessage("127.0.0.1", 5000, "container pg"),
            "router port 127.0.0.1:5000 is already in use by container pg; choose another with `dynoform router:port <port>`; nothing was changed",
        );
    });
    test("listeningInodes reads /proc/net/tcp; listeningProcess finds this process's listener", async () => {
        const table = [
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
            "   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0",
            "   1: 0100007F:1388 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0 100 0 0 10 0",
        ].join("\n");
        assert.deepEqual(listeningInodes(table, 5000), ["4242"]);
        assert.deepEqual(listeningInodes(table, 5001), []);
        const p = await freePort();
        const server = await holdPort(p);
        try {
            assert.equal(listeningProcess(p), `process ${process.pid} (node)`);
        } finally {
            server.close();
        }
    });
    test("parsePort: 1 to 65535, else a usage error naming the argument", () => {
        assert.equal(parsePort("5200"), 5200);
        for (const bad of ["0", "65536", "52x", "", "-1"]) {
            assert.throws(() => parsePort(bad), (e: Error) => e instanceof UsageError && e.message === `router:port: \`${bad}\` is not a port from 1 to 65535`);
        }
    });
});
