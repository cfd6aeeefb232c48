import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { after, before } from "node:test";
import { openStack } from "../../infra/engine/workspace";
import { CliProject, cliProject, TINY_APP, tinyStack, usageLine, webDyno } from "../support/cli";
import { afterLive, beforeLive, testLive } from "../support/engines";

// `dynoform promote`: production runs an older build; staging a newer one. Promoting deploys
// staging's image ID to production, which keeps its own config vars.
let project: CliProject;
let staging: string;
let production: string;
let prodSettings: Record<string, unknown>;

beforeLive(async () => {
    project = await cliProject("promote", { files: TINY_APP });
    staging = project.stackName("staging");
    production = project.stackName("production");
    prodSettings = await tinyStack({ config: { GREETING: "prod" } });
    project.writeStack(production, prodSettings);
    project.writeStack(staging, await tinyStack({ config: { GREETING: "stage" } }));
});
afterLive(async () => {
    await project?.cleanup();
});

async function outputs(stack: string) {
    const s = await openStack({ projectDir: project.dir, stack, program: async () => ({}), env: project.env });
    return s.outputs();
}

testLive("promote: the target runs the source's image ID, keeps its config, records the release", async (t) => {
    const upProd = await project.cli(["up", "--yes", "--stack", production]);
    assert.equal(upProd.code, 0, upProd.stderr);

    // A newer build goes to staging only.
    fs.appendFileSync(path.join(project.dir, "app", "server.js"), "// build 2\n");
    const upStaging = await project.cli(["up", "--yes", "--stack", staging]);
    assert.equal(upStaging.code, 0, upStaging.stderr);

    const stagingDigest = (await outputs(staging)).imageDigest.value as string;
    const prodBefore = (await outputs(production)).imageDigest.value as string;
    assert.match(stagingDigest, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(prodBefore, stagingDigest, "the two stacks run different builds before promote");

    const r = await project.cli(["promote", "--from", staging, "--to", production]);
    assert.equal(r.code, 0, r.stderr);
    const short = (d: string) => d.replace(/^sha256:/, "").slice(0, 12);
    assert.match(r.stdout, new RegExp(`^${production}: image ${short(prodBefore)} -> ${short(stagingDigest)} \\(${stagingDigest}, from ${staging}\\), release v2; `, "m"));

    const web = await webDyno(production);
    assert.equal(web!.Image, stagingDigest, "production's web dyno runs staging's image ID");
    const res = await fetch(`http://127.0.0.1:${prodSettings.routerPort}/`);
    assert.equal(await res.text(), "web.1 prod", "production keeps its own config");

    const after = await outputs(production);
    assert.equal(after.imageDigest.value, stagingDigest);
    const releases = after.releases.value as Array<{ version: number; description: string; imageId: string }>;
    const v2 = releases.find((x) => x.version === 2)!;
    assert.equal(v2.description, `Promote from ${staging} (${short(stagingDigest)})`);
    assert.equal(v2.imageId, stagingDigest);
    assert.match(project.readStack(production), new RegExp(`dynoform:image: ${stagingDigest}`));

    const again = await project.cli(["promote", "--from", staging, "--to", production]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already runs .* nothing to promote/);
});

testLive("promote: same stack, unknown stack or a source never deployed is refused", async (t) => {
    assert.match(usageLine(await project.cli(["promote", "--from", staging, "--to", staging])), /both/);
    assert.match(usageLine(await project.cli(["promote", "--from", staging, "--to", `${production}-x`])), /unknown stack/);
    assert.match(usageLine(await project.cli(["promote", "--to", production])), /from/);
    const fresh = project.stackName("fresh");
    project.writeStack(fresh, await tinyStack());
    const r = await project.cli(["promote", "--from", fresh, "--to", production]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has not been deployed/);
});
