#!/usr/bin/env node
"use strict";
// The `dynoform` command (`npm link`, `npm install -g`, `npx dynoform`). In a checkout (a
// tsconfig.json and TypeScript beside the sources) the compiled CLI is built first when it is
// missing or older than a source file, so `dynoform` never runs an old build.
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const main = path.join(root, "dist", "cli", "main.js");

/** The newest .ts source's mtime under the checkout (not node_modules, dist or dot-folders). */
function newestSource(dir) {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
        else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
    return newest;
}

function buildIfStale() {
    if (!fs.existsSync(path.join(root, "tsconfig.json"))) return; // an installed package: dist is what ships
    const built = fs.existsSync(main) ? fs.statSync(main).mtimeMs : 0;
    if (built && newestSource(root) <= built) return;
    let tsc;
    try {
        tsc = require.resolve("typescript/bin/tsc", { paths: [root] });
    } catch {
        if (built) return; // no compiler (production install): run what is there
        process.stderr.write(`dynoform: ${main} is missing and TypeScript is not installed: run \`npm install && npm run build\` in ${root}\n`);
        process.exit(1);
    }
    process.stderr.write(`dynoform: ${built ? "sources changed since the last build" : "first run"}: building with \`tsc -p ${root}\`...\n`);
    const r = spawnSync(process.execPath, [tsc, "-p", root], { stdio: ["ignore", "inherit", "inherit"] });
    if (r.status !== 0) {
        process.stderr.write(`dynoform: the build failed; fix it and run \`npm run build\` in ${root}\n`);
        process.exit(1);
    }
}

buildIfStale();
const { main: run } = require(main);
run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
});
