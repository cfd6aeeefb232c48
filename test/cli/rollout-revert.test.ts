import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { failedDescription, rolloutFailure } from "../../cli/rollout-revert";

// The engine's output of a failed `up`, as Pulumi 3.248 prints it (from a real run's log file).
const DYNO_FAILED = [
    " +  pulumi-nodejs:dynamic/docker:Dyno hello-web-1 creating (3s) error: dyno web.1 failed its health check GET /health: HTTP 500, expected 2xx or 3xx (3 attempts 1 s apart)",
    " +  pulumi:pulumi:Stack hello-s **updating failed** 1 error",
    "Diagnostics:",
    "  pulumi-nodejs:dynamic/docker:Dyno (hello-web-1):",
    "    error: dyno web.1 failed its health check GET /health: HTTP 500, expected 2xx or 3xx (3 attempts 1 s apart)",
    "    last log lines of hello.s.web.1.d99695:",
    "    listening on 5000",
    "    health check answered 500 on purpose",
    "",
    "  pulumi:pulumi:Stack (hello-s):",
    "    error: update failed",
    "",
    "Resources:",
    "    2 errored",
].join("\n");

const RELEASE_FAILED = [
    "Diagnostics:",
    "  pulumi-nodejs:dynamic/docker:ReleasePhase (hello-release-phase):",
    "    error: release command `node release.js` failed with exit code 1; the new release was not deployed and the running dynos were left as they were.",
    "    output of hello.s.release.1a2b3c:",
    "    release: FAIL_RELEASE is set, failing on purpose",
    "",
].join("\n");

describe("rolloutFailure reads why a rollout failed from the engine's output", () => {
    test("a dyno that failed its health check, with the dyno's last log lines", () => {
        assert.deepEqual(rolloutFailure(DYNO_FAILED), {
            reason: "dyno web.1 failed its health check GET /health: HTTP 500, expected 2xx or 3xx (3 attempts 1 s apart)",
            logLines: ["listening on 5000", "health check answered 500 on purpose"],
        });
    });

    test("a release command that failed, with its output", () => {
        const f = rolloutFailure(RELEASE_FAILED)!;
        assert.equal(f.reason, "release command `node release.js` failed with exit code 1; the new release was not deployed and the running dynos were left as they were");
        assert.deepEqual(f.logLines, ["release: FAIL_RELEASE is set, failing on purpose"]);
    });

    test("a dyno that crashed or did not accept connections, colours removed", () => {
        assert.match(rolloutFailure("\u001b[31merror: dyno worker.1 crashed while booting (exit code 4; Docker restarted it 1x)\u001b[0m")!.reason, /^dyno worker\.1 crashed while booting/);
        assert.match(rolloutFailure("    error: dyno web.2 did not accept connections on $PORT (5000) within the 60 s boot timeout")!.reason, /did not accept/);
    });

    test("any other failure is not a rollout's (nothing to put back)", () => {
        assert.equal(rolloutFailure("error: image build failed: npm ERR! missing script"), undefined);
        assert.equal(rolloutFailure("error: Cannot connect to the Docker daemon"), undefined);
    });

    test("an earlier release's failure quoted elsewhere in the output (the stack's release history) is not this run's", () => {
        const output = [
            "Diagnostics:",
            "  pulumi-nodejs:dynamic/swarm:Service (hello-web):",
            "    error: service hello-s-web: 6 of 6 tasks running, 1 still stopping after 120 s",
            "",
            "Outputs:",
            '    releases: [{ version: 2, status: "failed", reason: "release command `node release.js` failed with exit code 3" }]',
        ].join("\n");
        assert.equal(rolloutFailure(output), undefined);
        assert.equal(rolloutFailure(`${RELEASE_FAILED}\n${output}`)!.reason.split(";")[0], "release command `node release.js` failed with exit code 1");
    });
});

test("failedDescription names what the failed release changed", () => {
    const plan = { config: { changed: ["GREETING"], added: ["HEALTH_STATUS"], removed: [] }, addons: { added: [], removed: [] } };
    assert.equal(failedDescription(plan), "Set GREETING, HEALTH_STATUS config vars");
    assert.equal(failedDescription({ ...plan, image: { from: "sha256:1", to: "sha256:abcdef123456" } }), "Deploy abcdef12; Set GREETING, HEALTH_STATUS config vars");
    assert.equal(failedDescription(plan, "Rollback to v3"), "Rollback to v3");
    assert.equal(failedDescription({ config: { changed: [], added: [], removed: [] }, addons: { added: [], removed: [] } }), "Deploy");
});
