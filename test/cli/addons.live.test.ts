import assert from "node:assert/strict";
import { after, before } from "node:test";
import { CliProject, cliProject, TINY_APP, tinyStack } from "../support/cli";
import { afterLive, beforeLive, testLive } from "../support/engines";

// `dynoform addons` lists add-ons from both places they are declared: app.json (heroku-postgresql)
// and the stack file (a Redis attached as CACHE), with the state Docker reports.
let project: CliProject;
let stack: string;

beforeLive(async () => {
    project = await cliProject("addons", {
        files: { ...TINY_APP, "app.json": JSON.stringify({ name: "tiny", addons: ["heroku-postgresql"] }) },
    });
    stack = project.stackName("s");
});
afterLive(async () => {
    await project?.cleanup();
});

testLive("addons: lists app.json and stack-file add-ons with where each comes from, before and after up", async (t) => {
    project.writeStack(stack, await tinyStack({ addons: { cache: { plan: "redis", as: "CACHE" } } }));

    const before = await project.cli(["addons", "--stack", stack, "--json"]);
    assert.equal(before.code, 0, before.stderr);
    const planned = JSON.parse(before.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
        planned.map((a) => [a.name, a.plan, a.varName, a.from, a.state, a.volumeExists]),
        [
            ["postgres", "postgres", "DATABASE_URL", "app.json", "missing", false],
            ["cache", "redis", "CACHE_URL", "stack", "missing", false],
        ],
    );

    const up = await project.cli(["up", "--yes", "--stack", stack]);
    assert.equal(up.code, 0, up.stderr);
    const table = await project.cli(["addons", "--stack", stack]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.equal(lines[0], `=== tiny (${stack}) add-ons`);
    assert.match(lines[1], /^NAME\s+PLAN\s+ATTACHED AS\s+STATE\s+FROM\s+VOLUME$/);
    assert.match(lines[2], new RegExp(`^postgres\\s+postgres\\s+DATABASE_URL\\s+running \\(healthy\\)\\s+app\\.json\\s+tiny\\.${stack}\\.postgres-data$`));
    assert.match(lines[3], new RegExp(`^cache\\s+redis\\s+CACHE_URL\\s+running \\(healthy\\)\\s+stacks/Pulumi\\.${stack}\\.yaml\\s+tiny\\.${stack}\\.cache-data$`));
    assert.doesNotMatch(table.stdout, /postgres:\/\/|redis:\/\//, "no URL in the listing");
});

testLive("addons: unknown stack is a usage error", async (t) => {
    const r = await project.cli(["addons", "--stack", `${stack}-nope`]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1);
});
