import assert from "node:assert/strict";
import { test } from "node:test";
import { LABEL } from "../../infra/docker/labels";
import { containersWith } from "../support/harness";
import { deployOnce, envOf, TINY_APP, usageLine, webDyno } from "../support/cli";
import { testLive } from "../support/engines";

// `dynoform run` against a real deploy: the tiny app with a PostgreSQL add-on declared in its
// app.json, so a one-off sees config vars and DATABASE_URL and reaches the add-on by name.
const tiny = deployOnce("run", { files: { ...TINY_APP, "app.json": JSON.stringify({ name: "tiny", addons: ["heroku-postgresql"] }) }, settings: { config: { GREETING: "from-config" } } });

async function runContainers() {
    return containersWith({ [LABEL.stack]: tiny.stack, [LABEL.role]: "run" });
}

testLive("run: the command's exit code becomes the CLI's, and the one-off is removed", async (t) => {
    const { project, stack } = await tiny.deployed();
    const r = await project.cli(["run", "--stack", stack, "--", "sh", "-c", "exit 7"]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /Running `sh -c 'exit 7'` on tiny \(.*\) as run\.1/);
    assert.equal((await runContainers()).length, 0, "no one-off container left");

    const ok = await project.cli(["run", "--stack", stack, "true"]);
    assert.equal(ok.code, 0, ok.stderr);
});

testLive("run: config vars, DATABASE_URL, DYNO=run.N and the app network (the add-on answers by name)", async (t) => {
    const { project, stack } = await tiny.deployed();
    const r = await project.cli(["run", "--stack", stack, 'echo "$DYNO|$GREETING|${DATABASE_URL%%:*}|${PORT:-no-port}"']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "run.1|from-config|postgres|no-port");

    const web = await webDyno(stack);
    const url = envOf(web!).DATABASE_URL;
    const same = await project.cli(["run", "--stack", stack, "-e", `EXPECTED=${url}`, 'test "$DATABASE_URL" = "$EXPECTED"']);
    assert.equal(same.code, 0, "the one-off gets the same DATABASE_URL as the web dyno");
    assert.ok(!same.stdout.includes(url) && !same.stderr.includes(url), "the tool itself never prints the URL");

    const connect = "require('net').connect(5432, 'postgres').on('connect', () => process.exit(0)).on('error', () => process.exit(3))";
    const net = await project.cli(["run", "--stack", stack, "--", "node", "-e", connect]);
    assert.equal(net.code, 0, `postgres:5432 reachable from the one-off (${net.stderr})`);
});

testLive("run: plain streams without a TTY (stdin piped in, stdout and stderr apart), extra env", async (t) => {
    const { project, stack } = await tiny.deployed();
    const r = await project.cli(["run", "--stack", stack, "-e", "EXTRA=1", "--", "sh", "-c", 'cat; echo "extra=$EXTRA"; echo oops >&2'], { input: "piped line\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "piped line\nextra=1\n");
    assert.match(r.stderr, /^oops$/m);
});

testLive("run: usage errors exit 2 with one line", async (t) => {
    const { project, stack } = tiny;
    assert.match(usageLine(await project.cli(["run", "--stack", stack])), /give a command/);
    assert.match(usageLine(await project.cli(["run", "--stack", stack, "--size", "huge", "--", "true"])), /`size`/);
    assert.match(usageLine(await project.cli(["run", "--stack", stack, "-e", "1BAD=x", "--", "true"])), /1BAD/);
});
