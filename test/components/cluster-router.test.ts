import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterRouterCommand } from "../../components/cluster-router";
import { ROUTER_COMMAND } from "../../components/router";
import { connectDocker } from "../../infra/docker/client";
import { ROUTER_CONF_FILE, ROUTER_TEMPLATE_FILE } from "../../infra/docker/router-config";
import { recordedBaseImages } from "../../toolchain/base-image-refs";
import { describeLive } from "../support/engines";
import { eventually } from "../support/poll";

const template = (command: string) => Buffer.from(/^printf '%s' '([A-Za-z0-9+/=]+)' \| base64 -d > (\S+);/.exec(command)![1], "base64").toString();

test("clusterRouterCommand: one upstream line for every task of the web service, then the single-host router command", () => {
    const command = clusterRouterCommand("shop", "shop-prod-web", 5000);
    assert.ok(command.includes(`base64 -d > ${ROUTER_TEMPLATE_FILE}; `));
    assert.ok(command.endsWith(ROUTER_COMMAND));
    assert.match(template(command), /^upstream dynos \{\n    server \{\{tasks\.shop-prod-web\}\}:5000 max_fails=1 fail_timeout=2s;\n    keepalive 32;/);
});

describeLive("the router's sync script on a cluster", () => {
    test("tasks.<service> becomes one server line per address it resolves to; none resolving: a 503 page", async () => {
        const docker = connectDocker();
        const run = async (hosts: string[]) => {
            const c = await docker.createContainer({
                Image: recordedBaseImages().nginx,
                Cmd: ["sh", "-c", clusterRouterCommand("shop", "shop-prod-web", 5000)],
                HostConfig: { ExtraHosts: hosts.map((ip) => `tasks.shop-prod-web:${ip}`), AutoRemove: false },
            });
            try {
                await c.start();
                const read = async () => {
                    const exec = await c.exec({ Cmd: ["cat", ROUTER_CONF_FILE], AttachStdout: true, AttachStderr: true });
                    const stream = await exec.start({});
                    const chunks: Buffer[] = [];
                    await new Promise((ok) => { stream.on("data", (d: Buffer) => chunks.push(d)); stream.on("end", ok); });
                    return Buffer.concat(chunks).toString("latin1");
                };
                return await eventually(async () => ((await read()).includes("listen 80") ? read() : undefined), 30_000, "the router's rendered config");
            } finally {
                await c.remove({ force: true });
            }
        };
        const two = await run(["10.9.0.6", "10.9.0.5"]);
        assert.match(two, /server 10\.9\.0\.5:5000 max_fails=1 fail_timeout=2s;\n.*server 10\.9\.0\.6:5000 max_fails=1 fail_timeout=2s;/);
        assert.doesNotMatch(two, /\{\{/);
        assert.match(await run([]), /return 503/);
    });
});
