import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeLive } from "../support/engines";
import { test } from "node:test";
import { buildRecipe, ensurePulumiCli } from "../../toolchain/pulumi-cli";
import { silentReporter } from "../../toolchain/report";

// The CLI doctor built (or found) is what every command runs; these check the build's module
// patches (toolchain/pulumi-cli-patches.ts) on the real binary.
describeLive("the Pulumi CLI built from Go modules", () => {
    test("starts without decoding the password word lists, records its recipe, and still flags a config value that looks like a secret", async () => {
        const cli = await ensurePulumiCli(silentReporter);
        if (cli.action === "found-on-path") return void process.stderr.write("!!! the pulumi on PATH is not Dynoform's build: its patches are not checked\n");
        const bin = path.join(cli.binDir, "pulumi");
        const recorded = fs.existsSync(path.join(cli.root, "recipe")) ? fs.readFileSync(path.join(cli.root, "recipe"), "utf8").trim() : "(none)";
        assert.equal(recorded, buildRecipe(), "the cached build is of this checkout's recipe (doctor rebuilds one of an older recipe)");

        // GODEBUG=inittrace=1: one line per package init, "init <pkg> @<start> ms, <clock> ms clock,
        // <bytes> bytes, <allocs> allocs". What an init allocated tells whether it decoded the word
        // lists (megabytes; the patched inits 48 bytes and 27 KB); its clock time depends on how busy
        // the machine is (5 ms for the 27 KB one once, with three test files running).
        const trace = spawnSync(bin, ["version"], { encoding: "utf8", env: { ...process.env, GODEBUG: "inittrace=1", PULUMI_SKIP_UPDATE_CHECK: "true" } });
        assert.equal(trace.status, 0, trace.stderr);
        const inits = new Map([...trace.stderr.matchAll(/^init (\S+) @\S+ ms, [\d.]+ ms clock, (\d+) bytes/gm)].map((m) => [m[1], Number(m[2])]));
        for (const pkg of ["github.com/nbutton23/zxcvbn-go/frequency", "github.com/ccojocar/zxcvbn-go/frequency", "github.com/nbutton23/zxcvbn-go/matching"]) {
            assert.ok(inits.has(pkg), `${pkg} is in the binary (inittrace lists it)`);
            assert.ok(inits.get(pkg)! < 2 ** 20, `${pkg} init allocated ${inits.get(pkg)} bytes: the word lists were decoded at start`);
        }

        // `pulumi config set` of a password-like key still scores the value (the lists load then).
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-cli-patch-"));
        try {
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: patchcheck\nruntime: nodejs\n");
            fs.mkdirSync(path.join(dir, "state"));
            const env = {
                ...process.env,
                PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
                PULUMI_HOME: path.join(dir, "home"),
                PULUMI_CONFIG_PASSPHRASE: "patch-check",
                PULUMI_SKIP_UPDATE_CHECK: "true",
            };
            const run = (...args: string[]) => spawnSync(bin, [...args, "--non-interactive"], { cwd: dir, env, encoding: "utf8" });
            assert.equal(run("stack", "init", "check").status, 0);
            const secretLike = run("config", "set", "dbPassword", "Xq9#vLp2@mZ7!rT4");
            assert.notEqual(secretLike.status, 0, "a random-looking password set as plain text is refused");
            assert.match(secretLike.stderr, /looks like a secret/);
            const plain = run("config", "set", "dbPassword", "aaaa");
            assert.equal(plain.status, 0, plain.stderr);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
