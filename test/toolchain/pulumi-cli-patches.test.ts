import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { ModulePatch, PULUMI_CLI_PATCHES, applyEdits, patchesDigest, requiredVersion } from "../../toolchain/pulumi-cli-patches";

const patch: ModulePatch = {
    module: "example.com/words",
    reason: "load the words lazily",
    edits: [{ file: "words/words.go", find: "func init() {\n", replace: "func load() {\n" }],
};

function moduleWith(source: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-patch-"));
    fs.mkdirSync(path.join(dir, "words"));
    fs.writeFileSync(path.join(dir, "words", "words.go"), source);
    return dir;
}

test("applyEdits replaces each anchor once, in place", () => {
    const dir = moduleWith("package words\n\nfunc init() {\n\tfill()\n}\n");
    try {
        applyEdits(dir, patch);
        assert.equal(fs.readFileSync(path.join(dir, "words", "words.go"), "utf8"), "package words\n\nfunc load() {\n\tfill()\n}\n");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("a patch whose anchor is gone, or appears twice, is refused naming the module, reason and file; nothing is written", () => {
    for (const source of ["package words\n", "func init() {\n}\nfunc init() {\n}\n"]) {
        const dir = moduleWith(source);
        try {
            assert.throws(() => applyEdits(dir, patch), (err: Error) => {
                assert.match(err.message, /example\.com\/words \(load the words lazily\) no longer applies: words\/words\.go has (no|more than one) "func init\(\) \{\\n"/);
                return true;
            });
            assert.equal(fs.readFileSync(path.join(dir, "words", "words.go"), "utf8"), source);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }
});

test("requiredVersion reads a module's version from go.mod's require block or line; an absent module is an error", () => {
    const goMod = "module m\n\nrequire (\n\tgithub.com/a/b v1.2.3 // indirect\n\tgithub.com/a/bc v0.0.0-2018-ae42\n)\n\nrequire github.com/x/y v2.0.0\n";
    assert.equal(requiredVersion(goMod, "github.com/a/b"), "v1.2.3");
    assert.equal(requiredVersion(goMod, "github.com/a/bc"), "v0.0.0-2018-ae42");
    assert.equal(requiredVersion(goMod, "github.com/x/y"), "v2.0.0");
    assert.throws(() => requiredVersion(goMod, "github.com/a"), /go\.mod does not require github\.com\/a:/);
});

test("the CLI's patches name modules its go.mod requires, and their digest changes with any edit", () => {
    const goMod = fs.readFileSync(path.join(__dirname, "..", "..", "..", "toolchain", "pulumi-cli", "go.mod"), "utf8");
    for (const p of PULUMI_CLI_PATCHES) assert.match(requiredVersion(goMod, p.module), /^v/);
    const changed = PULUMI_CLI_PATCHES.map((p, i) => (i === 0 ? { ...p, edits: [...p.edits, { file: "x.go", find: "a", replace: "b" }] } : p));
    assert.notEqual(patchesDigest(changed), patchesDigest());
});
