import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { test } from "node:test";
import { App } from "../../components/app";
import { freePort, TestProject, testProject } from "../support/harness";
import { CLI, CliResult, runProcess, TINY_APP } from "../support/cli";
import { eventually } from "../support/poll";
import { afterLive, beforeLive, testLive } from "../support/engines";

// A stack made by a plain Pulumi program that uses `App` (no `dynoform init`, no stack file, and
// outputs of the program's own choosing): `ps`, `releases` and `logs` read the App in its state.
let project: TestProject | undefined;
let stackName: string;

/** The CLI on the plain project, with its backend and passphrase. */
function cli(args: string[]): Promise<CliResult> {
    return runProcess(process.execPath, [CLI, "--cwd", project!.dir, ...args, "--stack", stackName], {
        env: { ...process.env, ...project!.env, NO_COLOR: "1", DYNOFORM_STACK: "" },
    });
}

beforeLive(async () => {
    project = await testProject("libstack");
    stackName = project.id;
    const source = path.join(project.dir, "app");
    fs.mkdirSync(source);
    for (const [f, text] of Object.entries(TINY_APP)) fs.writeFileSync(path.join(source, f), text);
    const routerPort = await freePort();
    const stack = await project.stack(async () => {
        const app = new App("shop", { name: "libshop", source, routerPort, formation: { web: { quantity: 2 } }, baseImages: project!.images });
        // Only what this program wants to export: none of the outputs the CLI's own program exports.
        return { site: app.url };
    }, stackName);
    await stack.up();
});
afterLive(async () => {
    await project?.cleanup();
});

testLive("ps, releases and logs work on a stack made by a plain program that uses App", async (t) => {
    if (!project) return t.skip("needs a real Docker engine and Pulumi CLI");
    assert.equal(fs.existsSync(path.join(project.dir, "stacks")), false, "no dynoform stack file");

    const ps = await cli(["ps"]);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^=== web \(standard-1x\): 2 dynos$/m);
    assert.match(ps.stdout, /^web\.1: up .* v1 \[mem [\d.]+\/512 MiB [\d.]+%, cpu [\d.]+%\]$/m);
    assert.match(ps.stdout, /^web\.2: up .* v1 \[mem [\d.]+\/512 MiB [\d.]+%, cpu [\d.]+%\]$/m);

    const releases = await cli(["releases"]);
    assert.equal(releases.code, 0, releases.stderr);
    assert.match(releases.stdout, new RegExp(`^=== libshop releases on ${stackName}$`, "m"));
    assert.match(releases.stdout, /^v1\* /m);

    const logs = await eventually(
        async () => {
            const r = await cli(["logs", "-n", "20", "--ps", "web"]);
            assert.equal(r.code, 0, r.stderr);
            return /app\[web\.1\]: listening on/.test(r.stdout) ? r : undefined;
        },
        30_000,
        "web.1's first log line through `dynoform logs`",
        500,
    );
    assert.match(logs.stdout, /app\[web\.2\]: listening on/);

    // Secrets stay encrypted: the App's config and attachments are not read.
    const json = await cli(["ps", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).length, 2);
});

testLive("a stack with neither a stack file nor an App is still an unknown stack (exit 2)", async (t) => {
    if (!project) return t.skip("needs a real Docker engine and Pulumi CLI");
    const r = await runProcess(process.execPath, [CLI, "--cwd", project!.dir, "ps", "--stack", "nothing-here"], {
        env: { ...process.env, ...project!.env, NO_COLOR: "1" },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown stack "nothing-here"/);
});
