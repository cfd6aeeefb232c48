import assert from "node:assert/strict";
import { before } from "node:test";
import { CliProject, cliProject, envOf, TINY_APP, tinyStack, usageLine, webDyno } from "../support/cli";
import { afterLive, beforeLive, testLive } from "../support/engines";

// `dynoform addons:create`: bad plans and names are refused before anything changes; a Redis
// add-on is added to the stack file, deployed, and its URL reaches the dynos as REDIS_URL.
let project: CliProject;
let stack: string;

beforeLive(async () => {
    project = await cliProject("addcreate", { files: TINY_APP });
    stack = project.stackName("s");
});
afterLive(async () => {
    await project?.cleanup();
});

testLive("addons:create: unknown plan or bad attachment name exits 2 naming the field, stack file unchanged", async (t) => {
    project.writeStack(stack, await tinyStack());
    const file = project.readStack(stack);

    const mysql = usageLine(await project.cli(["addons:create", "mysql", "--stack", stack]));
    assert.match(mysql, /`addons\.mysql`: unknown add-on plan "mysql"; known plans: postgres \(heroku-postgresql\), redis \(heroku-redis\)/);
    const as = usageLine(await project.cli(["addons:create", "redis", "--as", "cache", "--stack", stack]));
    assert.match(as, /`addons\.cache\.as`: attachment name "cache" is not valid/);
    const name = usageLine(await project.cli(["addons:create", "redis", "--name", "Bad_Name", "--stack", stack]));
    assert.match(name, /add-on name `Bad_Name`/);
    assert.equal(project.readStack(stack), file, "nothing was written");
});

testLive("addons:create redis: stack file edited, deployed, the dyno env has REDIS_URL", async (t) => {
    const r = await project.cli(["addons:create", "redis", "--stack", stack]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`redis \\(redis\\) created on tiny \\(${stack}\\), attached as REDIS_URL`));
    assert.match(project.readStack(stack), /dynoform:addons:\n\s+redis: redis\n/);

    const env = envOf((await webDyno(stack))!);
    assert.match(env.REDIS_URL, /^redis:\/\/:[^@]+@redis:6379$/);
    assert.ok(!r.stdout.includes(env.REDIS_URL) && !r.stderr.includes(env.REDIS_URL), "the URL is never printed");

    const again = usageLine(await project.cli(["addons:create", "redis", "--stack", stack]));
    assert.match(again, /add-on `redis` already exists/);
});
