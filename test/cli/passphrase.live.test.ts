import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { before } from "node:test";
import { passphraseOpens } from "../../toolchain/passphrase";
import { paths } from "../../toolchain/paths";
import { CliProject, cliProject, TINY_APP, tinyStack } from "../support/cli";
import { afterLive, beforeLive, testLive } from "../support/engines";

// Without PULUMI_CONFIG_PASSPHRASE(_FILE), stack secrets are encrypted with a passphrase generated
// for the machine on first use (DYNOFORM_HOME/passphrase, 0600, said once), never with the public
// constant the CLI used before; a stack made under that constant still opens (its salt is checked
// as Pulumi checks it). State, stack files with secrets and logs are 0600, their folders 0700.
// No deploy is needed: `config:set --secret --no-up` makes the stack and its salt.

const LEGACY = "dynoform-local-dev";
let project: CliProject;
let home: string;

beforeLive(async () => {
    project = await cliProject("pass", { files: TINY_APP });
    home = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-pass-home-"));
    // The toolchain is the machine's (building Pulumi again would take many minutes); the rest is new.
    fs.symlinkSync(paths.toolchain(), path.join(home, "toolchain"));
    Object.assign(project.env, { DYNOFORM_HOME: home, PULUMI_CONFIG_PASSPHRASE: "", PULUMI_CONFIG_PASSPHRASE_FILE: "" });
});

afterLive(async () => {
    await project?.cleanup();
    fs.rmSync(home, { recursive: true, force: true });
});

const mode = (f: string) => (fs.statSync(f).mode & 0o777).toString(8);

/** Every file and folder under `dir`, symlinks not followed. */
function walk(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? [p, ...walk(p)] : e.isFile() ? [p] : [];
    });
}

testLive("a machine passphrase is generated once (0600), encrypts new stacks, and the public constant does not open them", async () => {
    const stack = project.stackName("new");
    project.writeStack(stack, await tinyStack());
    const set = await project.cli(["config:set", "API_TOKEN=tok-123", "--secret", "--no-up", "--stack", stack]);
    assert.equal(set.code, 0, set.stderr);
    const file = path.join(home, "passphrase");
    assert.match(set.stderr, new RegExp(`generated this machine's passphrase for stack secrets in ${file.replace(/[.]/g, "\\.")} \\(mode 0600\\)`));
    assert.equal(mode(file), "600");
    assert.equal(mode(home), "700");
    const phrase = fs.readFileSync(file, "utf8").trim();
    assert.ok(phrase.length >= 40, "32 random bytes");
    assert.ok(!set.stderr.includes(phrase) && !set.stdout.includes(phrase), "the passphrase itself is never printed");

    const stackText = project.readStack(stack);
    const salt = /^encryptionsalt: (\S+)/m.exec(stackText)?.[1];
    assert.ok(salt, stackText);
    assert.equal(passphraseOpens(phrase, salt), true, "the stack's salt verifies with the machine passphrase");
    assert.equal(passphraseOpens(LEGACY, salt), false, "and not with the public constant");
    assert.equal(mode(path.join(project.dir, "stacks", `Pulumi.${stack}.yaml`)), "600", "a stack file with secrets is 0600");

    const get = await project.cli(["config:get", "API_TOKEN", "--stack", stack]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, "tok-123\n");
    assert.doesNotMatch(get.stderr, /generated/, "said once, on first use");

    // The state the file backend holds: files 0600, folders 0700.
    const state = path.join(project.dir, "state", ".pulumi");
    const entries = walk(state);
    assert.ok(entries.some((f) => f.includes(`${stack}.json`)), entries.join("\n"));
    for (const f of entries) {
        assert.equal(mode(f), fs.statSync(f).isDirectory() ? "700" : "600", f);
    }
});

testLive("a stack whose secrets were encrypted with the old constant still opens, and is re-encrypted with the machine passphrase", async () => {
    const stack = project.stackName("legacy");
    project.writeStack(stack, await tinyStack());
    // Made as the CLI made it before (the constant was the default; the env override reaches it now).
    const legacy = await runWith({ PULUMI_CONFIG_PASSPHRASE: LEGACY }, ["config:set", "OLD_TOKEN=tok-old", "--secret", "--no-up", "--stack", stack]);
    assert.equal(legacy.code, 0, legacy.stderr);
    const oldSalt = /^encryptionsalt: (\S+)/m.exec(project.readStack(stack))?.[1];
    assert.ok(oldSalt && passphraseOpens(LEGACY, oldSalt));

    const get = await project.cli(["config:get", "OLD_TOKEN", "--stack", stack]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, "tok-old\n");
    assert.match(get.stderr, new RegExp(`stack ${stack}'s secrets were encrypted with the old public default passphrase \\(${LEGACY}\\): re-encrypted \\(stack file and state\\) with this machine's passphrase`));
    const newSalt = /^encryptionsalt: (\S+)/m.exec(project.readStack(stack))?.[1];
    assert.ok(newSalt && newSalt !== oldSalt);
    const phrase = fs.readFileSync(path.join(home, "passphrase"), "utf8").trim();
    assert.equal(passphraseOpens(phrase, newSalt), true, "the machine passphrase opens it now");
    assert.equal(passphraseOpens(LEGACY, newSalt), false, "the public constant no longer does");

    // The constant no longer decrypts it; the machine passphrase does, with no more warning.
    const withOld = await runWith({ PULUMI_CONFIG_PASSPHRASE: LEGACY }, ["config:get", "OLD_TOKEN", "--stack", stack]);
    assert.notEqual(withOld.code, 0, withOld.stdout);
    const again = await project.cli(["config:get", "OLD_TOKEN", "--stack", stack]);
    assert.equal(again.stdout, "tok-old\n", again.stderr);
    assert.doesNotMatch(again.stderr, /passphrase/);
    const set = await project.cli(["config:set", "OLD_TOKEN=tok-new", "--secret", "--no-up", "--stack", stack]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await project.cli(["config:get", "OLD_TOKEN", "--stack", stack])).stdout, "tok-new\n");
});

/** Runs the CLI with extra environment for this one run. */
async function runWith(env: Record<string, string>, args: string[]) {
    const saved = { ...project.env };
    Object.assign(project.env, env);
    try {
        return await project.cli(args);
    } finally {
        for (const k of Object.keys(project.env)) delete (project.env as Record<string, string>)[k];
        Object.assign(project.env, saved);
    }
}
