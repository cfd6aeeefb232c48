import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import { test } from "node:test";

// Every Dynoform process that imports the SDK loads infra/engine/process-start first (the CLI's
// entry; the provider host through NODE_OPTIONS): its young generation stays at its first size.

const START = path.resolve(__dirname, "..", "..", "..", "infra", "engine", "process-start.js");

/** Allocates about 200 MB of short-lived objects in a fresh node; the new space's size after, in MiB. */
function newSpaceAfterChurn(preload: string[]): number {
    const script = `
        let keep = [];
        for (let i = 0; i < 2e6; i++) { const o = { a: i, b: "x" + i }; if (i % 1000 === 0) keep.push(o); }
        const s = require("v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
        console.log(s.space_size / 2 ** 20);`;
    const r = spawnSync(process.execPath, [...preload.flatMap((p) => ["--require", p]), "-e", script], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout.trim());
}

test("with process-start the young generation stays at its first size under churn; without it, it grows", () => {
    const plain = newSpaceAfterChurn([]);
    const started = newSpaceAfterChurn([START]);
    assert.ok(plain >= 8, `without process-start the new space grows (${plain} MiB)`);
    assert.ok(started <= 2, `with process-start the new space stays at 2 MiB or less (${started} MiB)`);
});

test("the CLI's entry and the provider host's NODE_OPTIONS both load process-start", async () => {
    const fs = await import("fs");
    const root = path.resolve(__dirname, "..", "..", "..", "..");
    const main = fs.readFileSync(path.join(root, "cli", "main.ts"), "utf8");
    assert.match(main.split("\n").find((l) => l.startsWith("import")) ?? "", /^import "\.\.\/infra\/engine\/process-start";$/, "the CLI's first import");
    const workspace = fs.readFileSync(path.join(root, "infra", "engine", "workspace.ts"), "utf8");
    assert.match(workspace, /NODE_OPTIONS: .*--require \$\{JSON\.stringify\(require\.resolve\("\.\/process-start"\)\)\}/);
});
