import assert from "node:assert/strict";
import { connectDocker } from "../../infra/docker/client";
import { ADDON_LABEL } from "../../components/addon";
import { LABEL } from "../../infra/docker/labels";
import { containersWith } from "../support/harness";
import { deployOnce, envOf, usageLine, webDyno } from "../support/cli";
import { testLive } from "../support/engines";

// `dynoform addons:destroy`: needs --confirm NAME; removes the add-on and its attachment, keeps
// the data volume unless --delete-data.
const tiny = deployOnce("adddestroy", { settings: { addons: { redis: "redis", cache: { plan: "redis", as: "CACHE" } } } });

const volumeExists = (name: string) =>
    connectDocker()
        .getVolume(name)
        .inspect()
        .then(() => true, () => false);

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
