import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { after, before, describe, test } from "node:test";
import { CLI } from "../support/cli";

// Loading the Pulumi SDK costs a CPU-second. `--help`, and every mistake the CLI refuses before
// it opens a stack, must not pay it: each run below goes through the real CLI with a preload
// hook that lists, as the process exits, every module it loaded.

/** Written into the temp project; `NODE_OPTIONS=--require` loads it before the CLI. */
const HOOK = `process.on("exit", () => require("fs").writeFileSync(process.env.STARTUP_TEST_MODULES, JSON.stringify(Object.keys(require.cache))));\n`;

/** The stack files of the project: a good one, one that names a folder with a bad Procfile, one that does not parse. */
const STACKS: Record<string, string> = {
    dev: "config:\n  dynoform:app: tiny\n  dynoform:source: app\n  dynoform:routerPort: \"5999\"\n",
    badproc: "config:\n  dynoform:app: tiny\n  dynoform:source: bad\n  dynoform:routerPort: \"5999\"\n",
    broken: "config:\n  dynoform:app: tiny\n    dynoform:source: app\n",
};

interface Case {
    args: string[];
    code: number;
    /** What the run prints (stdout for help, the one stderr line for usage errors). */
    expect: RegExp;
}

const CASES: Case[] = [
    { args: ["--help"], code: 0, expect: /dynoform ps:scale <changes\.\.>/ },
    { args: ["ps", "--help"], code: 0, expect: /^dynoform ps\n/ },
    { args: ["up", "--help"], code: 0, expect: /^dynoform up\n/ },
    { args: ["ps:scale", "web=abc", "--stack", "dev"], code: 2, expect: /`formation\.web\.quantity`: quantity "abc" is not valid/ },
    { args: ["ps:scale", "worker=1", "--stack", "dev"], code: 2, expect: /`formation\.worker`: process type "worker" is not in the Procfile/ },
    { args: ["ps", "--stack", "bad name"], code: 2, expect: /^dynoform: --stack "bad name" is not a valid stack name/ },
    { args: ["up", "--yes", "--stack", "nope"], code: 2, expect: /^dynoform: unknown stack "nope"/ },
    { args: ["up", "--yes", "--stack", "broken"], code: 2, expect: /Pulumi\.broken\.yaml:2: not valid YAML/ },
    { args: ["preview", "--stack", "badproc"], code: 2, expect: /bad\/Procfile:1: `Procfile\.web`: process type "web" has an empty command/ },
    { args: ["config:set", "1BAD=x", "--stack", "dev"], code: 2, expect: /`config\.1BAD`: config var name "1BAD" starts with the digit "1"/ },
    { args: ["addons:create", "mysql", "--stack", "dev"], code: 2, expect: /`addons\.mysql`: unknown add-on plan "mysql"/ },
    { args: ["up", "--frobnicate", "--stack", "dev"], code: 2, expect: /^dynoform: Unknown arguments?: frobnicate$/ },
    { args: ["scale", "web=2", "--stack", "dev"], code: 2, expect: /^dynoform: unknown command `scale`: Did you mean ps:scale\?$/ },
];

/** Modules of the Pulumi SDK (its own files; its package.json, read for the version, is not code). */
function sdkModules(files: string[]): string[] {
    const sdk = `${path.sep}node_modules${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
    return files.filter((f) => f.includes(sdk) && !f.endsWith(`${sdk}package.json`));
}

describe("the CLI starts without the Pulumi SDK when it opens no stack", () => {
    let dir = "";
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-startup-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: startup\nruntime: nodejs\nstackConfigDir: stacks\n");
        fs.writeFileSync(path.join(dir, "hook.js"), HOOK);
        for (const [folder, procfile] of [["app", "web: node server.js\n"], ["bad", "web:\n"]]) {
            fs.mkdirSync(path.join(dir, folder));
            fs.writeFileSync(path.join(dir, folder, "Procfile"), procfile);
        }
        fs.mkdirSync(path.join(dir, "stacks"));
        for (const [stack, text] of Object.entries(STACKS)) fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), text);
        fs.mkdirSync(path.join(dir, "state"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const [i, c] of CASES.entries()) {
        test(`dynoform ${c.args.map((a) => (a.includes(" ") ? JSON.stringify(a) : a)).join(" ")}`, () => {
            const modules = path.join(dir, `modules-${i}.json`);
            const env: NodeJS.ProcessEnv = {
                ...process.env,
                NODE_OPTIONS: `--require ${path.join(dir, "hook.js")}`,
                STARTUP_TEST_MODULES: modules,
                PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
                NO_COLOR: "1",
            };
            delete env.DYNOFORM_STACK;
            const run = spawnSync(process.execPath, [CLI, "--cwd", dir, ...c.args], { env, encoding: "utf8", timeout: 60_000 });
            assert.equal(run.status, c.code, `exit code; stderr: ${run.stderr}`);
            assert.match(c.code === 0 ? run.stdout : run.stderr.trim(), c.expect);
            if (c.code !== 0) assert.equal(run.stderr.trim().split("\n").length, 1, `one line on stderr: ${run.stderr}`);

            const loaded: string[] = JSON.parse(fs.readFileSync(modules, "utf8"));
            // The hook sees the CLI's own modules: an empty list would prove nothing.
            assert.ok(loaded.some((f) => f.endsWith(path.join("dist", "cli", "main.js"))), `the hook listed: ${loaded.slice(0, 5).join(", ")}`);
            const sdk = sdkModules(loaded);
            assert.deepEqual(sdk.slice(0, 5), [], `${sdk.length} modules of @pulumi/pulumi loaded`);
        });
    }
});
