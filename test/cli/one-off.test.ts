import assert from "node:assert/strict";
import { test } from "node:test";
import { nextRunIndex, shellCommand } from "../../cli/one-off";

// The pure parts of `dynoform run`: the shell line a one-off runs, and its number.

test("shellCommand: one argument is a shell line as given; several are quoted word by word", () => {
    assert.equal(shellCommand(["echo $HOME && ls"]), "echo $HOME && ls");
    assert.equal(shellCommand(["sh", "-c", "exit 7"]), "sh -c 'exit 7'");
    assert.equal(shellCommand(["node", "-e", "console.log('hi')"]), `node -e 'console.log('\\''hi'\\'')'`);
    assert.equal(shellCommand(["printf", "%s", ""]), "printf %s ''");
});

test("nextRunIndex: one more than the highest run.N, 1 when there is none", () => {
    assert.equal(nextRunIndex([]), 1);
    assert.equal(nextRunIndex(["web.1", ""]), 1);
    assert.equal(nextRunIndex(["run.1", "run.3"]), 4);
});
