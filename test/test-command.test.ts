import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { test } from "node:test";
import { PACKAGE_ROOT } from "../toolchain/paths";

// `npm test` runs the suite in two passes of `node --test`: most files two at a time, then the
// files that take the whole Docker engine for themselves (a daemon restart) alone. The passes
// name folders and files explicitly, so this test keeps them honest: every test file is run by
// exactly one pass, and the exclusive ones by the serial pass.

/** Each `node --test` invocation of the script: its concurrency and the paths it is given. */
function testPasses(script: string): { concurrency: number; paths: string[] }[] {
    return script
        .split("&&")
        .map((part) => part.trim().split(/\s+/))
        .filter((words) => words[0] === "node" && words.includes("--test"))
        .map((words) => {
            const flag = words.find((w) => w.startsWith("--test-concurrency="));
            return {
                concurrency: flag ? Number(flag.split("=")[1]) : 1,
                paths: words.slice(1).filter((w) => !w.startsWith("--")),
            };
        });
}

/** Whether a path argument (a folder, searched recursively; a `dir/*.test.js` glob; or a file) takes `file`. */
function covers(arg: string, file: string): boolean {
    const a = arg.replace(/\/$/, "");
    if (a.endsWith("/*.test.js")) return path.posix.dirname(file) === a.slice(0, -"/*.test.js".length) && file.endsWith(".test.js");
    return file === a || file.startsWith(`${a}/`);
}

function testFiles(dir: string): string[] {
    return fs.readdirSync(path.join(PACKAGE_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) return testFiles(rel);
        return e.name.endsWith(".test.ts") ? [rel] : [];
    });
}

test("npm test: every test file runs in exactly one pass; engine-exclusive ones in the serial pass", () => {
    const script: string = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")).scripts.test;
    const passes = testPasses(script);
    assert.equal(passes.length, 2, `expected a concurrent and a serial pass in: ${script}`);
    const files = testFiles("test").map((f) => `dist/${f.replace(/\.ts$/, ".js")}`);
    assert.ok(files.includes("dist/test/infra/docker/dyno.test.js"), `the walk of test/ found: ${files.join(", ")}`);
    for (const file of files) {
        const runs = passes.filter((p) => p.paths.some((a) => covers(a, file)));
        assert.equal(runs.length, 1, `${file} is run by ${runs.length} passes of \`npm test\``);
        if (file.includes("/serial/")) assert.equal(runs[0].concurrency, 1, `${file} needs the engine alone`);
    }
});

test("npm test: each pass writes TAP to stdout and the digest of its failures to stderr at the end", () => {
    const script: string = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")).scripts.test;
    const reporters = script
        .split("&&")
        .map((part) => part.trim().split(/\s+/))
        .filter((words) => words[0] === "node" && words.includes("--test"))
        .map((words) => words.filter((w) => w.startsWith("--test-reporter")).join(" "));
    const digest = "--test-reporter=tap --test-reporter-destination=stdout --test-reporter=./dist/test/support/failure-reporter.js --test-reporter-destination=stderr";
    assert.deepEqual(reporters, [digest, digest]);
    assert.ok(fs.existsSync(path.join(PACKAGE_ROOT, "test", "support", "failure-reporter.ts")), "the reporter's source is there");
});

test("covers: folders recursively, `*.test.js` globs one level, files exactly", () => {
    assert.ok(covers("dist/test/cli", "dist/test/cli/run.test.js"));
    assert.ok(covers("dist/test/infra", "dist/test/infra/docker/dyno.test.js"));
    assert.ok(!covers("dist/test/cli", "dist/test/clix/run.test.js"));
    assert.ok(covers("dist/test/reliability/*.test.js", "dist/test/reliability/faults.test.js"));
    assert.ok(!covers("dist/test/reliability/*.test.js", "dist/test/reliability/serial/daemon-restart.test.js"));
    assert.ok(covers("dist/test/smoke.test.js", "dist/test/smoke.test.js"));
});

test("pure and live files apart: x.live.test.ts declares its tests live; x.test.ts uses no engine helper", () => {
    const live = /\b(describeLive|testLive)\(/;
    const engineHelpers = /\b(describeLive|testLive|beforeLive|afterLive|requireEngines|enginesForHook|deployOnce|helloOnce|cliProject|testProject|appProject)\(/;
    // engines.test.ts writes a sample live file as text, to run it without engines.
    for (const file of testFiles("test").filter((f) => f !== "test/engines.test.ts")) {
        const text = fs.readFileSync(path.join(PACKAGE_ROOT, file), "utf8");
        if (file.endsWith(".live.test.ts")) assert.match(text, live, `${file} is live: its tests go through describeLive or testLive`);
        else assert.doesNotMatch(text, engineHelpers, `${file} needs the engines: name it ${file.replace(/\.test\.ts$/, ".live.test.ts")}`);
    }
});
