import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { test } from "node:test";
import { dropForeignSalt, passphraseOpens } from "../../toolchain/passphrase";

/** A salt as Pulumi's passphrase provider writes it, for `passphrase`: "pulumi" sealed under the derived key. */
export function saltFor(passphrase: string): string {
    const salt = crypto.randomBytes(8);
    const nonce = crypto.randomBytes(12);
    const key = crypto.pbkdf2Sync(passphrase, salt, 1_000_000, 32, "sha256");
    const c = crypto.createCipheriv("aes-256-gcm", key, nonce);
    const sealed = Buffer.concat([c.update("pulumi"), c.final(), c.getAuthTag()]);
    return `v1:${salt.toString("base64")}:v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}

const STACK = (salt: string, extra = "") =>
    `# the dev stack\nconfig:\n  dynoform:app: hello # the app\n${extra}encryptionsalt: ${salt}\n`;

function setup(text: string, stateStacks: string[] = []) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-salt-"));
    const file = path.join(dir, "Pulumi.dev.yaml");
    fs.writeFileSync(file, text);
    for (const s of stateStacks) {
        fs.mkdirSync(path.dirname(path.join(dir, "state", ".pulumi", "stacks", s)), { recursive: true });
        fs.writeFileSync(path.join(dir, "state", ".pulumi", "stacks", s), "{}");
    }
    return { dir, file, backend: `file://${path.join(dir, "state")}`, said: [] as string[] };
}

test("a foreign salt on a stack with no secret and no state is taken out, comments and config kept", (t) => {
    const salt = saltFor("a teammate's passphrase");
    assert.equal(passphraseOpens("a teammate's passphrase", salt), true, "the test's salt is one Pulumi would write");
    const s = setup(STACK(salt), ["other-project/staging.json"]);
    t.after(() => fs.rmSync(s.dir, { recursive: true, force: true }));
    assert.equal(dropForeignSalt({ file: s.file, name: "dev" }, s.backend, (l) => s.said.push(l)), true);
    assert.equal(fs.readFileSync(s.file, "utf8"), "# the dev stack\nconfig:\n  dynoform:app: hello # the app\n");
    assert.match(s.said.join("\n"), /Pulumi\.dev\.yaml: its encryptionsalt was made under another machine's passphrase/);
});

test("a foreign salt stays when the stack holds a secret, has state here, or the backend is not a local folder", (t) => {
    const salt = saltFor("a teammate's passphrase");
    const cases = [
        { what: "a secure value", s: setup(STACK(salt, "  dynoform:secrets:\n    API_TOKEN:\n      secure: v1:abc\n")), name: "dev" },
        { what: "state of the stack (project-scoped)", s: setup(STACK(salt), ["hello/dev.json"]), name: "dev" },
        { what: "state of the stack (gzipped)", s: setup(STACK(salt), ["hello/dev.json.gz"]), name: "dev" },
    ];
    for (const c of cases) {
        t.after(() => fs.rmSync(c.s.dir, { recursive: true, force: true }));
        const before = fs.readFileSync(c.s.file, "utf8");
        assert.equal(dropForeignSalt({ file: c.s.file, name: c.name }, c.s.backend, () => undefined), false, c.what);
        assert.equal(fs.readFileSync(c.s.file, "utf8"), before, `${c.what}: the file is unchanged`);
    }
    const remote = setup(STACK(salt));
    t.after(() => fs.rmSync(remote.dir, { recursive: true, force: true }));
    assert.equal(dropForeignSalt({ file: remote.file, name: "dev" }, "s3://bucket", () => undefined), false, "a remote backend");
});

test("the committed stack files carry no salt: each machine's passphrase makes its own", () => {
    // A salt committed from one machine made `npm run up` on the next fail with 'incorrect passphrase'.
    const dir = path.join(__dirname, "..", "..", "..", "stacks");
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".yaml"))) {
        const text = fs.readFileSync(path.join(dir, f), "utf8");
        if (/^encryptionsalt:/m.test(text) && !/^\s*secure:/m.test(text)) {
            // Written by this checkout's own `npm run up`: fine locally, never in a commit (CI runs a clean clone).
            assert.ok(!process.env.CI, `stacks/${f} has an encryptionsalt but no secret: take the line out before committing`);
        }
    }
});
