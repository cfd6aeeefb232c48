import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { test } from "node:test";
import { recordedBaseImages, recordFile } from "../../toolchain/base-image-refs";

// `doctor` records each Docker host's base images apart: a server's record never stands in for
// the local engine's (a server with an official image the local engine lacks broke local deploys).

test("recordFile: the local engine (unset or a unix socket) has base-images.json; each other host its own file", () => {
    const local = recordFile("");
    assert.equal(path.basename(local), "base-images.json");
    assert.equal(recordFile("unix:///var/run/docker.sock"), local);
    const a = recordFile("ssh://root@10.0.0.1");
    const b = recordFile("ssh://root@10.0.0.2");
    assert.match(path.basename(a), /^base-images-[0-9a-f]{12}\.json$/);
    assert.notEqual(a, b);
    assert.equal(recordFile("ssh://root@10.0.0.1"), a);
});

test("recordedBaseImages: the command's host's record, else the local engine's", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-refs-"));
    const saved = { home: process.env.DYNOFORM_HOME, host: process.env.DOCKER_HOST };
    const restore = (k: "DYNOFORM_HOME" | "DOCKER_HOST", v: string | undefined) => (v === undefined ? delete process.env[k] : (process.env[k] = v));
    try {
        process.env.DYNOFORM_HOME = home;
        delete process.env.DOCKER_HOST;
        assert.throws(() => recordedBaseImages(), /no base images recorded in .*base-images\.json: run `npx dynoform doctor` first/);
        fs.mkdirSync(path.dirname(recordFile("")), { recursive: true });
        const localRefs = { node: "dynoform/node:1", postgres: "dynoform/postgres:1", redis: "dynoform/redis:1", nginx: "dynoform/nginx:1" };
        fs.writeFileSync(recordFile(""), JSON.stringify(localRefs));
        process.env.DOCKER_HOST = "ssh://root@10.0.0.1";
        assert.deepEqual(recordedBaseImages(), localRefs, "a server doctor never ran against: the local record");
        const serverRefs = { ...localRefs, node: "node:20-bookworm-slim" };
        fs.writeFileSync(recordFile(), JSON.stringify(serverRefs));
        assert.deepEqual(recordedBaseImages(), serverRefs);
        delete process.env.DOCKER_HOST;
        assert.deepEqual(recordedBaseImages(), localRefs, "the server's record does not change the local one");
    } finally {
        restore("DYNOFORM_HOME", saved.home);
        restore("DOCKER_HOST", saved.host);
        fs.rmSync(home, { recursive: true, force: true });
    }
});
