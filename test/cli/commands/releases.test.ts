import assert from "node:assert/strict";
import { test } from "node:test";
import { releaseLines } from "../../../cli/commands/releases";
import type { ReleaseRecord } from "../../../infra/release";

const rec = (version: number, description: string, extra: Partial<ReleaseRecord> = {}): ReleaseRecord => ({
    version, releaseId: `r${version}`, imageId: "sha256:1", configKeys: [], formation: {}, createdAt: "2026-11-30T16:00:00Z", description, by: "ci", ...extra,
});

test("releases: a failed release says so with its reason; the newest release that ran is marked current", () => {
    const lines = releaseLines([
        rec(3, "Set HEALTH_STATUS config vars", { status: "failed", reason: "dyno web.1 failed its health check GET /health: HTTP 500" }),
        rec(2, "Set A config vars"),
        rec(1, "Deploy 12345678"),
    ]);
    assert.match(lines[0], /^v3  Set HEALTH_STATUS config vars \(failed: dyno web\.1 failed its health check GET \/health: HTTP 500\)/);
    assert.match(lines[1], /^v2\* Set A config vars/);
    assert.match(lines[2], /^v1  Deploy 12345678/);
});
