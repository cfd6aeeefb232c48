import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { after, test } from "node:test";

// The dynamic-provider host launcher that sits beside the Pulumi CLI: it finds the SDK's host
// script as require.resolve would, with one Node start instead of two.

const ROOT = path.resolve(__dirname, "..", "..", "..");
const OURS = path.join(ROOT, "toolchain", "dynamic-provider", "pulumi-resource-pulumi-nodejs");
const SDKS = path.join(ROOT, "node_modules", "@pulumi", "pulumi", "pulumi-resource-pulumi-nodejs");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-provider-launcher-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A fake SDK under `dir`/node_modules whose host script prints where it is and its arguments. */
function fakeSdk(dir: string, tag: string): void {
    const host = path.join(dir, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider");
    fs.mkdirSync(host, { recursive: true });
    fs.writeFileSync(path.join(host, "index.js"), `console.log(${JSON.stringify(tag)} + " " + JSON.stringify(process.argv.slice(2)));\n`);
}

/** `node` on PATH that counts its starts in `count` before running the real one. */
function countingNode(): { bin: string; starts: () => number } {
    const bin = path.join(tmp, "bin");
    const count = path.join(tmp, "node-starts");
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, "node"), `#!/bin/sh\necho x >> '${count}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    return { bin, starts: () => (fs.existsSync(count) ? fs.readFileSync(count, "utf8").split("\n").filter(Boolean).length : 0) };
}

function launch(launcher: string, cwd: string, env: Record<string, string> = {}) {
    const node = countingNode();
    fs.rmSync(path.join(tmp, "node-starts"), { force: true });
    const r = spawnSync("sh", [launcher, "127.0.0.1:4321", "two words"], {
        cwd,
        encoding: "utf8",
        env: { PATH: `${node.bin}:/usr/bin:/bin`, ...env },
    });
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout.trim(), nodeStarts: node.starts() };
}

test("dynamic-provider launcher: finds the host in a parent folder's node_modules and starts Node once (the SDK's script twice)", () => {
    const project = path.join(tmp, "project");
    fakeSdk(project, "project's SDK");
    const deep = path.join(project, "app", "src");
    fs.mkdirSync(deep, { recursive: true });
    const ours = launch(OURS, deep);
    assert.equal(ours.out, `project's SDK ["127.0.0.1:4321","two words"]`);
    assert.equal(ours.nodeStarts, 1);
    const sdks = launch(SDKS, deep);
    assert.equal(sdks.out.startsWith("project's SDK"), true, sdks.out);
    assert.equal(sdks.nodeStarts, 2);
});

test("dynamic-provider launcher: with no node_modules up to /, asks Node (NODE_PATH is honoured)", () => {
    const elsewhere = path.join(tmp, "global");
    fakeSdk(elsewhere, "global SDK");
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-no-modules-"));
    after(() => fs.rmSync(bare, { recursive: true, force: true }));
    const r = launch(OURS, bare, { NODE_PATH: path.join(elsewhere, "node_modules") });
    assert.equal(r.out, `global SDK ["127.0.0.1:4321","two words"]`);
    assert.equal(r.nodeStarts, 2);
});
