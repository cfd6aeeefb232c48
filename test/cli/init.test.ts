import assert from "node:assert/strict";
import { test } from "node:test";
import { appNameFrom } from "../../cli/commands/init";

// init's pure parts (through the CLI: init.live.test.ts).

test("appNameFrom: a folder name made into an app name", () => {
    assert.equal(appNameFrom("My_App 2"), "my-app-2");
    assert.equal(appNameFrom("dynoform-cli-init-AbC123"), "dynoform-cli-init-abc123");
    assert.equal(appNameFrom("42"), "app");
    assert.match(appNameFrom("x".repeat(50)), /^x{30}$/);
});
