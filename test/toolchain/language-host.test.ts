import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import util from "node:util";
import { describe, test } from "node:test";
import { engineAddressFromArgs, INSPECT_GUARD, programToRun, RunSpec, runArguments, runEnvironment, runOutcome } from "../../toolchain/language-host/server";
import { wouldLoop } from "../../toolchain/language-host/inspect-guard";
import { rebuildTwin } from "../../toolchain/language-host/twin";
import { installLanguageHost } from "../../toolchain/pulumi-cli";
import { PACKAGE_ROOT } from "../../toolchain/paths";

// ---------------------------------------------------------------------------------------------
// Pure parts of the host: no engine.

describe("language host: command line and Run mapping", () => {
    test("the engine address is the last positional argument; flags before it are skipped", () => {
        assert.equal(engineAddressFromArgs(["127.0.0.1:4000"]), "127.0.0.1:4000");
        assert.equal(
            engineAddressFromArgs(["--logtostderr", "-v=9", "--tracing", "http://tr:9411", "127.0.0.1:4000"]),
            "127.0.0.1:4000",
        );
        assert.equal(engineAddressFromArgs(["--root=/x", "--unknown", "127.0.0.1:4001"]), "127.0.0.1:4001");
        assert.equal(engineAddressFromArgs([]), undefined);
    });

    const spec: RunSpec = {
        monitor: "127.0.0.1:5000",
        engine: "127.0.0.1:6000",
        organization: "organization",
        project: "proj",
        stack: "dev",
        rootDirectory: "/p",
        programDirectory: "/p/infra",
        program: "/p/dist/infra/main.js",
        dryRun: true,
        parallel: 16,
        args: ["a1"],
        config: { "proj:greeting": "hi", "proj:token": "s3cr3t" },
        secretKeys: ["proj:token"],
    };

    test("cmd/run gets its flags before the program (it stops parsing at the first positional)", () => {
        assert.deepEqual(runArguments("/sdk/cmd/run", spec, INSPECT_GUARD), [
            "--require", INSPECT_GUARD,
            "/sdk/cmd/run",
            "--monitor", "127.0.0.1:5000",
            "--engine", "127.0.0.1:6000",
            "--organization", "organization",
            "--project", "proj",
            "--root-directory", "/p",
            "--stack", "dev",
            "--pwd", "/p/infra",
            "--dry-run",
            "--parallel", "16",
            "/p/dist/infra/main.js",
            "a1",
        ]);
        const up = runArguments("/sdk/cmd/run", { ...spec, dryRun: false, engine: undefined, organization: "" });
        assert.equal(up[0], "/sdk/cmd/run", "no preload when none is given");
        assert.ok(!up.includes("--dry-run") && !up.includes("--engine") && !up.includes("--organization"));
    });

    test("config and secret keys reach the program as JSON in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS", () => {
        const env = runEnvironment(spec, { KEEP: "1" });
        assert.equal(env.KEEP, "1");
        assert.deepEqual(JSON.parse(env.PULUMI_CONFIG!), spec.config);
        assert.deepEqual(JSON.parse(env.PULUMI_CONFIG_SECRET_KEYS!), ["proj:token"]);
    });

    test("exit 0 is success, 32 is bail (already reported), others are errors", () => {
        assert.deepEqual(runOutcome(0, null), { error: "", bail: false });
        assert.deepEqual(runOutcome(32, null), { error: "", bail: true });
        assert.deepEqual(runOutcome(1, null), { error: "Program exited with non-zero exit code: 1", bail: false });
        assert.match(runOutcome(null, "SIGKILL").error, /SIGKILL/);
    });

    test("the inspect guard keeps util.inspect from looping on source-mapped SDK frames", () => {
        const looping = new Error("boom");
        looping.stack = "Error: boom\n    at Stack.init (/p/node_modules/@pulumi/resource.ts:1598:22)";
        const normal = new Error("fine");
        normal.stack = "Error: fine\n    at f (/p/node_modules/@pulumi/pulumi/resource.js:10:1)";
        assert.equal(wouldLoop(looping), true);
        assert.equal(wouldLoop(normal), false);
        assert.equal(wouldLoop("no stack"), false);
        // Loaded: util.inspect is wrapped, colours stay for everything else, and the looping case returns.
        assert.equal((util.inspect as unknown as { __dynoformGuard?: boolean }).__dynoformGuard, true);
        assert.match(util.inspect(looping, { colors: true }), /resource\.ts:1598:22/);
        assert.match(util.inspect(normal, { colors: true }), /\u001b\[/, "other errors are still coloured");
        assert.equal(typeof util.inspect.custom, "symbol");
        assert.ok(util.inspect.defaultOptions.depth !== undefined);
    });

    test("a .ts entry point runs its compiled twin under dist/ when there is one", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-lh-twin-"));
        try {
            fs.mkdirSync(path.join(root, "infra"));
            fs.writeFileSync(path.join(root, "infra", "main.ts"), "export = 1;\n");
            const loc = { rootDirectory: root, programDirectory: path.join(root, "infra"), entryPoint: "main.ts" };
            assert.deepEqual(programToRun(loc), { program: "main.ts" }, "no twin: as given");
            fs.mkdirSync(path.join(root, "dist", "infra"), { recursive: true });
            const twin = path.join(root, "dist", "infra", "main.js");
            fs.writeFileSync(twin, "module.exports = 1;\n");
            const future = new Date(Date.now() + 60_000);
            fs.utimesSync(twin, future, future);
            assert.deepEqual(programToRun(loc), { program: twin, twinOf: path.join(root, "infra", "main.ts"), stale: false });
            const past = new Date(Date.now() - 60_000);
            fs.utimesSync(twin, past, past);
            assert.deepEqual(programToRun(loc), { program: twin, twinOf: path.join(root, "infra", "main.ts"), stale: true, newer: path.join(root, "infra", "main.ts") }, "a twin older than its source is flagged");
            // Any newer source of the project makes the twin stale, not only the entry point.
            fs.utimesSync(twin, future, future);
            fs.mkdirSync(path.join(root, "components"));
            fs.writeFileSync(path.join(root, "components", "app.ts"), "export const x = 2;\n");
            const later = new Date(Date.now() + 120_000);
            fs.utimesSync(path.join(root, "components", "app.ts"), later, later);
            assert.equal(programToRun(loc).newer, path.join(root, "components", "app.ts"));
            assert.deepEqual(programToRun({ ...loc, entryPoint: "index.js" }), { program: "index.js" });
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    test("a stale twin is rebuilt with the project's tsc, or refused naming the command", async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-lh-rebuild-"));
        try {
            fs.mkdirSync(path.join(root, "src"));
            fs.mkdirSync(path.join(root, "dist", "src"), { recursive: true });
            const twin = path.join(root, "dist", "src", "index.js");
            fs.writeFileSync(twin, 'module.exports = "old program";\n');
            const past = new Date(Date.now() - 60_000);
            fs.utimesSync(twin, past, past);
            fs.writeFileSync(path.join(root, "src", "index.ts"), 'const result: string = "new program";\nexport = result;\n');
            const loc = { rootDirectory: root, programDirectory: path.join(root, "src"), entryPoint: "index.ts" };
            const chosen = programToRun(loc);
            assert.equal(chosen.stale, true);
            const lines: string[] = [];

            // No tsconfig.json: refused, with the command that would build it.
            const refused = await rebuildTwin(root, twin, chosen.newer!, (l) => lines.push(l));
            assert.match(refused ?? "", /dist\/src\/index\.js is older than src\/index\.ts: not running the old program; build it with `npx tsc -p \.`/);
            assert.equal(fs.readFileSync(twin, "utf8"), 'module.exports = "old program";\n');

            // `types: []`: the fixture uses no ambient types, and loading every @types package this
            // project has (node, dockerode, ...) made each of the two tsc runs 8 CPU-s instead of 3.
            fs.writeFileSync(path.join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "commonjs", outDir: "dist", rootDir: ".", strict: true, types: [] } }));
            fs.symlinkSync(path.join(PACKAGE_ROOT, "node_modules"), path.join(root, "node_modules"));
            assert.equal(await rebuildTwin(root, twin, chosen.newer!, (l) => lines.push(l)), undefined);
            assert.equal(require(twin), "new program", "the twin is the new program");
            assert.equal(programToRun(loc).stale, false);
            assert.match(lines.join("\n"), /building it with `npx tsc -p \.` first/);

            // A program that does not compile: refused with tsc's errors.
            fs.writeFileSync(path.join(root, "src", "index.ts"), "const result: number = 'not a number';\nexport = result;\n");
            const later = new Date(Date.now() + 60_000);
            fs.utimesSync(path.join(root, "src", "index.ts"), later, later);
            const failed = await rebuildTwin(root, twin, path.join(root, "src", "index.ts"), () => undefined);
            assert.match(failed ?? "", /`npx tsc -p \.` in .* failed \(exit 2\); fix the errors and run it again:\n.*TS2322/);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });

    test("installLanguageHost puts the launcher beside the CLI, pointing at this checkout's server; idempotent", () => {
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-lh-bin-"));
        try {
            installLanguageHost(bin);
            const launcher = path.join(bin, "pulumi-language-nodejs");
            const st = fs.statSync(launcher);
            assert.ok(st.mode & 0o100, "executable");
            const server = path.join(PACKAGE_ROOT, "dist", "toolchain", "language-host", "server.js");
            assert.ok(fs.readFileSync(launcher, "utf8").includes(`installed_server='${server}'`));
            const before = st.mtimeMs;
            installLanguageHost(bin);
            assert.equal(fs.statSync(launcher).mtimeMs, before, "second install leaves the file alone");
        } finally {
            fs.rmSync(bin, { recursive: true, force: true });
        }
    });
});
