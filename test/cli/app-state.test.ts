import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { dynoState } from "../../cli/app-state";

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
