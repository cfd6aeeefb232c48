import { spawnSync } from "child_process";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import { Image } from "../../../infra/docker/image";
import { buildFiles, checkImage, contentHash, contextFiles, DEFAULT_IGNORES, nodeDockerfile, stageContext, stagedMode } from "../../../infra/docker/image-ops";
import { DOCKERIGNORE } from "../../../cli/commands/init";
import { folder, removeAfter, tmpFolder, write } from "../../support/tmp-folders";


// The Image provider's pure parts (and the file system); on real engines: image.live.test.ts.

describe("nodeDockerfile", () => {
    test("installs production dependencies only, before copying the app, and runs as uid 1000", () => {
        const withLock = nodeDockerfile("dynoform/node:abc", true).split("\n");
        assert.equal(withLock[0], "FROM dynoform/node:abc");
        const install = withLock.findIndex((l) => l.startsWith("RUN "));
        assert.match(withLock[install], /^RUN npm ci --omit=dev /);
        assert.ok(withLock.indexOf("COPY package*.json ./") < install, "manifests first (a cached install layer)");
        assert.ok(withLock.indexOf("COPY . .") > install, "the app after the install");
        assert.ok(withLock.indexOf("USER 1000") > withLock.indexOf("COPY . ."));
        assert.ok(withLock.includes("ENV NODE_ENV=production"));
        assert.match(nodeDockerfile("b", false), /\nRUN npm install --omit=dev /, "no lockfile: npm install");
    });

    test("a failed install fails the build step (the cache clean after it may not hide its exit code)", () => {
        const run = nodeDockerfile("b", false).split("\n").find((l) => l.startsWith("RUN "))!.slice("RUN ".length);
        // The same shell line with npm standing for a failing install, then a working one.
        const failing = spawnSync("sh", ["-c", `npm() { [ "$1" = cache ] || return 7; }; ${run}`]);
        assert.notEqual(failing.status, 0, "a failing npm install must fail the RUN step");
        const working = spawnSync("sh", ["-c", `npm() { return 0; }; ${run}`]);
        assert.equal(working.status, 0);
    });
});

describe("contextFiles", () => {
    const app = {
        "package.json": "{}",
        "index.js": "",
        "lib/a.js": "",
        "node_modules/x/index.js": "",
        ".git/HEAD": "",
        ".env": "SECRET=1",
        "README.md": "",
        "docs/guide.md": "",
    };
    test("without .dockerignore: the default ignores", () => {
        assert.deepEqual(contextFiles(tmpFolder(app)), ["README.md", "docs/guide.md", "index.js", "lib/a.js", "package.json"]);
        assert.ok(DEFAULT_IGNORES.includes("node_modules") && DEFAULT_IGNORES.includes(".env"));
    });
    test("a .dockerignore replaces the defaults for a Dockerfile build, and adds to them for a generated one", () => {
        const dir = tmpFolder({ ...app, ".dockerignore": "*.md\ndocs\n" });
        assert.deepEqual(contextFiles(dir, false), [
            ".dockerignore",
            ".env",
            ".git/HEAD",
            "index.js",
            "lib/a.js",
            "node_modules/x/index.js",
            "package.json",
        ]);
        assert.deepEqual(contextFiles(dir, true), [".dockerignore", "index.js", "lib/a.js", "package.json"]);
    });
    test("`!` exceptions re-include files inside ignored folders", () => {
        const dir = tmpFolder({ ...app, ".dockerignore": "docs\n!docs/guide.md\n" });
        assert.ok(contextFiles(dir).includes("docs/guide.md"));
    });
});

describe("buildFiles and stageContext", () => {
    test("the Dockerfile is sent even when .dockerignore lists it, as Docker's CLI does", () => {
        const dir = tmpFolder({ Dockerfile: "FROM x\n", "a.txt": "", ".dockerignore": "Dockerfile\n*.md\n", "b.md": "" });
        assert.deepEqual(buildFiles({ context: dir }), [".dockerignore", "Dockerfile", "a.txt"]);
        const other = tmpFolder({ "deploy/Dockerfile.prod": "FROM x\n", ".dockerignore": "deploy\n" });
        assert.deepEqual(buildFiles({ context: other, dockerfile: "deploy/Dockerfile.prod" }), [".dockerignore", "deploy/Dockerfile.prod"]);
    });
    test("the staged folder holds exactly the files, no .dockerignore to filter them again, links kept", () => {
        const dir = tmpFolder({ "index.js": "1", "lib/a.js": "2", ".dockerignore": DOCKERIGNORE });
        fs.symlinkSync("lib/a.js", path.join(dir, "link.js"));
        fs.chmodSync(path.join(dir, "index.js"), 0o755);
        const staged = stageContext(dir, buildFiles({ context: dir }, true));
        removeAfter(staged.dir);
        assert.deepEqual(staged.files, ["index.js", "lib/a.js", "link.js"]);
        assert.ok(!fs.existsSync(path.join(staged.dir, ".dockerignore")));
        assert.equal(fs.readlinkSync(path.join(staged.dir, "link.js")), "lib/a.js");
        assert.equal(fs.statSync(path.join(staged.dir, "index.js")).mode & 0o777, 0o755);
        assert.equal(fs.readFileSync(path.join(staged.dir, "lib/a.js"), "utf8"), "2");
    });
    test("a generated build's files are readable by all (0644, 0755 when executable); a Dockerfile build keeps the bits", () => {
        assert.equal(stagedMode(0o100600, true), 0o644);
        assert.equal(stagedMode(0o100700, true), 0o755);
        assert.equal(stagedMode(0o100640, false), 0o640);
        const dir = tmpFolder({ "secret-ish.js": "1" });
        fs.chmodSync(path.join(dir, "secret-ish.js"), 0o600);
        const staged = stageContext(dir, ["secret-ish.js"], true);
        removeAfter(staged.dir);
        assert.equal(fs.statSync(path.join(staged.dir, "secret-ish.js")).mode & 0o777, 0o644);
        const before = contentHash({ context: dir, nodeBaseImage: "b" });
        fs.chmodSync(path.join(dir, "secret-ish.js"), 0o644);
        assert.equal(contentHash({ context: dir, nodeBaseImage: "b" }), before, "the hash is of the modes sent");
    });
});

describe("contentHash", () => {
    test("changes with content, mode and recipe; not with ignored files", () => {
        const dir = tmpFolder({ Dockerfile: "FROM scratch\n", "a.txt": "1", ".dockerignore": "*.log\n" });
        const inputs = { context: dir };
        const h0 = contentHash(inputs);
        assert.match(h0, /^[0-9a-f]{64}$/);
        assert.equal(contentHash(inputs), h0, "stable");
        write(dir, "debug.log", "noise");
        assert.equal(contentHash(inputs), h0, "an ignored file is not content");
        write(dir, "a.txt", "2");
        const h1 = contentHash(inputs);
        assert.notEqual(h1, h0, "an edited file is");
        fs.chmodSync(path.join(dir, "a.txt"), 0o755);
        assert.notEqual(contentHash(inputs), h1, "so is the executable bit");
        assert.notEqual(contentHash({ ...inputs, dockerfile: "Dockerfile" }), contentHash(inputs), "and the recipe");
    });
    test("a generated build hashes its base image", () => {
        const dir = tmpFolder({ "package.json": "{}" });
        assert.notEqual(contentHash({ context: dir, nodeBaseImage: "a" }), contentHash({ context: dir, nodeBaseImage: "b" }));
    });
});

describe("checkImage", () => {
    test("names what is wrong", async () => {
        const fail = async (inputs: Parameters<typeof checkImage>[0]) => (await checkImage(inputs)).failures;
        assert.match((await fail({}))[0].reason, /exactly one of `ref`.*or `context`/);
        assert.match((await fail({ ref: "a", context: "/tmp" }))[0].reason, /exactly one of/);
        assert.match((await fail({ context: "relative/dir" }))[0].reason, /`context` relative\/dir is not a folder/);
        const empty = tmpFolder({ "x.txt": "" });
        assert.match((await fail({ context: empty }))[0].reason, /neither a Dockerfile nor a package\.json/);
        assert.match((await fail({ context: empty, dockerfile: "Dockerfile.prod" }))[0].reason, /`dockerfile` Dockerfile\.prod not found/);
        const node = tmpFolder({ "package.json": "{}" });
        assert.equal((await fail({ context: node }))[0].property, "nodeBaseImage");
        const ok = await checkImage({ context: node, nodeBaseImage: "b" });
        assert.deepEqual(ok.failures, []);
        assert.equal(ok.inputs.contentHash, contentHash({ context: node, nodeBaseImage: "b" }), "check computes the hash");
    });
});
