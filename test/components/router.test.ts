import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Router, ROUTER_COMMAND, RouterArgs } from "../../components/router";
import { ROUTER_SYNC, ROUTER_SYNC_SCRIPT, ROUTER_WATCH_LOOP } from "../../infra/docker/router-config";
import { ROUTER_CONF_DIR, ROUTER_CONF_FILE, ROUTER_LISTEN_PORT } from "../../infra/docker/router-config";
import { RandomSecret } from "../../infra/random/secret";
import { installMocks, isSecret, promiseOf, Recorder, T } from "../support/mocks";

function args(extra: Partial<RouterArgs> = {}): RouterArgs {
    return { app: "shop", stack: "dev", network: "shop-dev", image: "nginx:test", port: 8080, upstreams: [], ...extra };
}

async function build(name: string, a: RouterArgs, rec = installMocks()): Promise<{ rec: Recorder; router: Router }> {
    const router = new Router(name, a);
    await promiseOf(router.containerName);
    await rec.settle();
    return { rec, router };
}

describe("Router: resources", () => {
    test("registers a config volume, an nginx dyno and its config, each a child of the router", async () => {
        const { rec } = await build("shop-router", args());
        assert.deepEqual(rec.summary(), [
            `${T.Router} shop-router`,
            `${T.Dyno} shop-router-nginx`,
            `${T.RouterConfig} shop-router-config`,
            `${T.Volume} shop-router-conf`,
        ]);
        const router = rec.get(T.Router, "shop-router");
        assert.deepEqual(
            rec
                .childrenOf(router.urn!)
                .map((r) => r.name)
                .sort(),
            ["shop-router-conf", "shop-router-config", "shop-router-nginx"],
        );
    });

    test("the config volume is the router's own and goes with it", async () => {
        const { rec } = await build("shop-router", args());
        const volume = rec.get(T.Volume, "shop-router-conf").inputs;
        assert.equal(volume.name, "shop.dev.router-conf");
        assert.deepEqual(volume.formerNames, ["shop-dev-router-conf"]);
        assert.deepEqual(volume.labels, { "dev.dynoform.managed": "true", "dev.dynoform.app": "shop", "dev.dynoform.stack": "dev" });
        assert.equal(volume.deleteOnDestroy, true);
    });

    test("the nginx dyno runs the router command with the config volume mounted", async () => {
        const { rec } = await build("shop-router", args());
        const nginx = rec.get(T.Dyno, "shop-router-nginx").inputs;
        assert.deepEqual([nginx.app, nginx.stack, nginx.processType, nginx.index], ["shop", "dev", "router", 1]);
        assert.equal(nginx.image, "nginx:test");
        assert.equal(nginx.command, ROUTER_COMMAND);
        assert.equal(nginx.network, "shop-dev");
        assert.equal(nginx.port, ROUTER_LISTEN_PORT);
        assert.deepEqual(nginx.mounts, [`shop.dev.router-conf:${ROUTER_CONF_DIR}`]);
        assert.deepEqual([nginx.memoryMb, nginx.cpuShares, nginx.stopGraceSeconds], [64, 1024, 10]);
        assert.deepEqual(nginx.labels, { "dev.dynoform.router": "true" });
        assert.equal(nginx.role, "router");
        assert.equal(nginx.env, undefined);
    });

    test("the router command installs the sync script, serves 503 until a config arrives, runs nginx and follows the dynos' addresses every second", () => {
        const installed = Buffer.from(/printf '%s' '([A-Za-z0-9+/=]+)' \| base64 -d > (\S+)/.exec(ROUTER_COMMAND)![1], "base64").toString();
        assert.equal(installed, ROUTER_SYNC_SCRIPT);
        assert.match(ROUTER_COMMAND, new RegExp(`\\[ -s ${ROUTER_CONF_FILE} \\] \\|\\| printf 'server \\{ listen ${ROUTER_LISTEN_PORT} default_server; return 503; \\}`));
        assert.match(ROUTER_COMMAND, /nginx -g 'daemon off;' & nginx=\$!/);
        assert.match(ROUTER_COMMAND, /trap 'kill -QUIT \$nginx' TERM QUIT INT/);
        assert.ok(ROUTER_COMMAND.includes(`; ${ROUTER_WATCH_LOOP}; `));
        assert.match(ROUTER_WATCH_LOOP, /^seen=-; while kill -0 \$nginx 2>\/dev\/null; do /);
        assert.match(ROUTER_WATCH_LOOP, new RegExp(`then if ${ROUTER_SYNC} >/dev/null; then seen=\\$now; else seen=-; fi; fi; sleep 1 & wait \\$!; done$`));
    });
});

describe("Router: host address and url", () => {
    test("publishes on 127.0.0.1 by default", async () => {
        const { rec, router } = await build("shop-router", args());
        assert.deepEqual(rec.get(T.Dyno, "shop-router-nginx").inputs.publish, { hostIp: "127.0.0.1", hostPort: 8080 });
        assert.equal(await promiseOf(router.url), "http://127.0.0.1:8080");
        assert.equal(await isSecret(router.url), false);
    });

    test("publishes on the given host address, and the url names it", async () => {
        const { rec, router } = await build("shop-router", args({ hostIp: "10.1.2.3", port: 9000 }));
        assert.deepEqual(rec.get(T.Dyno, "shop-router-nginx").inputs.publish, { hostIp: "10.1.2.3", hostPort: 9000 });
        assert.equal(await promiseOf(router.url), "http://10.1.2.3:9000");
    });

    test("0.0.0.0 publishes on every address; the url shows 127.0.0.1, where a browser can go", async () => {
        const { rec, router } = await build("shop-router", args({ hostIp: "0.0.0.0" }));
        assert.deepEqual(rec.get(T.Dyno, "shop-router-nginx").inputs.publish, { hostIp: "0.0.0.0", hostPort: 8080 });
        assert.equal(await promiseOf(router.url), "http://127.0.0.1:8080");
    });

    test("containerName is the nginx dyno's", async () => {
        const { rec, router } = await build("shop-router", args());
        assert.equal(await promiseOf(router.containerName), rec.get(T.Dyno, "shop-router-nginx").state.containerName);
    });
});

describe("Router: config", () => {
    test("the upstreams reach the router config resolved, for the nginx container", async () => {
        const rec = installMocks();
        const upstreams = [
            { host: pulumi.output("shop-dev.web.1.aaa"), port: 5000, containerId: pulumi.output("c1") },
            pulumi.output({ host: "shop-dev.web.2.bbb", port: 5000, containerId: "c2" }),
        ];
        await build("shop-router", args({ upstreams }), rec);
        const config = rec.get(T.RouterConfig, "shop-router-config").inputs;
        assert.deepEqual(config.upstreams, [
            { host: "shop-dev.web.1.aaa", port: 5000, containerId: "c1" },
            { host: "shop-dev.web.2.bbb", port: 5000, containerId: "c2" },
        ]);
        assert.equal(config.container, rec.get(T.Dyno, "shop-router-nginx").state.containerName);
        assert.equal(config.app, "shop");
        assert.ok(rec.get(T.RouterConfig, "shop-router-config").dependencies.includes(rec.get(T.Dyno, "shop-router-nginx").urn!));
    });

    test("no upstreams: a router config with an empty list (the router answers 503)", async () => {
        const { rec } = await build("shop-router", args({ upstreams: [] }));
        assert.deepEqual(rec.get(T.RouterConfig, "shop-router-config").inputs.upstreams, []);
    });

    test("dependsOn holds back the container and its config (a first up whose web dynos fail leaves no router)", async () => {
        const rec = installMocks();
        const a = new RandomSecret("dep-a", {});
        const b = new RandomSecret("dep-b", {});
        await build("shop-router", args({ dependsOn: [a, b] }), rec);
        const urnA = rec.get(T.RandomSecret, "dep-a").urn!;
        const urnB = rec.get(T.RandomSecret, "dep-b").urn!;
        const config = rec.get(T.RouterConfig, "shop-router-config").dependencies;
        assert.ok(config.includes(urnA) && config.includes(urnB));
        const nginx = rec.get(T.Dyno, "shop-router-nginx").dependencies;
        assert.ok(nginx.includes(urnA) && nginx.includes(urnB));
        assert.deepEqual(rec.get(T.Volume, "shop-router-conf").dependencies, []);
    });

    test("the container shares its config volume with a replacement, so a new port starts new-first", async () => {
        const { rec } = await build("shop-router", args());
        assert.equal(rec.get(T.Dyno, "shop-router-nginx").inputs.shareMounts, true);
    });
});
