import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { ensurePulumiCli } from "../../toolchain/pulumi-cli";
import { PACKAGE_ROOT } from "../../toolchain/paths";
import { silentReporter } from "../../toolchain/report";
import { recordedBaseImages } from "../../toolchain/base-images";
import { containersWith } from "../support/harness";
import { describeLive } from "../support/engines";

// The language host on real engines (pure parts: language-host.test.ts):
// the real CLI binary running a throwaway `runtime: nodejs` project through the host.

interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<CliResult> {
    return new Promise((resolve) => {
        execFile(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : -1) : 0;
            resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        });
    });
}

/** PIDs of Dynoform language-host servers whose working directory is inside `dir` (Linux /proc). */
function hostProcessesIn(dir: string): number[] {
    if (!fs.existsSync("/proc/self/cwd")) return [];
    const found: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
            const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
            if (cmdline.includes("language-host/server.js") && (cwd === dir || cwd.startsWith(dir + path.sep))) {
                found.push(Number(entry));
            }
        } catch {
            // gone, or not ours to read
        }
    }
    return found;
}

describeLive("plain `pulumi` CLI with Dynoform's language host: up, preview, failing program, destroy", () => {
    const id = crypto.randomBytes(3).toString("hex");
    const stack = `lh-${id}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-lh-"));

    after(async () => {
        const docker = connectDocker();
        for (const c of await containersWith({ [LABEL.stack]: stack }).catch(() => [])) {
            await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("a dyno is created, previewed with no changes, and destroyed", async (t) => {
        const cli = await ensurePulumiCli(silentReporter); // cached build: also installs the launcher
        const launcher = path.join(cli.binDir, "pulumi-language-nodejs");
        assert.ok(fs.existsSync(launcher), `launcher installed at ${launcher}`);

        // Project: Pulumi.yaml names a .ts main in a subfolder; its compiled twin is under dist/.
        // The .ts is not valid JavaScript, so the run proves the twin was chosen.
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: lhtest\nruntime: nodejs\nmain: src/index.ts\n");
        fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "lhtest", private: true }));
        fs.symlinkSync(path.join(PACKAGE_ROOT, "node_modules"), path.join(dir, "node_modules"));
        fs.mkdirSync(path.join(dir, "src"));
        fs.writeFileSync(path.join(dir, "src", "index.ts"), "const typed: string = 'compile me first';\nexport = typed;\n");
        fs.mkdirSync(path.join(dir, "dist", "src"), { recursive: true });
        const dyno = path.join(PACKAGE_ROOT, "dist", "infra", "docker", "dyno.js");
        fs.writeFileSync(
            path.join(dir, "dist", "src", "index.js"),
            `const pulumi = require("@pulumi/pulumi");
const { Dyno } = require(${JSON.stringify(dyno)});
const config = new pulumi.Config();
if (config.getBoolean("fail")) throw new Error("failing on purpose: lhtest:fail is set");
const d = new Dyno("sleeper-1", {
    app: "lhtest",
    stack: pulumi.getStack(),
    processType: "sleeper",
    index: 1,
    image: ${JSON.stringify(recordedBaseImages().node)},
    command: "sleep 100000",
    memoryMb: 64,
    cpuShares: 256,
    stopGraceSeconds: 1,
});
module.exports = {
    containerName: d.containerName,
    state: d.state,
    greeting: config.require("greeting"),
    token: config.requireSecret("token"),
    cwd: process.cwd(),
    root: pulumi.runtime.getRootDirectory(),
};
`,
        );
        fs.mkdirSync(path.join(dir, "state"));
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            PATH: [cli.binDir, process.env.PATH ?? ""].join(path.delimiter),
            PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: `lh-test-${id}`,
            PULUMI_HOME: path.join(dir, "pulumi-home"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        };
        delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
        const pulumi = async (...args: string[]) => {
            const started = Date.now();
            const r = await run(path.join(cli.binDir, "pulumi"), args, dir, env);
            t.diagnostic(`pulumi ${args.join(" ")}: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
            return r;
        };
        const ok = (r: CliResult, what: string) =>
            assert.equal(r.code, 0, `${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);

        ok(await pulumi("stack", "init", stack, "--non-interactive"), "stack init");
        ok(await pulumi("config", "set", "greeting", "hello", "-s", stack), "config set");
        ok(await pulumi("config", "set", "--secret", "token", "s3cr3t", "-s", stack), "config set --secret");

        const up = await pulumi("up", "--yes", "--non-interactive", "--skip-preview", "-s", stack);
        ok(up, "pulumi up");
        assert.match(up.stdout, /\+ 2 created|2 created/, up.stdout);

        const out = await pulumi("stack", "output", "--json", "--show-secrets", "-s", stack);
        ok(out, "stack output");
        const outputs = JSON.parse(out.stdout);
        assert.equal(outputs.greeting, "hello", "plain config reached the program");
        assert.equal(outputs.token, "s3cr3t", "secret config reached the program");
        assert.equal(outputs.state, "running");
        assert.equal(fs.realpathSync(outputs.cwd), fs.realpathSync(path.join(dir, "src")), "program runs in its own folder");
        assert.equal(fs.realpathSync(outputs.root), fs.realpathSync(dir), "root directory is where Pulumi.yaml is");
        const masked = await pulumi("stack", "output", "--json", "-s", stack);
        assert.equal(JSON.parse(masked.stdout).token, "[secret]", "the secret key list made the output secret");
        const containers = await containersWith({ [LABEL.stack]: stack });
        assert.equal(containers.length, 1);
        assert.equal(containers[0].State, "running");
        assert.equal(containers[0].Names[0], `/${outputs.containerName}`);

        const preview = await pulumi("preview", "--non-interactive", "--expect-no-changes", "-s", stack);
        ok(preview, "pulumi preview --expect-no-changes");
        assert.match(preview.stdout, /2 unchanged/, preview.stdout);

        // A program that throws: the SDK reports the error itself, the host answers `bail`, the CLI fails.
        ok(await pulumi("config", "set", "fail", "true", "-s", stack), "config set fail");
        const failStarted = Date.now();
        const failed = await pulumi("preview", "--non-interactive", "-s", stack);
        assert.notEqual(failed.code, 0, "a failing program fails the preview");
        // Without inspect-guard.js, Node 20.20's coloured error formatting loops for ~2 minutes here.
        assert.ok(Date.now() - failStarted < 60_000, `the error was reported promptly (${Date.now() - failStarted} ms)`);
        assert.match(failed.stdout + failed.stderr, /failing on purpose/);
        assert.doesNotMatch(failed.stdout + failed.stderr, /non-zero exit code/, "bail: no second, generic error");
        ok(await pulumi("config", "rm", "fail", "-s", stack), "config rm fail");

        const destroy = await pulumi("destroy", "--yes", "--non-interactive", "--skip-preview", "-s", stack);
        ok(destroy, "pulumi destroy");
        assert.deepEqual(await containersWith({ [LABEL.stack]: stack }), [], "the dyno's container is gone");

        // Each CLI run started its own host; none outlives the engine.
        await new Promise((r) => setTimeout(r, 1000));
        assert.deepEqual(hostProcessesIn(dir), [], "no language host left running");
    });
});
