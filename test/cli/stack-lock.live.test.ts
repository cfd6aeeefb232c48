import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "fs";
import * as path from "path";
import { test } from "node:test";
import YAML from "yaml";
import { lockFile, processStart } from "../../cli/stack-lock";
import { deployOnce, envOf, webDyno } from "../support/cli";
import { testLive } from "../support/engines";

// Commands that change one stack run one after the other: the second waits (one line says for
// whom), so the stack file and the running dynos never disagree; a dead holder's lock is taken
// over; a holder that outlives --lock-timeout makes the waiter fail in one line, changing nothing;
// Pulumi's own lock error (advising `pulumi cancel`) is never reached.

const shared = deployOnce("lock");

const configOf = (text: string) => (YAML.parse(text)?.config?.["dynoform:config"] ?? {}) as Record<string, unknown>;

testLive("two config:set at once both deploy: the second waits for the first, the stack file and the dynos agree", async () => {
    const { project, stack } = await shared.deployed();
    const [a, b] = await Promise.all([
        project.cli(["config:set", "KA=1", "--stack", stack]),
        project.cli(["config:set", "KB=2", "--stack", stack]),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const waited = [a, b].filter((r) => /stack \S+ is busy: waiting for pid \d+ \(`dynoform config:set --stack \S+`\) since \d\d:\d\d:\d\d UTC/.test(r.stderr));
    assert.equal(waited.length, 1, `exactly one waited:\n${a.stderr}\n---\n${b.stderr}`);
    for (const r of [a, b]) assert.doesNotMatch(r.stderr + r.stdout, /pulumi cancel|not deployed|restored/);
    const config = configOf(project.readStack(stack));
    assert.equal(String(config.KA), "1");
    assert.equal(String(config.KB), "2");
    const env = envOf((await webDyno(stack))!);
    assert.equal(env.KA, "1");
    assert.equal(env.KB, "2");
    const preview = await project.cli(["preview", "--stack", stack]);
    assert.equal(preview.code, 0, preview.stderr);
    assert.doesNotMatch(preview.stderr, /Config:/, "nothing left to deploy");
});

testLive("two `up`s at once: both succeed, the second after the first; no Pulumi lock error", async () => {
    const { project, stack } = await shared.deployed();
    const [a, b] = await Promise.all([project.cli(["up", "--yes", "--stack", stack]), project.cli(["up", "--yes", "--stack", stack])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    for (const r of [a, b]) assert.doesNotMatch(r.stderr, /pulumi cancel|currently locked/);
    assert.equal([a, b].filter((r) => /is busy: waiting for pid \d+ \(`dynoform up --stack/.test(r.stderr)).length, 1);
});

testLive("a lock left by a dead process is taken over", async () => {
    const { project, stack } = await shared.deployed();
    const dead = spawn(process.execPath, ["-e", ""]);
    const pid = dead.pid!;
    await new Promise((r) => dead.on("close", r));
    const file = lockFile(project.dir, stack);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ pid, start: "1", command: "up --stack x", since: "2026-01-01T10:00:00.000Z" }));
    const r = await project.cli(["config:set", "KC=3", "--no-up", "--stack", stack]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`taking over the lock on stack ${stack} from pid ${pid} .*: that process is gone`));
    assert.equal(String(configOf(project.readStack(stack)).KC), "3");
    assert.equal(fs.existsSync(file), false, "released when the command ended");
});

/** Runs `fn` while this test process holds the stack's lock, standing in for an `up` of another stack file. */
async function whileHeld(dir: string, stack: string, fn: () => Promise<void>): Promise<void> {
    const file = lockFile(dir, stack);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ pid: process.pid, start: processStart(process.pid), command: "up --stack other", since: new Date().toISOString() }));
    try {
        await fn();
    } finally {
        fs.rmSync(file, { force: true });
    }
}

testLive("a live holder beyond --lock-timeout: one line naming it, exit 1, the stack file unchanged", async () => {
    const { project, stack } = await shared.deployed();
    const before = project.readStack(stack);
    await whileHeld(project.dir, stack, async () => {
        const t0 = Date.now();
        const r = await project.cli(["config:set", "KD=4", "--stack", stack, "--lock-timeout", "2"]);
        assert.equal(r.code, 1, r.stderr);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 2, r.stderr);
        assert.match(lines[0], new RegExp(`stack ${stack} is busy: waiting for pid ${process.pid} \\(\`dynoform up --stack other\`\\)`));
        assert.match(lines[1], new RegExp(`^dynoform: stack ${stack} is busy: pid ${process.pid} .* still holds it after 2 s; nothing was changed`));
        assert.ok(Date.now() - t0 < 30_000);
        assert.equal(project.readStack(stack), before);
    });
});

testLive("a malformed argument is refused at once while another command holds the stack: one usage line, exit 2, no wait", async () => {
    const { project, stack } = await shared.deployed();
    const before = project.readStack(stack);
    await whileHeld(project.dir, stack, async () => {
        const rows: Array<[string[], RegExp]> = [
            [["ps:scale", "web=2", "web=3"], /^dynoform: ps:scale: `web` is given 2 times/],
            [["ps:scale", "web=lots"], /^dynoform: `formation\.web\.quantity`/],
            [["ps:resize", "web=huge-9x"], /^dynoform: .*formation\.web\.size/],
            [["ps:restart", "web.0"], /^dynoform: ps:restart: `web\.0` is not a process type or dyno name/],
            [["ps:stop", "we b"], /^dynoform: ps:stop: `we b` is not a process type/],
            [["config:set", "1BAD=x"], /^dynoform: .*config/],
            [["config:unset", "bad-name"], /^dynoform: .*config\.bad-name/],
            [["addons:create", "redis", "--as", ""], /^dynoform: --as takes one non-empty value/],
        ];
        for (const [args, said] of rows) {
            // Without the early check each would wait the whole --lock-timeout, then fail with exit 1.
            const r = await project.cli([...args, "--stack", stack, "--lock-timeout", "60"]);
            assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
            assert.deepEqual(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: one line\n${r.stderr}`);
            assert.match(r.stderr, said, args.join(" "));
        }
        assert.equal(project.readStack(stack), before);
    });
});
