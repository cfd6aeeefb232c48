import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { ADDON_LABEL, AddOn, AddOnArgs, attachmentUrl } from "../../components/addon";
import { installMocks, isSecret, promiseOf, Recorder, StateOverride, T } from "../support/mocks";

function args(plan: AddOnArgs["plan"], extra: Partial<AddOnArgs> = {}): AddOnArgs {
    return { app: "shop", stack: "dev", plan, addonName: plan, network: "shop-dev", image: `${plan}:test`, ...extra };
}

async function build(name: string, a: AddOnArgs, override?: StateOverride): Promise<{ rec: Recorder; addon: AddOn }> {
    const rec = installMocks(override);
    const addon = new AddOn(name, a);
    await promiseOf(addon.containerName);
    await rec.settle();
    return { rec, addon };
}

describe("attachmentUrl (pure)", () => {
    test("postgres: user app, database app, port 5432", () => {
        assert.equal(attachmentUrl("postgres", "db", "pw"), "postgres://app:pw@db:5432/app");
    });

    test("redis: password only, port 6379", () => {
        assert.equal(attachmentUrl("redis", "cache", "pw"), "redis://:pw@cache:6379");
    });

    test("encodes the password so it cannot break the URL", () => {
        assert.equal(attachmentUrl("postgres", "db", "p@ss:w/rd?#%"), "postgres://app:p%40ss%3Aw%2Frd%3F%23%25@db:5432/app");
        assert.equal(attachmentUrl("redis", "r", "a b+c"), "redis://:a%20b%2Bc@r:6379");
        const url = new URL(attachmentUrl("postgres", "db", "p@ss:w/rd?#%"));
        assert.equal(decodeURIComponent(url.password), "p@ss:w/rd?#%");
        assert.equal(url.hostname, "db");
        assert.equal(url.pathname, "/app");
    });
});

describe("AddOn: resources", () => {
    test("registers a password, a data volume and a server dyno, each a child of the add-on", async () => {
        const { rec } = await build("shop-postgres", args("postgres"));
        assert.deepEqual(rec.summary(), [
            `${T.AddOn} shop-postgres`,
            `${T.Dyno} shop-postgres-server`,
            `${T.Volume} shop-postgres-data`,
            `${T.RandomSecret} shop-postgres-password`,
        ]);
        const addon = rec.get(T.AddOn, "shop-postgres");
        assert.equal(rec.childrenOf(addon.urn!).length, 3);
        for (const r of rec.childrenOf(addon.urn!)) {
            assert.ok(r.urn!.startsWith(`urn:pulumi:stack::project::${T.AddOn}$`), r.urn);
        }
        assert.equal(rec.get(T.RandomSecret, "shop-postgres-password").inputs.bytes, 24);
    });

    test("postgres: env, no command, pg_isready health check, data on the volume at PGDATA's parent", async () => {
        const { rec } = await build("shop-postgres", args("postgres"));
        const password = rec.get(T.RandomSecret, "shop-postgres-password").state.value;
        const volume = rec.get(T.Volume, "shop-postgres-data").inputs;
        const server = rec.get(T.Dyno, "shop-postgres-server").inputs;
        assert.deepEqual(server.env, {
            POSTGRES_USER: "app",
            POSTGRES_DB: "app",
            POSTGRES_PASSWORD: password,
            PGDATA: "/var/lib/postgresql/data/pgdata",
        });
        assert.equal(server.command, undefined);
        assert.equal(server.user, undefined);
        assert.equal(server.port, 5432);
        assert.deepEqual(server.healthcheck, { command: "pg_isready -q -h 127.0.0.1 -U app -d app", intervalSeconds: 3, retries: 10 });
        assert.deepEqual(server.mounts, [`${volume.name}:/var/lib/postgresql/data`]);
        assert.equal(volume.name, "shop.dev.postgres-data");
        assert.deepEqual(volume.formerNames, ["shop-dev-postgres-data"], "a deployment named the old way keeps its data volume");
        assert.deepEqual(server.aliases, ["postgres"]);
        assert.equal(server.network, "shop-dev");
        assert.equal(server.image, "postgres:test");
        assert.deepEqual([server.app, server.stack, server.processType, server.index], ["shop", "dev", "postgres", 1]);
        assert.deepEqual([server.memoryMb, server.cpuShares, server.bootTimeoutSeconds], [256, 1024, 120]);
        assert.deepEqual(server.labels, { [ADDON_LABEL]: "postgres", "dev.dynoform.plan": "postgres" });
        assert.equal(server.role, "addon");
        assert.equal(server.release, undefined);
        assert.equal(server.publish, undefined, "add-ons are not published on the host");
    });

    test("redis: password env, redis-server command, redis-cli health check, /data on the volume", async () => {
        const { rec } = await build("shop-cache", args("redis", { addonName: "cache" }));
        const password = rec.get(T.RandomSecret, "shop-cache-password").state.value;
        const volume = rec.get(T.Volume, "shop-cache-data").inputs;
        const server = rec.get(T.Dyno, "shop-cache-server").inputs;
        assert.deepEqual(server.env, { REDIS_PASSWORD: password });
        assert.match(server.command, /^exec redis-server --requirepass "\$REDIS_PASSWORD" /);
        assert.match(server.command, /--appendonly yes --dir \/data/);
        assert.equal(server.user, "redis");
        assert.equal(server.port, 6379);
        assert.deepEqual(server.healthcheck, {
            command: 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG',
            intervalSeconds: 3,
            retries: 10,
        });
        assert.equal(volume.name, "shop.dev.cache-data");
        assert.deepEqual(server.mounts, [`${volume.name}:/data`]);
        assert.deepEqual(server.aliases, ["cache"]);
        assert.equal(server.processType, "cache");
        assert.deepEqual(server.labels, { [ADDON_LABEL]: "cache", "dev.dynoform.plan": "redis" });
    });

    test("the data volume is kept on destroy by default", async () => {
        const { rec } = await build("shop-postgres", args("postgres"));
        const volume = rec.get(T.Volume, "shop-postgres-data").inputs;
        assert.equal(volume.deleteOnDestroy, false);
        assert.deepEqual(volume.labels, {
            "dev.dynoform.managed": "true",
            "dev.dynoform.app": "shop",
            "dev.dynoform.stack": "dev",
            [ADDON_LABEL]: "postgres",
            "dev.dynoform.plan": "postgres",
        });
    });

    test("deleteDataOnDestroy deletes the data volume", async () => {
        const { rec } = await build("shop-postgres", args("postgres", { deleteDataOnDestroy: true }));
        assert.equal(rec.get(T.Volume, "shop-postgres-data").inputs.deleteOnDestroy, true);
    });

    test("an explicit deleteDataOnDestroy: false keeps the volume", async () => {
        const { rec } = await build("shop-redis", args("redis", { deleteDataOnDestroy: false }));
        assert.equal(rec.get(T.Volume, "shop-redis-data").inputs.deleteOnDestroy, false);
    });

    test("memoryMb sets the server's memory limit", async () => {
        const { rec } = await build("shop-redis", args("redis", { memoryMb: 1024 }));
        assert.equal(rec.get(T.Dyno, "shop-redis-server").inputs.memoryMb, 1024);
    });

    test("the server waits for its password and its volume", async () => {
        const { rec } = await build("shop-postgres", args("postgres"));
        const deps = rec.get(T.Dyno, "shop-postgres-server").dependencies;
        assert.ok(deps.includes(rec.get(T.RandomSecret, "shop-postgres-password").urn!));
        assert.ok(deps.includes(rec.get(T.Volume, "shop-postgres-data").urn!));
    });
});

describe("AddOn: outputs and secrets", () => {
    test("url is a secret output built from the generated password", async () => {
        const { rec, addon } = await build("shop-postgres", args("postgres"));
        const password = rec.get(T.RandomSecret, "shop-postgres-password").state.value;
        assert.equal(await isSecret(addon.url), true);
        assert.equal(await promiseOf(addon.url), attachmentUrl("postgres", "postgres", password));
    });

    test("the url encodes a password with URL-special characters", async () => {
        const override: StateOverride = (type, name) =>
            type === T.RandomSecret && name.endsWith("-password") ? { value: "p@ss:w/rd" } : undefined;
        const { addon } = await build("shop-redis", args("redis"), override);
        assert.equal(await promiseOf(addon.url), "redis://:p%40ss%3Aw%2Frd@redis:6379");
    });

    test("the password reaches the server only as a secret", async () => {
        for (const plan of ["postgres", "redis"] as const) {
            const { rec } = await build(`shop-${plan}`, args(plan));
            assert.ok(rec.get(T.Dyno, `shop-${plan}-server`).secretInputs.includes("env"), plan);
            assert.deepEqual(rec.get(T.Volume, `shop-${plan}-data`).secretInputs, [], plan);
        }
    });

    test("host, volumeName and containerName are plain outputs", async () => {
        const { rec, addon } = await build("shop-cache", args("redis", { addonName: "cache" }));
        assert.equal(await promiseOf(addon.host), "cache");
        assert.equal(await promiseOf(addon.volumeName), "shop.dev.cache-data");
        assert.equal(await promiseOf(addon.containerName), rec.get(T.Dyno, "shop-cache-server").state.containerName);
        assert.equal(addon.plan, "redis");
        for (const out of [addon.host, addon.volumeName, addon.containerName]) {
            assert.equal(await isSecret(out as pulumi.Output<string>), false);
        }
    });
});
