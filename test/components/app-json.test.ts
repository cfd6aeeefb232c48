import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadAppDefinition } from "../../components/app-definition";
import { AppJson, mapAddonPlan, parseAppJson, skippedAddonMessage } from "../../components/app-json";
import { DynoformInputError } from "../../components/errors";

import { throwsInput } from "../support/input-error";

/** Parses `lines` joined by newlines, so tests can count lines at a glance. */
const parse = (lines: string[], file?: string) => parseAppJson(lines.join("\n"), file);

describe("parseAppJson: valid files", () => {
    test("a full app.json", () => {
        const app = parse([
            "{",
            '  "name": "shop",',
            '  "description": "A shop",',
            '  "keywords": ["node"],',
            '  "repository": "https://example.com/shop",',
            '  "buildpacks": [{ "url": "heroku/nodejs" }],',
            '  "env": {',
            '    "NODE_ENV": "production",',
            '    "SECRET_KEY": { "description": "signs cookies", "generator": "secret" },',
            '    "API_TOKEN": { "required": true },',
            '    "LOG_LEVEL": { "value": "info", "required": false }',
            "  },",
            '  "formation": {',
            '    "web": { "quantity": 2, "size": "Standard-2X" },',
            '    "worker": { "quantity": 1 },',
            '    "clock": { "size": { "memoryMb": 768 } }',
            "  },",
            '  "addons": [',
            '    "heroku-postgresql:essential-0",',
            '    "heroku-redis:mini",',
            '    { "plan": "heroku-postgresql", "as": "ANALYTICS_DB", "options": { "version": "16" } },',
            '    { "plan": "redis", "as": "CACHE" }',
            "  ],",
            '  "scripts": { "postdeploy": "npm run seed", "test": "npm test" },',
            '  "environments": { "test": { "scripts": { "test": "npm test" } } }',
            "}",
        ]);
        const want: AppJson = {
            name: "shop",
            description: "A shop",
            env: {
                NODE_ENV: { value: "production" },
                SECRET_KEY: { description: "signs cookies", generator: "secret" },
                API_TOKEN: { required: true },
                LOG_LEVEL: { value: "info", required: false },
            },
            formation: {
                web: { quantity: 2, size: "Standard-2X" },
                worker: { quantity: 1 },
                clock: { size: { memoryMb: 768 } },
            },
            addons: [
                { plan: "postgres", tier: "essential-0" },
                { plan: "redis", tier: "mini" },
                { plan: "postgres", as: "ANALYTICS_DB" },
                { plan: "redis", as: "CACHE" },
            ],
            scripts: { postdeploy: "npm run seed" },
            skippedAddons: [],
            notes: [
                "app.json:6: `buildpacks`: not used: Dynoform builds the image from the app's Dockerfile, or from package.json on its Node.js base image",
            ],
        };
        assert.deepEqual(app, want);
    });

    test("an empty object gets empty defaults", () => {
        assert.deepEqual(parseAppJson("{}"), { env: {}, formation: {}, addons: [], scripts: {}, skippedAddons: [], notes: [] });
    });

    test("a UTF-8 BOM and CRLF line endings are accepted", () => {
        assert.deepEqual(parseAppJson('\uFEFF{\r\n  "name": "x"\r\n}\r\n').name, "x");
    });

    test("an env var named __proto__ is refused on its line (as a config var it was dropped)", () => {
        throwsInput(() => parse(["{", '  "env": {', '    "__proto__": "p"', "  }", "}"]), "env.__proto__", /^config var name "__proto__" is a name every JavaScript object already has/, "app.json", 3);
    });
});

describe("parseAppJson: JSON syntax errors carry the line", () => {
    const HINT = /app\.json is strict JSON: double-quoted keys and strings, no trailing commas, no comments$/;

    test("trailing comma (V8 gives a position)", () => {
        const e = throwsInput(
            () => parse(["{", '  "env": {', '    "A": "1",', "  }", "}"], "apps/shop/app.json"),
            "app.json",
            /^not valid JSON: Expected double-quoted property name \(column 3\); /,
            "apps/shop/app.json",
            4,
        );
        assert.match(e.reason, HINT);
    });

    test("an unexpected token (V8 gives no position: the scanner finds it)", () => {
        throwsInput(() => parse(["{", '  "env": {', '    "A": tru', "  }", "}"]), "app.json", /^not valid JSON: Unexpected token '\\n' \(column 13\); /, "app.json", 3);
        throwsInput(() => parse(["{", "", "  'name': 'x'", "}"]), "app.json", /^not valid JSON: Expected property name or '}' \(column 3\)/, "app.json", 3);
        throwsInput(() => parse(["{", '  "a": [1,', "", "  ]", "}"]), "app.json", /^not valid JSON: Unexpected token '\]' \(column 3\)/, "app.json", 4);
    });

    test("comments are not JSON", () => {
        throwsInput(() => parse(["{", "  // the app", '  "name": "x"', "}"]), "app.json", /^not valid JSON: .*column 3/, "app.json", 2);
    });

    test("unterminated and empty input", () => {
        throwsInput(() => parse(["{", '  "name": "x"']), "app.json", /^not valid JSON: Expected ',' or '}' after property value \(column 14\)/, "app.json", 2);
        throwsInput(() => parseAppJson(""), "app.json", /^not valid JSON: Unexpected end of JSON input \(column 1\)/, "app.json", 1);
    });

    test("the top level must be an object", () => {
        throwsInput(() => parseAppJson("\n[]"), "app.json", /^expected a JSON object, e\.g\. .*, got \[\]$/, "app.json", 2);
    });

});

describe("parseAppJson: read as Heroku reads it", () => {
    test("a key written twice with the same value is accepted without a word", () => {
        const app = parse(["{", '  "name": "x",', '  "formation": { "web": { "quantity": 1 } },', '  "name": "x"', "}"]);
        assert.equal(app.name, "x");
        assert.deepEqual(app.notes, []);
        // Same value written differently is the same value.
        assert.deepEqual(parse(["{", '  "env": { "A": { "value": "1" }, "A": {"value":"1"} }', "}"]).notes, []);
    });

    test("a key written twice with different values: the last is used, with a note on its line", () => {
        const app = parse(["{", '  "formation": {', '    "web": { "quantity": 1 },', '    "web": { "quantity": 2 }', "  }", "}"], "shop/app.json");
        assert.deepEqual(app.formation, { web: { quantity: 2 } });
        assert.deepEqual(app.notes, [
            'shop/app.json:4: `formation.web`: key "web" appears twice with different values (first on line 3); the last is used, as in every JSON parser',
        ]);
        // Errors then point at the value that is used.
        throwsInput(
            () => parse(["{", '  "formation": {', '    "web": { "quantity": 1 },', '    "web": { "quantity": -1 }', "  }", "}"]),
            "formation.web.quantity",
            /quantity -1 is not valid/,
            "app.json",
            4,
        );
    });

    test("Heroku's retired sizes Free and Hobby, any case, are eco and basic, with a note", () => {
        const app = parse(["{", '  "formation": {', '    "web": { "size": "Free" },', '    "worker": { "quantity": 1, "size": "HOBBY" }', "  }", "}"]);
        assert.deepEqual(app.formation, { web: { size: "eco" }, worker: { quantity: 1, size: "basic" } });
        assert.deepEqual(app.notes, [
            "app.json:3: `formation.web.size`: \"Free\" is Heroku's retired name of the eco size; using eco",
            "app.json:4: `formation.worker.size`: \"HOBBY\" is Heroku's retired name of the basic size; using basic",
        ]);
    });

    test("buildpacks, stack and image are noted once each as not used", () => {
        const app = parse(["{", '  "stack": "heroku-22",', '  "image": "heroku/nodejs",', '  "buildpacks": [{ "url": "heroku/nodejs" }]', "}"]);
        assert.deepEqual(
            app.notes.map((n) => n.replace(/: not used: .*$/, "")),
            ["app.json:2: `stack`", "app.json:3: `image`", "app.json:4: `buildpacks`"],
        );
        assert.match(app.notes[2], /not used: Dynoform builds the image from the app's Dockerfile, or from package.json/);
    });

    test("add-ons Dynoform does not run are all skipped and listed, with the vars the app lacks; Heroku Scheduler is accepted", () => {
        const app = parse([
            "{",
            '  "addons": [',
            '    "mongolab",',
            '    "heroku-postgresql:essential-0",',
            '    "papertrail:choklad",',
            '    { "plan": "sendgrid:starter" },',
            '    { "plan": "mongolab:sandbox", "as": "MONGO" },',
            '    "some-new-addon:free",',
            '    "scheduler:standard"',
            "  ]",
            "}",
        ]);
        assert.deepEqual(app.addons, [{ plan: "postgres", tier: "essential-0" }]);
        assert.deepEqual(app.skippedAddons, [
            { field: "addons[0]", plan: "mongolab", line: 3, vars: ["MONGOLAB_URI"] },
            { field: "addons[2]", plan: "papertrail:choklad", line: 5, vars: ["PAPERTRAIL_API_TOKEN"] },
            { field: "addons[3]", plan: "sendgrid:starter", line: 6, vars: ["SENDGRID_USERNAME", "SENDGRID_PASSWORD"] },
            { field: "addons[4]", plan: "mongolab:sandbox", line: 7, as: "MONGO", vars: ["MONGOLAB_URI"] },
            { field: "addons[5]", plan: "some-new-addon:free", line: 8 },
        ]);
        assert.deepEqual(
            app.skippedAddons.map((a) => skippedAddonMessage(a, "shop/app.json")),
            [
                'shop/app.json:3: `addons[0]`: add-on "mongolab" is not one Dynoform runs (only postgres and redis): skipped; the app will not have MONGOLAB_URI',
                'shop/app.json:5: `addons[2]`: add-on "papertrail:choklad" is not one Dynoform runs (only postgres and redis): skipped; the app will not have PAPERTRAIL_API_TOKEN',
                'shop/app.json:6: `addons[3]`: add-on "sendgrid:starter" is not one Dynoform runs (only postgres and redis): skipped; the app will not have SENDGRID_USERNAME, SENDGRID_PASSWORD',
                'shop/app.json:7: `addons[4]`: add-on "mongolab:sandbox" is not one Dynoform runs (only postgres and redis): skipped; the app will not have its config vars MONGO_... (MONGOLAB_URI without "as")',
                'shop/app.json:8: `addons[5]`: add-on "some-new-addon:free" is not one Dynoform runs (only postgres and redis): skipped; the app will not have its config vars',
            ],
        );
    });

    test("a formation entry with quantity 0 for a type the Procfile lacks is ignored; 1 is refused", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-appjson-"));
        try {
            const file = path.join(dir, "app.json");
            fs.writeFileSync(file, JSON.stringify({ formation: { web: { quantity: 1 }, worker: { quantity: 0, size: "Free" }, clock: { size: "basic" } } }));
            const def = loadAppDefinition({ procfile: "web: node server.js\n", appJson: file, configKeys: [] });
            assert.deepEqual(def.plan.map((p) => [p.type, p.quantity]), [["web", 1]]);
            fs.writeFileSync(file, JSON.stringify({ formation: { worker: { quantity: 1 } } }));
            throwsInput(
                () => loadAppDefinition({ procfile: "web: node server.js\n", appJson: file, configKeys: [] }),
                "formation.worker",
                /^process type "worker" is not in the Procfile; Procfile types are web$/,
                file,
            );
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("loadAppDefinition carries the skipped add-ons' lines, with the file", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-appjson-"));
        try {
            const file = path.join(dir, "app.json");
            fs.writeFileSync(file, JSON.stringify({ addons: ["heroku-redis", "mongolab"] }, null, 2));
            const def = loadAppDefinition({ procfile: "web: node server.js\n", appJson: file, configKeys: [] });
            assert.deepEqual(def.addons.map((a) => a.name), ["redis"]);
            assert.equal(def.skippedAddons.length, 1);
            assert.match(def.skippedAddons[0], new RegExp(`^${file}:4: \`addons\\[1\\]\`: add-on "mongolab" .* the app will not have MONGOLAB_URI$`));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("parseAppJson: top level", () => {
    test("unknown keys are refused so typos are not dropped", () => {
        throwsInput(
            () => parse(["{", '  "name": "x",', '  "formations": {}', "}"]),
            "formations",
            /^unknown key "formations"; the keys here are name, description, .*formation.*$/,
            "app.json",
            3,
        );
    });

    test("name, description and scripts.postdeploy must be strings", () => {
        throwsInput(() => parse(["{", '  "name": 5', "}"]), "name", /^expected a string, got 5; quote it: "5"$/, "app.json", 2);
        throwsInput(() => parse(["{", '  "description": ["x"]', "}"]), "description", /^expected a string, got \["x"\]$/, "app.json", 2);
        throwsInput(() => parse(["{", '  "scripts": {', '    "postdeploy": true', "  }", "}"]), "scripts.postdeploy", /got true; quote it/, "app.json", 3);
        throwsInput(() => parse(["{", '  "scripts": "npm run seed"', "}"]), "scripts", /^expected an object, e\.g\. \{ "postdeploy"/, "app.json", 2);
    });
});

describe("parseAppJson: env", () => {
    test("unknown generator", () => {
        throwsInput(
            () => parse(["{", '  "env": {', '    "SECRET_KEY": {', '      "generator": "uuid"', "    }", "  }", "}"]),
            "env.SECRET_KEY.generator",
            /^unknown generator "uuid"; the only generator is "secret"$/,
            "app.json",
            4,
        );
    });

    test("bad and reserved names are checked with validateConfigVarName", () => {
        throwsInput(() => parse(["{", '  "env": {', '    "MY-VAR": "x"', "  }", "}"]), "env.MY-VAR", /"MY-VAR" contains "-"/, "app.json", 3);
        throwsInput(() => parse(["{", '  "env": { "PORT": "5000" }', "}"]), "env.PORT", /PORT is reserved/, "app.json", 2);
    });

    test("values must be strings; objects take only Heroku's keys", () => {
        throwsInput(() => parse(["{", '  "env": {', '    "WORKERS": 2', "  }", "}"]), "env.WORKERS", /^expected a string value or \{ value\?, required\?, description\?, generator\? \}, got 2$/, "app.json", 3);
        throwsInput(() => parse(["{", '  "env": {', '    "A": { "value": 2 }', "  }", "}"]), "env.A.value", /^expected a string, got 2; quote it: "2"$/, "app.json", 3);
        throwsInput(() => parse(["{", '  "env": {', '    "A": { "required": "yes" }', "  }", "}"]), "env.A.required", /^expected true or false, got "yes"$/, "app.json", 3);
        throwsInput(
            () => parse(["{", '  "env": {', '    "A": {', '      "default": "x"', "    }", "  }", "}"]),
            "env.A.default",
            /^unknown key "default"; the keys here are value, required, description, generator$/,
            "app.json",
            4,
        );
        throwsInput(() => parse(["{", '  "env": ["A"]', "}"]), "env", /^expected an object of config vars/, "app.json", 2);
    });
});

describe("parseAppJson: formation", () => {
    test("quantity is checked on formation.<type>.quantity with its line", () => {
        throwsInput(
            () => parse(["{", '  "formation": {', '    "web": {', '      "quantity": -1', "    }", "  }", "}"]),
            "formation.web.quantity",
            /^quantity -1 is not valid; use a whole number from 0 to 100$/,
            "app.json",
            4,
        );
    });

    test("size is checked with resolveDynoSize, with its line", () => {
        throwsInput(
            () => parse(["{", '  "formation": {', '    "worker": {', '      "quantity": 1,', '      "size": "standard-9x"', "    }", "  }", "}"]),
            "formation.worker.size",
            /^unknown dyno size "standard-9x"; use one of eco, basic, standard-1x/,
            "app.json",
            5,
        );
        throwsInput(
            () => parse(["{", '  "formation": {', '    "worker": {', '      "size": { "memoryMb": 1 }', "    }", "  }", "}"]),
            "formation.worker.size.memoryMb",
            /out of range/,
            "app.json",
            4,
        );
    });

    test("entries take quantity and size only; type names as in a Procfile", () => {
        throwsInput(
            () => parse(["{", '  "formation": {', '    "web": { "quantity": 1,', '      "count": 2 }', "  }", "}"]),
            "formation.web.count",
            /^unknown key "count"; the keys here are quantity, size$/,
            "app.json",
            4,
        );
        throwsInput(() => parse(["{", '  "formation": {', '    "web.1": {}', "  }", "}"]), "formation.web.1", /process type "web.1" is not valid/, "app.json", 3);
        throwsInput(() => parse(["{", '  "formation": {', '    "web": 2', "  }", "}"]), "formation.web", /^expected \{ "quantity"\?, "size"\? \}, got 2$/, "app.json", 3);
    });
});

describe("parseAppJson: addons", () => {
    test("a plan that could not be an add-on's name is refused on its line", () => {
        throwsInput(
            () => parse(["{", '  "addons": [', '    "heroku-postgresql",', '    "my sql"', "  ]", "}"]),
            "addons[1]",
            /^"my sql" is not an add-on plan name; write a service and an optional tier, e\.g\. "heroku-postgresql:essential-0"; known plans: postgres \(heroku-postgresql\), redis \(heroku-redis\)$/,
            "app.json",
            4,
        );
        throwsInput(
            () => parse(["{", '  "addons": [', "    {", '      "plan": "mongolab:"', "    }", "  ]", "}"]),
            "addons[0].plan",
            /"mongolab:" is not an add-on plan name/,
            "app.json",
            4,
        );
    });

    test("objects: plan required, known keys only, options an object", () => {
        throwsInput(() => parse(["{", '  "addons": [', '    { "as": "DB" }', "  ]", "}"]), "addons[0]", /^add-on has no "plan"; known plans/, "app.json", 3);
        throwsInput(
            () => parse(["{", '  "addons": [', '    { "plan": "redis",', '      "name": "cache" }', "  ]", "}"]),
            "addons[0].name",
            /^unknown key "name"; the keys here are plan, as, options$/,
            "app.json",
            4,
        );
        throwsInput(() => parse(["{", '  "addons": [', '    { "plan": "redis", "options": 1 }', "  ]", "}"]), "addons[0].options", /^expected an object, got 1$/, "app.json", 3);
        throwsInput(() => parse(["{", '  "addons": [', "    7", "  ]", "}"]), "addons[0]", /^expected a plan name or/, "app.json", 3);
        throwsInput(() => parse(["{", '  "addons": "redis"', "}"]), "addons", /^expected an array of add-ons/, "app.json", 2);
    });

    test("`as` must be an upper-case attachment name", () => {
        throwsInput(
            () => parse(["{", '  "addons": [', '    "redis",', "    {", '      "plan": "heroku-redis",', '      "as": "cache"', "    }", "  ]", "}"]),
            "addons[1].as",
            /attachment name "cache" is not valid; use upper-case letters/,
            "app.json",
            6,
        );
        throwsInput(
            () => parse(["{", '  "addons": [', '    { "plan": "postgres", "as": "DATABASE_URL" }', "  ]", "}"]),
            "addons[0].as",
            /ends in _URL/,
            "app.json",
            3,
        );
    });

    test("two add-ons on the same var, and an env var an add-on sets, are refused", () => {
        throwsInput(
            () => parse(["{", '  "addons": [', '    "heroku-postgresql",', '    "postgres"', "  ]", "}"]),
            "addons[1]",
            /^attaches as DATABASE_URL, like addons\[0\]; give one of them another name with "as"/,
            "app.json",
            4,
        );
        throwsInput(
            () => parse(["{", '  "env": {', '    "REDIS_URL": "redis://localhost"', "  },", '  "addons": ["heroku-redis"]', "}"]),
            "env.REDIS_URL",
            /^REDIS_URL is set by the add-on attachment addons\[0\] \(redis\); remove it from env, or attach the add-on under another name with "as"$/,
            "app.json",
            3,
        );
    });
});

describe("mapAddonPlan", () => {
    test("maps Heroku and Dynoform plan names", () => {
        assert.deepEqual(mapAddonPlan("heroku-postgresql", "a"), { plan: "postgres" });
        assert.deepEqual(mapAddonPlan("heroku-postgresql:essential-0", "a"), { plan: "postgres", tier: "essential-0" });
        assert.deepEqual(mapAddonPlan("heroku-redis:mini", "a"), { plan: "redis", tier: "mini" });
        assert.deepEqual(mapAddonPlan("postgres", "a"), { plan: "postgres" });
        assert.deepEqual(mapAddonPlan("postgresql", "a"), { plan: "postgres" });
        assert.deepEqual(mapAddonPlan("redis", "a"), { plan: "redis" });
        assert.deepEqual(mapAddonPlan("Heroku-Redis", "a"), { plan: "redis" });
    });

    test("unknown plans list the known ones, with the file", () => {
        throwsInput(
            () => mapAddonPlan("heroku-kafka", "addons.events", "app.json"),
            "addons.events",
            /^unknown add-on plan "heroku-kafka"; known plans: postgres \(heroku-postgresql\), redis \(heroku-redis\), e\.g\. "heroku-postgresql:essential-0" or "redis"$/,
            "app.json",
        );
        throwsInput(() => mapAddonPlan("", "p"), "p", /unknown add-on plan ""/);
        throwsInput(() => mapAddonPlan(5 as unknown as string, "p"), "p", /^add-on plan 5 is not a string; known plans: postgres/);
    });

    test("a colon needs a tier after it", () => {
        throwsInput(() => mapAddonPlan("heroku-redis:", "p"), "p", /^add-on tier "" in "heroku-redis:" is not valid; write a tier after the colon \(e\.g\. "heroku-redis:essential-0"\) or leave out the colon$/);
        throwsInput(() => mapAddonPlan("redis:mini plan", "p"), "p", /tier "mini plan"/);
    });
});

describe("parseAppJson: properties", () => {
    const name = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).filter((n) => n !== "PORT" && n !== "DYNO");
    const ws = fc.constantFrom("", " ", "\n", "\n  ", "\r\n\t", "\n\n");
    const value = fc.oneof(fc.string(), fc.record({ value: fc.string(), required: fc.boolean() }, { requiredKeys: [] }));

    test("an error in any env var is reported on the line of its key", () => {
        fc.assert(
            fc.property(
                fc.uniqueArray(fc.tuple(name, value), { minLength: 1, maxLength: 12, selector: ([n]) => n }),
                fc.array(fc.tuple(ws, ws, ws), { minLength: 12, maxLength: 12 }),
                fc.nat(),
                fc.constantFrom("generator", "number", "syntax"),
                (vars, spaces, pick, breakage) => {
                    const bad = pick % vars.length;
                    let text = `{${spaces[0][0]}"env":${spaces[0][1]}{`;
                    let badKeyAt = -1;
                    let badValueAt = -1;
                    vars.forEach(([key, v], i) => {
                        const [before, afterKey, afterColon] = spaces[i];
                        text += `${i > 0 ? "," : ""}${before}`;
                        if (i === bad) badKeyAt = text.length;
                        text += `${JSON.stringify(key)}${afterKey}:${afterColon}`;
                        if (i === bad) badValueAt = text.length;
                        if (i !== bad) text += JSON.stringify(v);
                        else if (breakage === "generator") text += '{ "generator": "uuid" }';
                        else if (breakage === "number") text += "42";
                        else text += "@oops";
                    });
                    text += `${spaces[1][2]}}${spaces[2][2]}}`;
                    const lineOf = (at: number) => text.slice(0, at).split("\n").length;
                    const key = vars[bad][0];
                    if (breakage === "syntax") {
                        throwsInput(() => parseAppJson(text), "app.json", /^not valid JSON: Unexpected token '@'/, "app.json", lineOf(badValueAt));
                    } else if (breakage === "generator") {
                        // `"generator"` is on the same line as the value's opening brace.
                        throwsInput(() => parseAppJson(text), `env.${key}.generator`, /unknown generator "uuid"/, "app.json", lineOf(badValueAt));
                    } else {
                        throwsInput(() => parseAppJson(text), `env.${key}`, /got 42$/, "app.json", lineOf(badKeyAt));
                    }
                },
            ),
            { numRuns: 300 },
        );
    });

    test("any well-formed env round-trips, whatever the formatting", () => {
        fc.assert(
            fc.property(
                fc.dictionary(name, value, { maxKeys: 10 }),
                fc.constantFrom(0, 2, 4, "\t"),
                (env, indent) => {
                    const app = parseAppJson(JSON.stringify({ env }, null, indent));
                    const want = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === "string" ? { value: v } : v]));
                    assert.deepEqual(app.env, want);
                },
            ),
            { numRuns: 300 },
        );
    });
});
