import assert from "node:assert/strict";
import { test } from "node:test";
import { deployOnce, usageLine } from "../support/cli";
import { eventually } from "../support/poll";
import { testLive } from "../support/engines";

// `dynoform logs` against a real deploy of the tiny app: Heroku-style prefixes, filters, and
// `--tail` following lines printed after it started, on dynos that start after it started.
const tiny = deployOnce("logs", { settings: { config: { GREETING: "hi" } } });

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (app\[[a-z0-9_.-]+\]|dynoform\[router\]|addon\[[a-z0-9-]+\]): /;

testLive("logs: recent lines of dynos and router, Heroku prefixes, time order, filters", async (t) => {
    const { project, stack, settings } = await tiny.deployed();
    const routerPort = settings.routerPort as number;
    const res = await fetch(`http://127.0.0.1:${routerPort}/first`);
    assert.equal(await res.text(), "web.1 hi");

    await eventually(async () => (await project.cli(["logs", "--stack", stack])).stdout.includes("GET /first HTTP"), 10_000, "the router's access log");
    const all = await project.cli(["logs", "--stack", stack, "-n", "50"]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split("\n");
    for (const l of lines) assert.match(l, LINE);
    assert.ok(lines.some((l) => / app\[web\.1\]: listening on \d+$/.test(l)), all.stdout);
    assert.ok(lines.some((l) => / app\[web\.1\]: request GET \/first$/.test(l)), all.stdout);
    assert.ok(lines.some((l) => / dynoform\[router\]: .*"GET \/first HTTP/.test(l)), all.stdout);
    const times = lines.map((l) => l.slice(0, 24));
    assert.deepEqual(times, [...times].sort(), "merged in time order");

    const web = await project.cli(["logs", "--stack", stack, "--dyno", "web.1"]);
    assert.ok(web.stdout.trimEnd().split("\n").every((l) => l.includes(" app[web.1]: ")), web.stdout);
    const router = await project.cli(["logs", "--stack", stack, "--ps", "router", "-n", "1"]);
    assert.equal(router.stdout.trimEnd().split("\n").length, 1);
    assert.match(router.stdout, / dynoform\[router\]: /);
});

testLive("logs --tail: a line printed after it started, a dyno started after it started, stops on SIGINT", async (t) => {
    const { project, stack, settings } = await tiny.deployed();
    const routerPort = settings.routerPort as number;
    const tail = project.spawnCli(["logs", "--tail", "-n", "0", "--stack", stack]);
    try {
        await eventually(() => tail.err().includes("--- following"), 60_000, "logs --tail to start following");
        const mark = `after-${Date.now()}`;
        await fetch(`http://127.0.0.1:${routerPort}/${mark}`);
        await eventually(() => tail.out().includes(`app[web.1]: request GET /${mark}`), 15_000, `app[web.1] line for /${mark}`);
        assert.match(tail.out(), new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z app\\[web\\.1\\]: request GET /${mark}$`, "m"));
        await eventually(() => new RegExp(`dynoform\\[router\\]: .*GET /${mark} HTTP`).test(tail.out()), 15_000, "the router's line");

        // A second web dyno, started by an `up` while logs --tail runs, is picked up.
        project.writeStack(stack, { ...settings, formation: { web: { quantity: 2 } } });
        const up = await project.cli(["up", "--yes", "--stack", stack]);
        assert.equal(up.code, 0, up.stderr);
        await eventually(() => /app\[web\.2\]: listening on \d+/.test(tail.out()), 15_000, "a line from web.2");

        tail.child.kill("SIGINT");
        const code = await Promise.race([tail.exited, new Promise((r) => setTimeout(() => r("still running"), 10_000))]);
        assert.equal(code, 0, `logs --tail exits 0 on SIGINT (stderr: ${tail.err()})`);
    } finally {
        tail.child.kill("SIGKILL");
    }
});

testLive("logs: usage errors exit 2 with one line", async (t) => {
    const { project, stack } = tiny;
    assert.match(usageLine(await project.cli(["logs", "--stack", stack, "-n", "-3"])), /-n -3 must be a whole number/);
    assert.match(usageLine(await project.cli(["logs", "--stack", stack, "--dyno", "web 1"])), /--dyno "web 1" is not a dyno/);
    assert.match(usageLine(await project.cli(["logs", "--stack", `${stack}-nope`])), /unknown stack/);
});
