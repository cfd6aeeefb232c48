import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { dropPin, sourceHash, stalePin } from "../../cli/rollback-pin";
import { removeAfter } from "../support/tmp-folders";

describe("a rollback's image pin", () => {
    const dir = removeAfter(fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-pin-")));
    fs.mkdirSync(path.join(dir, "app"));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "app", "index.js"), "console.log(1)\n");

    test("is stale once the source differs from what it was at the rollback; a promoted image never is", () => {
        const hash = sourceHash(path.join(dir, "app"));
        const pinned = { image: "sha256:abc", source: "app", rollbackSourceHash: hash };
        assert.equal(stalePin(dir, pinned), false, "same source: the rollback stays");
        assert.equal(stalePin(dir, { image: "sha256:abc", source: "app" }), false, "promoted: no hash, stays");
        fs.writeFileSync(path.join(dir, "app", "index.js"), "console.log(2)\n");
        assert.equal(stalePin(dir, pinned), true, "new code: the pin goes");
        assert.equal(stalePin(dir, { ...pinned, image: undefined }), false, "nothing pinned");
    });

    test("dropPin removes the image and the hash and keeps the rest of the file as written", () => {
        const file = path.join(dir, "stacks", "Pulumi.dev.yaml");
        fs.writeFileSync(file, "# mine\nconfig:\n  dynoform:app: hello # the app\n  dynoform:image: sha256:abc\n  dynoform:rollbackSourceHash: 00ff\n  dynoform:source: app\n");
        dropPin(dir, "dev");
        assert.equal(fs.readFileSync(file, "utf8"), "# mine\nconfig:\n  dynoform:app: hello # the app\n  dynoform:source: app\n");
    });
});
