import assert from "node:assert/strict";
import { test } from "node:test";
import { withoutSecrets } from "../../../infra/engine/stack-read";

// `pulumi stack export` without --show-secrets: secret values are left out, never decrypted.

test("withoutSecrets drops every secret value, at any depth, and keeps the rest", () => {
    const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" };
    assert.deepEqual(
        withoutSecrets({
            appName: "shop",
            config: secret,
            dynos: { web: ["web.1", "web.2"] },
            attachments: { DATABASE_URL: secret, KEPT: "x" },
            releases: [{ version: 1, description: "Deploy" }, secret],
        }),
        { appName: "shop", dynos: { web: ["web.1", "web.2"] }, attachments: { KEPT: "x" }, releases: [{ version: 1, description: "Deploy" }, undefined] },
    );
    assert.equal(withoutSecrets(secret), undefined);
    assert.equal(withoutSecrets(3), 3);
    assert.equal(withoutSecrets(null), null);
});
