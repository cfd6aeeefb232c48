import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { diffAddons, formatReleaseLine } from "../../cli/plan";

describe("diffAddons", () => {
    test("attached and detached add-ons by name and var; a new var is a detach and an attach", () => {
        assert.deepEqual(diffAddons({}, { redis: "REDIS_URL" }), { added: ["redis as REDIS_URL"], removed: [] });
        assert.deepEqual(diffAddons({ redis: "REDIS_URL" }, {}), { added: [], removed: ["redis as REDIS_URL"] });
        assert.deepEqual(diffAddons({ redis: "REDIS_URL" }, { redis: "REDIS_URL" }), { added: [], removed: [] });
        assert.deepEqual(diffAddons({ redis: "REDIS_URL" }, { redis: "CACHE_URL" }), { added: ["redis as CACHE_URL"], removed: ["redis as REDIS_URL"] });
    });
});

describe("formatReleaseLine", () => {
    const change = { type: "web", from: 1, to: 3, text: "web: 1 -> 3 (+2)" } as never;
    test("a new release: from -> to (v- before the first)", () => {
        assert.equal(formatReleaseLine({ currentRelease: 0, nextRelease: 1, formation: [] }), "Release: v- -> v1");
        assert.equal(formatReleaseLine({ currentRelease: 4, nextRelease: 5, formation: [change] }), "Release: v4 -> v5");
    });
    test("a formation-only change says it is not a release; no change says so", () => {
        assert.equal(formatReleaseLine({ currentRelease: 4, nextRelease: 4, formation: [change] }), "Release: v4 (a formation change is not a release)");
        assert.equal(formatReleaseLine({ currentRelease: 4, nextRelease: 4, formation: [] }), "Release: v4 (no image, config or add-on change)");
    });
});
