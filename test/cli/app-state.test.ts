import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dynoState, oomText } from "../../cli/app-state";

const state = (s: Partial<Parameters<typeof dynoState>[0]>) =>
    dynoState({ Status: "running", Running: false, Restarting: false, ExitCode: 0, OOMKilled: false, ...s });

describe("dynoState: Docker's container state in Heroku's words", () => {
    test("running is up; created is starting; a clean exit is stopped", () => {
        assert.equal(state({ Running: true }), "up");
        assert.equal(state({ Status: "created" }), "starting");
        assert.equal(state({ Status: "exited" }), "stopped");
    });

    test("a failed exit or an OOM kill is crashed", () => {
        assert.equal(state({ Status: "exited", ExitCode: 1 }), "crashed");
        assert.equal(state({ Status: "exited", ExitCode: 137, OOMKilled: true }), "crashed");
    });

    test("waiting for Docker's restart after a failure is crashed (a crash loop is not hidden as restarting)", () => {
        assert.equal(state({ Status: "restarting", Restarting: true, ExitCode: 3 }), "crashed");
        assert.equal(state({ Status: "restarting", Restarting: true, ExitCode: 137, OOMKilled: true }), "crashed");
        assert.equal(state({ Status: "restarting", Restarting: true, ExitCode: 0 }), "restarting");
    });
});

describe("oomText: an OOM kill in Heroku's words", () => {
    test("R15 with the local time of the kill, and the count when more than one", () => {
        const at = new Date(2026, 10, 30, 12, 3, 4).toISOString();
        assert.equal(oomText(at, 1), "R15: memory quota vastly exceeded, OOM-killed at 12:03:04");
        assert.equal(oomText(at, 3), "R15: memory quota vastly exceeded, OOM-killed at 12:03:04, 3 times");
    });
});
