import assert from "node:assert/strict";
import { test } from "node:test";
import { checkWords, rolloutLines } from "../../cli/rollout-order";

const input = {
    app: "my-app",
    types: ["web", "worker", "clock"],
    releaseCommand: "node release.js",
    healthchecks: { web: [{ kind: "http" as const, name: "GET /health", path: "/health", attempts: 3, timeoutSeconds: 2, waitSeconds: 1, initialDelaySeconds: 0 }] },
    currentRelease: 6,
};

test("preview's rollout order: release phase first, then per process type what restarts, in order, with its check", () => {
    const steps = [
        { op: "replace", type: "docker:ReleasePhase", name: "my-app-release-phase" },
        { op: "create-replacement", type: "docker:Dyno", name: "my-app-web-2" },
        { op: "replace", type: "docker:Dyno", name: "my-app-web-2" },
        { op: "replace", type: "docker:Dyno", name: "my-app-web-1" },
        { op: "replace", type: "docker:Dyno", name: "my-app-worker-1" },
        { op: "create", type: "docker:Dyno", name: "my-app-worker-2" },
        { op: "delete", type: "docker:Dyno", name: "my-app-clock-2" },
        { op: "update", type: "docker:RouterConfig", name: "my-app-router-config" },
        { op: "replace", type: "docker:Dyno", name: "my-app-router-nginx" },
    ];
    assert.deepEqual(rolloutLines(steps, input), [
        "Rollout (process types side by side, after the release phase):",
        "  release phase first: `node release.js`; a non-zero exit stops the rollout before any dyno restarts",
        "  web: restarts web.1 -> web.2, one at a time: each new dyno must pass its check (accepts connections on $PORT, then GET /health, 3 attempts 1 s apart) before the next starts and before the router sends it traffic; the old ones get SIGTERM (30 s grace) once all have passed",
        "  worker: restarts worker.1, one at a time: each new dyno must pass its check (still running after 1 s) before the next starts; the old ones get SIGTERM (30 s grace) once all have passed; starts worker.2",
        "  clock: stops clock.2 (SIGTERM, 30 s grace)",
        "  a failed check or release command puts v6 back on every dyno reached; v6 serves throughout",
    ]);
});

test("nothing restarts: no rollout lines", () => {
    assert.deepEqual(rolloutLines([{ op: "update", type: "docker:Dyno", name: "my-app-web-1" }], input), []);
    assert.equal(checkWords("worker", undefined), "still running after 1 s");
});

test("each process type's own grace period is what preview says its old dynos get", () => {
    const steps = [
        { op: "replace", type: "docker:Dyno", name: "my-app-worker-1" },
        { op: "delete", type: "docker:Dyno", name: "my-app-clock-2" },
    ];
    const lines = rolloutLines(steps, { ...input, stopGraceSeconds: { web: 30, worker: 120, clock: 5 } });
    assert.match(lines[1], /^  worker: restarts worker\.1, .*the old ones get SIGTERM \(120 s grace\) once all have passed$/);
    assert.equal(lines[2], "  clock: stops clock.2 (SIGTERM, 5 s grace)");
});
