import assert from "node:assert/strict";
import { test } from "node:test";
import YAML from "yaml";
import { configPath } from "../../cli/edit";
import { editStackFileText, parseConfigPath, storedValue } from "../../cli/stack-file-edit";

// Stack-file edits written with the `yaml` Document API instead of `pulumi config set`.

const FILE = [
    "# The dev stack: comments are the user's.",
    "config:",
    "  dynoform:app: hello # the app's name",
    "  # where the code is",
    "  dynoform:source: examples/hello",
    "  dynoform:formation:",
    "    web:",
    "      quantity: 1 # one is enough for now",
    "      size: standard-1x",
    "  dynoform:config:",
    "    GREETING: hi",
    "    LOG_LEVEL: debug",
    "  dynoform:routerPort: \"5100\"",
    "encryptionsalt: v1:abc",
    "",
].join("\n");

test("an edit keeps every comment and the order of the keys; only the edited values change", () => {
    const out = editStackFileText(
        FILE,
        [
            { path: configPath("formation", "web", "quantity"), value: "3" },
            { path: configPath("config", "NEW_VAR"), value: "x" },
        ],
        [configPath("config", "GREETING")],
    );
    assert.equal(
        out,
        FILE.replace("quantity: 1 #", "quantity: 3 #").replace("    GREETING: hi\n", "").replace("    LOG_LEVEL: debug\n", "    LOG_LEVEL: debug\n    NEW_VAR: x\n"),
    );
});

test("values are stored as `pulumi config set --path` stores them; new maps are made on the way", () => {
    const out = YAML.parse(
        editStackFileText(
            "config:\n  dynoform:app: a\n",
            [
                { path: configPath("routerPort"), value: "5200" },
                { path: configPath("addons", "db", "plan"), value: "heroku-postgresql:mini" },
                { path: configPath("config", "ON"), value: "true" },
                { path: configPath("config", "ZIP"), value: "01234" },
                { path: configPath("config", "BIG"), value: "123456789012345678901" },
                { path: configPath("restarts", "web"), value: "7" },
            ],
            [configPath("config", "ABSENT"), configPath("secrets", "ABSENT")],
        ),
    );
    assert.deepEqual(out, {
        config: {
            "dynoform:app": "a",
            "dynoform:routerPort": "5200",
            "dynoform:addons": { db: { plan: "heroku-postgresql:mini" } },
            "dynoform:config": { ON: true, ZIP: "01234", BIG: "123456789012345678901" },
            "dynoform:restarts": { web: 7 },
        },
    });
});

test("a removed top-level key goes; a secret beside it stays as it was", () => {
    const text = "config:\n  dynoform:rollbackSourceHash: abc\n  dynoform:secrets:\n    TOKEN:\n      secure: v1:xyz\n";
    assert.equal(editStackFileText(text, [], ["dynoform:rollbackSourceHash"]), "config:\n  dynoform:secrets:\n    TOKEN:\n      secure: v1:xyz\n");
});

test("parseConfigPath and storedValue", () => {
    assert.deepEqual(parseConfigPath(configPath("formation", "web", "quantity")), ["dynoform:formation", "web", "quantity"]);
    assert.deepEqual(parseConfigPath("dynoform:app"), ["dynoform:app"]);
    assert.throws(() => parseConfigPath('dynoform:x["a'), /not a stack config path/);
    assert.equal(storedValue("2", false), "2");
    assert.equal(storedValue("2", true), 2);
    assert.equal(storedValue("-0", true), "-0");
    assert.equal(storedValue("false", true), false);
});
