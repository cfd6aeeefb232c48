import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "fs";
import * as path from "path";
import { after, before } from "node:test";
import { MAX_ENV_TOTAL_BYTES } from "../../components/config-vars";
import { stackLockFiles } from "../../infra/engine/workspace";
import { containersWith } from "../support/harness";
import { CLI, CliProject, cliProject, TINY_APP, tinyStack } from "../support/cli";
import { LABEL } from "../../infra/docker/labels";
import { afterLive, beforeLive, testLive } from "../support/engines";

// A failed `up` says its cause in a line or two and where the engine's whole output went (a 0600
// log file; --verbose prints it); a closed output pipe ends the command quietly (141) after the
// operation stops cleanly, as `git` does; read-only commands piped to `head` end without a stack
// trace; a NUL or an oversized config value is refused before anything is built (exit 2, one
// line); and an error the program throws where nothing catches it ends the command.

let project: CliProject;

beforeLive(async () => {
    project = await cliProject("fail", { files: { ...TINY_APP, Procfile: "web: node server.js\nrelease: echo releasing; exit 1\n" } });
});

afterLive(async () => {
    await project?.cleanup();
});

testLive("a failed up prints its cause in a few lines, and the engine's output goes to a 0600 log file (--verbose prints it)", async () => {
    const stack = project.stackName("short");
    project.writeStack(stack, await tinyStack());
    const r = await project.cli(["up", "--yes", "--stack", stack]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trimEnd().split("\n");
    assert.ok(lines.length <= 20, `at most 20 lines for one error, got ${lines.length}:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /stdout:|stderr:|err\?:|Diagnostics:|^\s+at /m, "no engine dump");
    const tail = lines.slice(-2);
    assert.match(tail[0], /^dynoform: .*release/i, r.stderr);
    const m = /^dynoform: the engine's full output is in (\S+\.log) \(--verbose prints it\)$/.exec(tail[1]);
    assert.ok(m, r.stderr);
    assert.equal((fs.statSync(m[1]).mode & 0o777).toString(8), "600");
    assert.equal((fs.statSync(path.dirname(m[1])).mode & 0o777).toString(8), "700");
    assert.match(fs.readFileSync(m[1], "utf8"), /Diagnostics:/);

    const v = await project.cli(["up", "--yes", "--verbose", "--stack", stack]);
    assert.equal(v.code, 1, v.stderr);
    assert.match(v.stderr, /Diagnostics:/, "--verbose prints the engine's output");
});

testLive("`up 2>&1 | grep -m1 ^error` with a failing release: the command ends (141), leaving no lock", async () => {
    const stack = project.stackName("pipe");
    project.writeStack(stack, await tinyStack());
    const env = { ...process.env, ...project.env, NO_COLOR: "1", DYNOFORM_STACK: "" };
    const script = `node ${JSON.stringify(CLI)} --cwd ${JSON.stringify(project.dir)} up --yes --stack ${stack} 2>&1 | grep -m1 '^error'; echo "status=\${PIPESTATUS[0]}"`;
    const t0 = Date.now();
    const child = spawn("bash", ["-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (out += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    await new Promise((r) => child.on("close", r));
    clearTimeout(timer);
    assert.match(out, /^error: /m, out);
    assert.match(out, /status=141\n$/, out);
    assert.ok(Date.now() - t0 < 300_000, "it ended");
    assert.deepEqual(stackLockFiles(project.env.PULUMI_BACKEND_URL, stack), [], "Pulumi's lock released");
});

testLive("a read-only command piped to `head` ends quietly with 141 (no EPIPE stack trace)", async () => {
    const stack = project.stackName("head");
    const config = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`V${i}`, "v".repeat(1000)]));
    project.writeStack(stack, await tinyStack({ config }));
    const env = { ...process.env, ...project.env, NO_COLOR: "1", DYNOFORM_STACK: "" };
    const script = `node ${JSON.stringify(CLI)} --cwd ${JSON.stringify(project.dir)} config --stack ${stack} 2>/tmp/dynoform-head-$$.err | head -c 20 >/dev/null; s=\${PIPESTATUS[0]}; cat /tmp/dynoform-head-$$.err; rm -f /tmp/dynoform-head-$$.err; echo "status=$s"`;
    const r = await new Promise<string>((resolve) => {
        const child = spawn("bash", ["-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c));
        child.stderr.on("data", (c: Buffer) => (out += c));
        child.on("close", () => resolve(out));
    });
    assert.equal(r, "status=141\n");
});

testLive("a NUL byte or an oversized value in the stack file: exit 2, one line naming the key, nothing built", async () => {
    const nul = project.stackName("nul");
    const file = project.writeStack(nul, await tinyStack({ config: { GOOD: "ok", BAD: "a\0b" } }));
    assert.match(fs.readFileSync(file, "utf8"), /BAD: "a\\0b"/, "YAML's escape for NUL");
    const r = await project.cli(["up", "--yes", "--stack", nul]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`Pulumi\\.${nul}\\.yaml:\\d+: \`dynoform:config\\.BAD\`: value of BAD contains a NUL character`));

    const big = project.stackName("big");
    project.writeStack(big, await tinyStack({ config: { HUGE: "x".repeat(1_000_000) } }));
    const b = await project.cli(["up", "--yes", "--stack", big]);
    assert.equal(b.code, 2, b.stderr);
    assert.equal(b.stderr.trimEnd().split("\n").length, 1, b.stderr);
    assert.match(b.stderr, /`dynoform:config\.HUGE`: value of HUGE is 977 KiB \(1000005 bytes with its name\); a process environment holds at most 131071 bytes/);

    const many = project.stackName("many");
    const parts = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`PART${i}`, "y".repeat(120_000)]));
    project.writeStack(many, await tinyStack({ config: parts }));
    const m = await project.cli(["config:set", "ONE_MORE=1", "--stack", many]);
    assert.equal(m.code, 2, m.stderr);
    assert.match(m.stderr, new RegExp(`the config vars take \\d+ KiB as Docker receives them; the limit is ${MAX_ENV_TOTAL_BYTES / 1024} KiB`));
    assert.doesNotMatch(project.readStack(many), /ONE_MORE/, "nothing changed");

    for (const s of [nul, big, many]) assert.deepEqual(await containersWith({ [LABEL.stack]: s }), [], `nothing created for ${s}`);
});

testLive("an error the program throws inside an apply (secret values too large together) ends the command in one line", async () => {
    const stack = project.stackName("apply");
    project.writeStack(stack, await tinyStack());
    fs.writeFileSync(path.join(project.dir, "app", "Procfile"), "web: node server.js\n");
    // Secret values are not known to the stack-file check (it cannot decrypt them): only the program sees them.
    for (let i = 0; i < 9; i++) {
        const s = await project.cli(["config:set", `S${i}=${"s".repeat(120_000)}`, "--secret", "--no-up", "--stack", stack]);
        assert.equal(s.code, 0, s.stderr);
    }
    const t0 = Date.now();
    const r = await project.cli(["up", "--yes", "--stack", stack], { timeoutMs: 240_000 });
    assert.equal(r.code, 1, `it ended (${((Date.now() - t0) / 1000).toFixed(0)} s):\n${r.stderr}`);
    assert.match(r.stderr, /^dynoform: up stopped: `config`: the config vars take \d+ KiB as Docker receives them/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
    assert.deepEqual(stackLockFiles(project.env.PULUMI_BACKEND_URL, stack), []);
});
