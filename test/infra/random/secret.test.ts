import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { checkSecretInputs, diffSecret, randomSecretProvider } from "../../../infra/random/secret";

// RandomSecret keeps an add-on's password: a diff that replaced it by mistake would lock the app
// out of its own database, so an unset field must equal its default.
describe("RandomSecret check and diff", () => {
    test("bytes from 8 to 256; a value not known yet (preview) is not judged", () => {
        assert.deepEqual(checkSecretInputs({}), []);
        assert.deepEqual(checkSecretInputs({ bytes: 16 }), []);
        assert.deepEqual(checkSecretInputs({ bytes: pulumi.runtime.unknownValue as never }), []);
        const [f] = checkSecretInputs({ bytes: 4 });
        assert.equal(f.property, "bytes");
        assert.match(f.reason, /`bytes` must be a whole number from 8 to 256 \(got 4\)/);
    });

    test("unset bytes and keepers are their defaults: no new secret", () => {
        assert.equal(diffSecret({}, { bytes: 24, keepers: {} }).changes, false);
        assert.equal(diffSecret({ bytes: 16, keepers: { a: "1", b: "2" } }, { bytes: 16, keepers: { b: "2", a: "1" } }).changes, false);
    });

    test("new bytes or keepers make a new secret, named in replaces", () => {
        assert.deepEqual(diffSecret({}, { bytes: 32 }).replaces, ["bytes"]);
        assert.deepEqual(diffSecret({ keepers: { v: "1" } }, { keepers: { v: "2" } }).replaces, ["keepers"]);
    });

    test("create makes a value of the asked length", async () => {
        const { outs } = await randomSecretProvider.create({ bytes: 12 });
        assert.equal(Buffer.from(outs!.value, "base64url").length, 12);
    });
});
