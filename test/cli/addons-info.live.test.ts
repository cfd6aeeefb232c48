import assert from "node:assert/strict";
import { deployOnce, envOf, usageLine, webDyno } from "../support/cli";
import { testLive } from "../support/engines";

// `dynoform addons:info`: plan, container, state, volume and attachment; the URL's password
// masked unless --reveal.
const tiny = deployOnce("addinfo", { settings: { addons: { redis: "redis" } } });

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
    assert.match(usageLine(await project.cli(["addons:info", "nope", "--stack", stack])), /no add-on `nope` .*\(add-ons: redis\)/);
});

