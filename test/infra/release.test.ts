import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeRelease, failedRecord, isNewFailure, isNewRelease, nextVersion, releaseProvider } from "../../infra/release";

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

describe("failed releases (a rollout that was put back)", () => {
    const failed = { id: "f1", imageId: "sha256:2", configKeys: ["A", "B"], description: "Set B config vars", reason: "dyno web.1 failed its health check GET /health: HTTP 500", logLines: ["listening on 5000"] };

    test("a new failure is a change; the same failure again is not", async () => {
        const created = (await releaseProvider.create!(base)).outs!;
        assert.equal(isNewFailure(created, { failed }), true);
        assert.equal((await releaseProvider.diff!("r", created, { ...base, failed })).changes, true);
        assert.equal((await releaseProvider.diff!("r", { ...created, failed }, { ...base, failed })).changes, false);
        assert.equal((await releaseProvider.diff!("r", { ...created, failed }, base)).changes, false, "a later deploy without one makes none");
    });

    test("the failure takes the next number and stays out of the current version; the next release counts past it", async () => {
        const created = (await releaseProvider.create!(base)).outs!;
        const reverted = (await releaseProvider.update!("r", created, { ...base, failed })).outs!;
        assert.equal(reverted.version, 1, "v1 still serves");
        assert.deepEqual(reverted.history.map((r) => [r.version, r.status ?? "ok"]), [[1, "ok"], [2, "failed"]]);
        assert.equal(reverted.history[1].reason, failed.reason);
        assert.deepEqual(reverted.history[1].logLines, failed.logLines);
        assert.deepEqual(Object.keys(reverted.snapshots), ["1"], "no config snapshot for a release that never ran");
        assert.deepEqual(Object.entries(reverted.history[1]).filter(([, v]) => v === undefined), [], "no undefined field");
        const next = (await releaseProvider.update!("r", reverted, { ...base, config: { A: "2" }, releaseId: "r2" })).outs!;
        assert.equal(next.version, 3);
        assert.equal(nextVersion(next.history, next.version), 4);
    });

    test("failedRecord says failed, with the reason and log lines", () => {
        const r = failedRecord(7, failed);
        assert.equal(r.version, 7);
        assert.equal(r.status, "failed");
        assert.equal(r.description, "Set B config vars");
        assert.deepEqual(r.configKeys, ["A", "B"]);
    });
});
