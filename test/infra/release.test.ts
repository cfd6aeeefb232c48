import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeRelease, isNewRelease, releaseProvider } from "../../infra/release";

const base = { releaseId: "r1", imageId: "sha256:aaaaaaaaaaaa", config: { A: "1" }, formation: { web: { quantity: 1, size: "standard-1x" } } };

describe("releases: code, config and add-ons, not formation (as on Heroku)", () => {
    test("isNewRelease: image, config or release id (add-on attachments) changes; formation does not", () => {
        assert.equal(isNewRelease(base, { ...base }), false);
        assert.equal(isNewRelease(base, { ...base, imageId: "sha256:bbbb" }), true);
        assert.equal(isNewRelease(base, { ...base, config: { A: "2" } }), true);
        assert.equal(isNewRelease(base, { ...base, releaseId: "r2" }), true);
    });

    test("a formation change updates the state without a new version or history entry", async () => {
        const created = await releaseProvider.create!(base);
        const olds = created.outs!;
        const scaled = { ...base, formation: { web: { quantity: 3, size: "standard-2x" } }, description: "Scale web=3" };
        const withUndefined = { ...olds, description: undefined, by: undefined };
        assert.equal((await releaseProvider.diff!(created.id, olds, scaled)).changes, true, "kept in state");
        const outs = (await releaseProvider.update!(created.id, withUndefined, scaled)).outs!;
        assert.deepEqual(Object.entries(outs).filter(([, v]) => v === undefined), [], "no undefined output (the engine refuses them)");
        assert.equal(outs.version, 1);
        assert.equal(outs.history.length, 1);
        assert.deepEqual(outs.formation, scaled.formation);
        const configured = { outs: (await releaseProvider.update!(created.id, outs, { ...scaled, config: { A: "2" }, releaseId: "r2", description: undefined })).outs! };
        assert.equal(configured.outs.version, 2);
        assert.equal(configured.outs.history[1].description, "Set A config vars");
    });

    test("describeRelease names add-on changes and never a scale", () => {
        assert.equal(describeRelease(base, { ...base, releaseId: "r2" }), "Update add-on attachments");
        assert.equal(describeRelease(base, { ...base, formation: {} }), "No change");
    });
});

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
