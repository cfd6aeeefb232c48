import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { releaseProvider } from "../../infra/release";

describe("releaseProvider.diff", () => {
    const olds = {
        releaseId: "r1",
        imageId: "sha256:1",
        config: { A: "1" },
        formation: { web: { quantity: 1, size: "standard-1x" } },
        version: 2,
        history: [],
        snapshots: {},
    };
    const same = { releaseId: "r1", imageId: "sha256:1", config: { A: "1" }, formation: { web: { quantity: 1, size: "standard-1x" } } };

    test("nothing changed: no release", async () => {
        assert.equal((await releaseProvider.diff!("r", olds, same)).changes, false);
    });
    test("a new request token (rollback) is a release even when nothing else changed; the same token again is not", async () => {
        assert.equal((await releaseProvider.diff!("r", olds, { ...same, request: "t1" })).changes, true);
        assert.equal((await releaseProvider.diff!("r", { ...olds, request: "t1" }, { ...same, request: "t1" })).changes, false);
        assert.equal((await releaseProvider.diff!("r", { ...olds, request: "t1" }, same)).changes, false, "a later deploy without one makes none");
    });
});
