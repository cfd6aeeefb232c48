import assert from "node:assert/strict";
import YAML from "yaml";
import { connectDocker } from "../../infra/docker/client";
import { ADDON_LABEL } from "../../components/addon";
import { LABEL } from "../../infra/docker/labels";
import { containersWith } from "../support/harness";
import { deployOnce, envOf, usageLine, webDyno } from "../support/cli";
import { testLive } from "../support/engines";

// `addons:create`, `addons:info` and `addons:destroy` through the real CLI, on one deployment for
// the file (tests run in order): the tiny app with a Redis attached as CACHE. `addons:create`
// refuses bad plans and names before anything changes, then adds a Redis as REDIS_URL;
// `addons:info` shows it with its password masked unless --reveal; `addons:destroy` needs
// --confirm NAME, removes the add-on and its attachment, and keeps the data volume unless
// --delete-data.
const tiny = deployOnce("addverbs", { settings: { addons: { cache: { plan: "redis", as: "CACHE" } } } });

const volumeExists = (name: string) =>
    connectDocker()
        .getVolume(name)
        .inspect()
        .then(() => true, () => false);

/** The stack file's `dynoform:addons`. */
function stackAddons(text: string): Record<string, unknown> {
    return YAML.parse(text).config["dynoform:addons"];
}

testLive("addons:create: unknown plan or bad attachment name exits 2 naming the field, stack file unchanged", async (t) => {
    const { project, stack } = await tiny.deployed();
    const file = project.readStack(stack);

    const mysql = usageLine(await project.cli(["addons:create", "mysql", "--stack", stack]));
    assert.match(mysql, /`addons\.mysql`: unknown add-on plan "mysql"; known plans: postgres \(heroku-postgresql\), redis \(heroku-redis\)/);
    // Lower case (`store`, not the `cache` the file deploys: that name is taken, which is another error).
    const as = usageLine(await project.cli(["addons:create", "redis", "--as", "store", "--stack", stack]));
    assert.match(as, /`addons\.store\.as`: attachment name "store" is not valid/);
    const name = usageLine(await project.cli(["addons:create", "redis", "--name", "Bad_Name", "--stack", stack]));
    assert.match(name, /add-on name `Bad_Name`/);
    assert.equal(project.readStack(stack), file, "nothing was written");
});

testLive("addons:create redis: stack file edited, deployed, the dyno env has REDIS_URL", async (t) => {
    const { project, stack } = await tiny.deployed();
    const r = await project.cli(["addons:create", "redis", "--stack", stack]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`redis \\(redis\\) created on tiny \\(${stack}\\), attached as REDIS_URL`));
    assert.deepEqual(stackAddons(project.readStack(stack)), { cache: { plan: "redis", as: "CACHE" }, redis: "redis" }, "redis added beside cache");

    const env = envOf((await webDyno(stack))!);
    assert.match(env.REDIS_URL, /^redis:\/\/:[^@]+@redis:6379$/);
    assert.match(env.CACHE_URL, /^redis:\/\//, "the other add-on stays attached");
    assert.ok(!r.stdout.includes(env.REDIS_URL) && !r.stderr.includes(env.REDIS_URL), "the URL is never printed");

    const again = usageLine(await project.cli(["addons:create", "redis", "--stack", stack]));
    assert.match(again, /add-on `redis` already exists/);
});

testLive("addons:info: masked URL, container, state, volume; --reveal shows the dynos' URL", async (t) => {
    const { project, stack } = await tiny.deployed();
    const url = envOf((await webDyno(stack))!).REDIS_URL;
    const password = decodeURIComponent(new URL(url).password);
    assert.ok(password.length > 10);

    const r = await project.cli(["addons:info", "redis", "--stack", stack]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^URL: +redis:\/\/:\*{8}@redis:6379$/m);
    assert.match(r.stdout, /^Plan: +redis$/m);
    assert.match(r.stdout, /^Attached as: +REDIS_URL$/m);
    assert.match(r.stdout, new RegExp(`^Container: +tiny\\.${stack}\\.redis\\.1\\.[0-9a-f]{6}$`, "m"));
    assert.match(r.stdout, /^State: +running \(healthy\)$/m);
    assert.match(r.stdout, new RegExp(`^Volume: +tiny\\.${stack}\\.redis-data$`, "m"));
    assert.ok(!r.stdout.includes(password) && !r.stderr.includes(password), "no password without --reveal");
    // How it persists, asked of the running server (the add-on runs with --appendonly yes --dir /data).
    assert.match(r.stdout, /^Persistence: +AOF on \(fsync everysec\); RDB snapshots (at [\d ]+|off); in \/data$/m);

    const json = await project.cli(["addons:info", "redis", "--stack", stack, "--json"]);
    assert.equal(JSON.parse(json.stdout).url, "redis://:********@redis:6379");
    assert.equal(JSON.parse(json.stdout).persistence.aof, true);
    assert.ok(!json.stdout.includes(password));

    const revealed = await project.cli(["addons:info", "redis", "--stack", stack, "--reveal"]);
    assert.match(revealed.stdout, new RegExp(`^URL: +${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
});

testLive("addons:info: an unknown add-on is a usage error naming the ones there are", async (t) => {
    const { project, stack } = await tiny.deployed();
    assert.match(usageLine(await project.cli(["addons:info", "nope", "--stack", stack])), /no add-on `nope` .*\(add-ons: cache, redis\)/);
});

testLive("addons:destroy: without --confirm NAME, or with another name, exits 2 and changes nothing", async (t) => {
    const { project, stack } = await tiny.deployed();
    const file = project.readStack(stack);
    assert.match(usageLine(await project.cli(["addons:destroy", "redis", "--stack", stack])), /needs --confirm redis/);
    assert.match(usageLine(await project.cli(["addons:destroy", "redis", "--confirm", "cache", "--stack", stack])), /does not match/);
    assert.match(usageLine(await project.cli(["addons:destroy", "nope", "--confirm", "nope", "--stack", stack])), /no add-on `nope`/);
    assert.equal(project.readStack(stack), file);
});

testLive("addons:destroy: the add-on and its attachment go, the data volume stays", async (t) => {
    const { project, stack } = await tiny.deployed();
    const r = await project.cli(["addons:destroy", "redis", "--confirm", "redis", "--stack", stack]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Data volume tiny.${stack}.redis-data kept`));
    assert.equal((await containersWith({ [LABEL.stack]: stack, [ADDON_LABEL]: "redis" })).length, 0, "redis container removed");
    assert.ok(await volumeExists(`tiny.${stack}.redis-data`), "data volume kept");
    const env = envOf((await webDyno(stack))!);
    assert.equal(env.REDIS_URL, undefined);
    assert.match(env.CACHE_URL, /^redis:\/\//, "the other add-on stays attached");
    assert.doesNotMatch(project.readStack(stack), /\bredis: redis\b/);
});

testLive("addons:destroy --delete-data: the data volume goes too", async (t) => {
    const { project, stack } = await tiny.deployed();
    assert.ok(await volumeExists(`tiny.${stack}.cache-data`));
    const r = await project.cli(["addons:destroy", "cache", "--confirm", "cache", "--delete-data", "--stack", stack]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Data volume tiny.${stack}.cache-data deleted`));
    assert.equal(await volumeExists(`tiny.${stack}.cache-data`), false);
    assert.equal(envOf((await webDyno(stack))!).CACHE_URL, undefined);
});
