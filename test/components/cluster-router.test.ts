import assert from "node:assert/strict";
import { test } from "node:test";
import { clusterRouterCommand, renderClusterRouterConfig } from "../../components/cluster-router";
import { ROUTER_COMMAND } from "../../components/router";
import { connectDocker } from "../../infra/docker/client";
import { execIn } from "../../infra/docker/exec";
import { ROUTER_TEMPLATE_FILE } from "../../infra/docker/router-config";
import { recordedBaseImages } from "../../toolchain/base-image-refs";
import { describeLive } from "../support/engines";
import { freePort } from "../support/harness";
import { eventually } from "../support/poll";

test("clusterRouterCommand: nginx resolves every task of the web service itself, a second at most, then the single-host router command", () => {
    const command = clusterRouterCommand("shop-prod-web", 5000);
    assert.ok(command.startsWith(`printf '%s' '${Buffer.from(renderClusterRouterConfig("shop-prod-web", 5000)).toString("base64")}' | base64 -d > ${ROUTER_TEMPLATE_FILE}; `));
    assert.ok(command.endsWith(ROUTER_COMMAND));
    const conf = renderClusterRouterConfig("shop-prod-web", 5000);
    assert.match(conf, /resolver 127\.0\.0\.11 valid=1s ipv6=off;/);
    assert.match(conf, /set \$dynos tasks\.shop-prod-web;\n\s+proxy_pass http:\/\/\$dynos:5000;/);
    assert.match(conf, /proxy_next_upstream error timeout http_502 http_503;/);
    assert.match(conf, /error_page 502 504 = @again;\n    \}\n    location @again \{\n        if \(\$request_method !~ \^\(GET\|HEAD\|OPTIONS\)\$\) \{ return 502; \}\n        set \$dynos shop-prod-web;/,
        "a failed lookup is tried once more under the service's own name, for requests safe to resend");
    assert.match(conf, /keepalive_requests 1000000;/, "a client keeps its connection (nginx closes it after 1000 requests by default: resets under load)");
    assert.doesNotMatch(conf, /\{\{/, "nothing for the sync script to substitute: no reload when tasks come and go");
});

describeLive("the cluster router in nginx", () => {
    test("spreads requests over every address the name resolves to, and follows a new one within seconds without a reload", async () => {
        const docker = connectDocker();
        const images = recordedBaseImages();
        const tag = `dfcr${process.pid}`;
        const made: Array<{ remove(o: object): Promise<unknown> }> = [];
        const network = await docker.createNetwork({ Name: tag, Labels: { "dev.dynoform.test": tag } });
        const dyno = async (n: number) => {
            const c = await docker.createContainer({
                Image: images.node,
                Cmd: ["node", "-e", `require("http").createServer((q, s) => s.end("dyno ${n}")).listen(5000)`],
                HostConfig: { NetworkMode: tag },
                NetworkingConfig: { EndpointsConfig: { [tag]: { Aliases: ["tasks.shop-prod-web"] } } },
            });
            made.push(c);
            await c.start();
        };
        try {
            await dyno(1);
            await dyno(2);
            const port = await freePort();
            const router = await docker.createContainer({
                Image: images.nginx,
                Cmd: ["sh", "-c", clusterRouterCommand("shop-prod-web", 5000)],
                HostConfig: { NetworkMode: tag, PortBindings: { "80/tcp": [{ HostIp: "127.0.0.1", HostPort: String(port) }] } },
                ExposedPorts: { "80/tcp": {} },
            });
            made.push(router);
            await router.start();
            const seen = new Set<string>();
            const answers = (want: number) =>
                eventually(async () => {
                    // A timer of our own keeps the test alive while a request waits (undici's socket does not).
                    const timeout = new Promise<never>((_, no) => setTimeout(() => no(new Error("no answer in 5 s")), 5000));
                    seen.add(await Promise.race([fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()), timeout]));
                    return seen.size >= want;
                }, 30_000, `${want} dynos answering through the router (seen: ${[...seen].join(", ")})`, 50);
            await answers(2);
            const workerPids = async () => {
                const workers = 'for p in /proc/[0-9]*; do [ "$(tr -d "\\0" < $p/cmdline 2>/dev/null)" = "nginx: worker process" ] && echo ${p#/proc/}; done';
                const out = (await execIn(router, ["sh", "-c", workers])).output;
                return out.replace(/[^0-9\n]/g, "").trim();
            };
            const before = await workerPids();
            assert.ok(before, "nginx workers found");
            await dyno(3);
            await answers(3);
            assert.equal(await workerPids(), before, "the same nginx workers: no reload");
        } finally {
            for (const c of made.reverse()) await c.remove({ force: true }).catch(() => undefined);
            await docker.getNetwork(tag).remove().catch(() => undefined);
        }
    });
});
