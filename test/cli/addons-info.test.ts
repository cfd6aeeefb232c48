import assert from "node:assert/strict";
import { test } from "node:test";
import { maskUrl } from "../../cli/addons";

// addons:info's pure parts (through the CLI: addons-verbs.live.test.ts).

test("maskUrl: the password goes, the rest stays", () => {
    assert.equal(maskUrl("postgres://app:s3cr%2Ft@postgres:5432/app"), "postgres://app:********@postgres:5432/app");
    assert.equal(maskUrl("redis://:pw@redis:6379"), "redis://:********@redis:6379");
    assert.equal(maskUrl("redis://redis:6379"), "redis://redis:6379");
});
