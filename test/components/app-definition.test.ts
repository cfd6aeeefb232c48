import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { loadAppDefinition, sourceFacts } from "../../components/app-definition";
import { throwsInput } from "../support/input-error";

const folders: string[] = [];
function folder(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-appdef-"));
    folders.push(dir);
    for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, rel), text);
    return dir;
}
after(() => {
    for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
});

const NODE_APP = { "package.json": JSON.stringify({ scripts: { start: "node index.js" } }), "index.js": "" };

describe("loadAppDefinition: apps that declare no process types (Heroku's defaults)", () => {
    test("a Dockerfile and no Procfile: one web dyno running the image's CMD", () => {
        const dir = folder({ Dockerfile: "FROM x\nCMD [\"node\", \"a.js\"]\n" });
        const d = loadAppDefinition({ source: dir, configKeys: [] });
        assert.deepEqual(d.processTypes, [{ name: "web", line: 0 }]);
        assert.equal(d.plan.length, 1);
        assert.equal(d.plan[0].type, "web");
        assert.equal(d.plan[0].quantity, 1);
        assert.equal(d.plan[0].command, undefined, "no command: the image's CMD");
        assert.match(d.defaultProcess ?? "", /image's CMD/);
    });

    test("an empty or comment-only Procfile in a Node.js app: web: npm start", () => {
        for (const text of ["", "# nothing yet\n"]) {
            const d = loadAppDefinition({ source: folder({ ...NODE_APP, Procfile: text }), configKeys: [] });
            assert.deepEqual(d.plan.map((p) => [p.type, p.command, p.quantity]), [["web", "npm start", 1]]);
            assert.match(d.defaultProcess ?? "", /npm start.*start script/);
        }
    });

    test("a Procfile that declares types is used as written (no default added)", () => {
        const d = loadAppDefinition({ source: folder({ ...NODE_APP, Dockerfile: "FROM x\n", Procfile: "worker: node w.js\n" }), configKeys: [] });
        assert.deepEqual(d.processTypes, [{ name: "worker", command: "node w.js", line: 1 }]);
        assert.equal(d.defaultProcess, undefined);
    });

    test("a pinned image's `<source>/Procfile` that is absent: the source folder's default", () => {
        const dir = folder({ Dockerfile: "FROM x\n" });
        const d = loadAppDefinition({ procfile: path.join(dir, "Procfile"), configKeys: [] });
        assert.deepEqual(d.processTypes, [{ name: "web", line: 0 }]);
    });

    test("no default to fall back on: says what to add; malformed lines still name file and line", () => {
        const bare = folder({ "index.js": "" });
        throwsInput(() => loadAppDefinition({ source: bare, configKeys: [] }), "procfile", /Procfile does not exist and .* has no default web process \(no Dockerfile, no package\.json with a "start" script, no server\.js\): add a Procfile/);
        const empty = folder({ Procfile: "\n# only a comment\n", "package.json": "{}" });
        throwsInput(() => loadAppDefinition({ source: empty, configKeys: [] }), "Procfile", /no process types declared \(the file is empty or only has comments\) and .* has no default web process/, path.join(empty, "Procfile"));
        const broken = folder({ ...NODE_APP, Procfile: "# ok\nweb npm start\n" });
        throwsInput(() => loadAppDefinition({ source: broken, configKeys: [] }), "Procfile line 2", /no colon/, path.join(broken, "Procfile"), 2);
        throwsInput(() => loadAppDefinition({ procfile: path.join(bare, "Procfile.web"), configKeys: [] }), "procfile", /Procfile\.web does not exist/);
    });

    test("sourceFacts reads the Dockerfile, the start script and server.js; a broken package.json has no script", () => {
        assert.deepEqual(sourceFacts(folder({ ...NODE_APP, "server.js": "" })), { dockerfile: false, startScript: "node index.js", serverJs: true });
        assert.deepEqual(sourceFacts(folder({ "package.json": "{ nope", Dockerfile: "" })), { dockerfile: true, startScript: undefined, serverJs: false });
    });
});
