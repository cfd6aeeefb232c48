import assert from "node:assert/strict";
import { test } from "node:test";
import { taskDynoState } from "../../cli/swarm-state";

test("taskDynoState: Swarm task states as Heroku's dyno states", () => {
    assert.deepEqual(["running", "preparing", "failed", "shutdown", "complete"].map(taskDynoState), ["up", "starting", "crashed", "stopped", "stopped"]);
});
