import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
    attachmentVarName,
    dynoEnv,
    MAX_ENV_ENTRY_BYTES,
    MAX_ENV_TOTAL_BYTES,
    parseConfigAssignment,
    validateAttachmentName,
    validateConfigVarName,
    validateConfigVarValue,
    validateEnvSize,
} from "../../components/config-vars";
import { DynoformInputError } from "../../components/errors";

import { throwsInput } from "../support/input-error";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const validName = fc
    .tuple(
        fc.constantFrom(..."ABCXYZabcxyz_"),
        fc.array(fc.constantFrom(..."ABCXYZabcxyz_0189"), { maxLength: 20 }),
    )
    .map(([first, rest]) => first + rest.join(""))
    .filter((n) => n !== "PORT" && n !== "DYNO");

describe("validateConfigVarName", () => {
    test("accepts letters, digits and underscores not starting with a digit", () => {
        for (const name of ["DATABASE_URL", "_PRIVATE", "a", "lower_case", "X9", "A".repeat(256)]) {
            validateConfigVarName(name, `config.${name}`);
        }
    });

    test("refuses a leading digit, with file and line", () => {
        throwsInput(
            () => validateConfigVarName("1PASSWORD", "env.1PASSWORD", "app.json", 7),
            "env.1PASSWORD",
            /"1PASSWORD" starts with the digit "1"; use letters, digits and underscores/,
            "app.json",
            7,
        );
    });

    test("refuses other characters and names the first bad one", () => {
        throwsInput(() => validateConfigVarName("MY-VAR", "config.MY-VAR"), "config.MY-VAR", /"MY-VAR" contains "-"/);
        throwsInput(() => validateConfigVarName("A B", "config.A B"), "config.A B", /contains " "/);
        throwsInput(() => validateConfigVarName("CAFÉ", "config.CAFÉ"), "config.CAFÉ", /contains "É"/);
    });

    test("refuses empty and over-long names", () => {
        throwsInput(() => validateConfigVarName("", "config"), "config", /config var name "" is empty/);
        throwsInput(() => validateConfigVarName("A".repeat(257), "config.A"), "config.A", /257 characters long; the limit is 256/);
    });

    test("PORT and DYNO are reserved, and the error says Dynoform sets them", () => {
        throwsInput(() => validateConfigVarName("PORT", "config.PORT"), "config.PORT", /PORT is reserved: Dynoform sets it for each web dyno/);
        throwsInput(
            () => validateConfigVarName("DYNO", "env.DYNO", "app.json", 3),
            "env.DYNO",
            /DYNO is reserved: Dynoform sets it for each dyno to the dyno's name \(e.g. web.1\)/,
            "app.json",
            3,
        );
    });

    test("__proto__, constructor and the other names every object has are refused (__proto__ was dropped)", () => {
        for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty", "prototype"]) {
            throwsInput(
                () => validateConfigVarName(name, `config.${name}`, "app.json", 3),
                `config.${name}`,
                new RegExp(`^config var name "${name}" is a name every JavaScript object already has, which config tools mishandle; use another name`),
                "app.json",
                3,
            );
        }
        validateConfigVarName("PROTO", "config.PROTO");
        validateConfigVarName("CONSTRUCTOR", "config.CONSTRUCTOR");
    });

    test("reserved names are case-sensitive, like the environment", () => {
        validateConfigVarName("port", "config.port");
        validateConfigVarName("Dyno", "config.Dyno");
    });

    test("property: accepts exactly what the regex accepts, up to 256 characters", () => {
        fc.assert(
            fc.property(fc.oneof(fc.string({ maxLength: 12 }), validName), (name) => {
                if (name in Object.prototype || name === "prototype") {
                    throwsInput(() => validateConfigVarName(name, "f"), "f", /is a name every JavaScript object already has/);
                } else if (name === "PORT" || name === "DYNO") {
                    throwsInput(() => validateConfigVarName(name, "f"), "f", /is reserved: Dynoform sets it/);
                } else if (NAME_RE.test(name)) {
                    validateConfigVarName(name, "f");
                } else {
                    throwsInput(() => validateConfigVarName(name, "f"), "f", /use letters, digits and underscores, not starting with a digit \(e.g. DATABASE_URL\)$/);
                }
            }),
            { numRuns: 1000 },
        );
    });
});

describe("attachment names", () => {
    test("attachmentVarName: DATABASE_URL, REDIS_URL, or <AS>_URL", () => {
        assert.equal(attachmentVarName("postgres"), "DATABASE_URL");
        assert.equal(attachmentVarName("redis"), "REDIS_URL");
        assert.equal(attachmentVarName("postgres", "ANALYTICS_DB"), "ANALYTICS_DB_URL");
        assert.equal(attachmentVarName("redis", "CACHE"), "CACHE_URL");
    });

    test("attachmentVarName refuses a bad `as`", () => {
        throwsInput(() => attachmentVarName("redis", "cache"), "as", /attachment name "cache" is not valid; use upper-case letters/);
    });

    test("validateAttachmentName: upper case, starting with a letter", () => {
        validateAttachmentName("A", "addons[0].as");
        validateAttachmentName("HEROKU_POSTGRESQL_RED2", "addons[0].as");
        for (const bad of ["", "1DB", "_DB", "Db", "DB-2", "DB URL"]) {
            throwsInput(
                () => validateAttachmentName(bad, "addons[2].as", "app.json", 12),
                "addons[2].as",
                /is not valid; use upper-case letters, digits and underscores, starting with a letter/,
                "app.json",
                12,
            );
        }
    });

    test("validateAttachmentName: a name ending in _URL says what to write instead", () => {
        throwsInput(
            () => validateAttachmentName("DATABASE_URL", "addons[0].as"),
            "addons[0].as",
            /ends in _URL, which Dynoform appends itself \(it would become DATABASE_URL_URL\); use "DATABASE" to get DATABASE_URL/,
        );
    });

    test("validateAttachmentName: <AS>_URL must fit in 256 characters", () => {
        validateAttachmentName("A".repeat(252), "as");
        throwsInput(() => validateAttachmentName("A".repeat(253), "as"), "as", /253 characters long; with _URL appended the limit is 256/);
    });
});

describe("dynoEnv", () => {
    test("merges config and attachments, adds DYNO and PORT for web, sorts keys", () => {
        const env = dynoEnv({
            config: { ZED: "z", API_KEY: "k" },
            attachments: { REDIS_URL: "redis://r", DATABASE_URL: "postgres://d" },
            processType: "web",
            index: 2,
            port: 5000,
        });
        assert.deepEqual(env, {
            API_KEY: "k",
            DATABASE_URL: "postgres://d",
            DYNO: "web.2",
            PORT: "5000",
            REDIS_URL: "redis://r",
            ZED: "z",
        });
        assert.deepEqual(Object.keys(env), ["API_KEY", "DATABASE_URL", "DYNO", "PORT", "REDIS_URL", "ZED"]);
    });

    test("no PORT without a port (workers)", () => {
        assert.deepEqual(dynoEnv({ config: { A: "" }, attachments: {}, processType: "worker", index: 1 }), { A: "", DYNO: "worker.1" });
    });

    test("a config var with an attachment's name is an error on config.<NAME>", () => {
        throwsInput(
            () => dynoEnv({ config: { DATABASE_URL: "x" }, attachments: { DATABASE_URL: "postgres://d" }, processType: "web", index: 1 }),
            "config.DATABASE_URL",
            /DATABASE_URL is set by the add-on attachment; remove it from config, or detach the add-on, or attach it under another name with `as`/,
        );
    });

    test("config may not set PORT or DYNO", () => {
        throwsInput(() => dynoEnv({ config: { PORT: "80" }, attachments: {}, processType: "web", index: 1, port: 5000 }), "config.PORT", /reserved/);
        throwsInput(() => dynoEnv({ config: { DYNO: "x" }, attachments: {}, processType: "web", index: 1 }), "config.DYNO", /reserved/);
    });

    test("bad names and values in config are errors on config.<NAME>", () => {
        throwsInput(() => dynoEnv({ config: { "BAD-NAME": "x" }, attachments: {}, processType: "web", index: 1 }), "config.BAD-NAME", /contains "-"/);
        throwsInput(
            () => dynoEnv({ config: { N: 5 as unknown as string }, attachments: {}, processType: "web", index: 1 }),
            "config.N",
            /value is 5; config var values are strings, write "5"/,
        );
        throwsInput(() => dynoEnv({ config: { N: "a\0b" }, attachments: {}, processType: "web", index: 1 }), "config.N", /NUL character/);
    });

    test("a name like __proto__ is refused on config.<NAME> (the stack file and Pulumi config drop it)", () => {
        const config = JSON.parse('{"__proto__": "p", "A": "a"}') as Record<string, string>;
        throwsInput(() => dynoEnv({ config, attachments: {}, processType: "web", index: 1 }), "config.__proto__", /is a name every JavaScript object already has/);
    });

    test("bad dyno identity: processType, index, port", () => {
        throwsInput(() => dynoEnv({ config: {}, attachments: {}, processType: "we b", index: 1 }), "processType", /process type "we b" is not valid/);
        throwsInput(() => dynoEnv({ config: {}, attachments: {}, processType: "web", index: 0 }), "index", /dyno index 0 is not valid; dynos are numbered from 1/);
        throwsInput(() => dynoEnv({ config: {}, attachments: {}, processType: "web", index: 1.5 }), "index", /1.5/);
        throwsInput(() => dynoEnv({ config: {}, attachments: {}, processType: "web", index: 1, port: 70000 }), "port", /port 70000 is not valid; use a whole number from 1 to 65535/);
    });

    test("property: output has every input var plus DYNO (and PORT), keys sorted", () => {
        const vars = fc.dictionary(validName, fc.string(), { maxKeys: 10 });
        fc.assert(
            fc.property(vars, vars, fc.option(fc.integer({ min: 1, max: 65535 })), fc.integer({ min: 1, max: 100 }), (config, attachments, port, index) => {
                for (const name of Object.keys(attachments)) delete config[name];
                const env = dynoEnv({ config, attachments, processType: "web", index, port: port ?? undefined });
                const expected = { ...config, ...attachments, DYNO: `web.${index}`, ...(port === null ? {} : { PORT: String(port) }) };
                assert.deepEqual(env, expected);
                assert.deepEqual(Object.keys(env), Object.keys(env).slice().sort());
            }),
            { numRuns: 300 },
        );
    });
});

describe("parseConfigAssignment", () => {
    test("splits at the first =; values may be empty or contain =", () => {
        assert.deepEqual(parseConfigAssignment("KEY=value"), ["KEY", "value"]);
        assert.deepEqual(parseConfigAssignment("EMPTY="), ["EMPTY", ""]);
        assert.deepEqual(parseConfigAssignment("TOKEN=a=b=="), ["TOKEN", "a=b=="]);
        assert.deepEqual(parseConfigAssignment("SPACED= x "), ["SPACED", " x "]);
    });

    test("no = : says how to write it", () => {
        throwsInput(() => parseConfigAssignment("KEY"), "config", /expected KEY=VALUE, got "KEY"; write e.g. KEY=value \(an empty value is written KEY=\)/);
        throwsInput(() => parseConfigAssignment("a b", "args[1]"), "args[1]", /got "a b"; write e.g. SECRET_KEY=value/);
    });

    test("nothing before =", () => {
        throwsInput(() => parseConfigAssignment("=value"), "config", /nothing before "="; write e.g. SECRET_KEY=value/);
    });

    test("the name is validated on <field>.<NAME>", () => {
        throwsInput(() => parseConfigAssignment("MY-KEY=1"), "config.MY-KEY", /contains "-"/);
        throwsInput(() => parseConfigAssignment("PORT=80"), "config.PORT", /PORT is reserved/);
    });

    test("property: KEY=VALUE round-trips for any valid name and any value", () => {
        fc.assert(
            fc.property(validName, fc.oneof(fc.string(), fc.string({ unit: "grapheme" })), (name, value) => {
                assert.deepEqual(parseConfigAssignment(`${name}=${value}`), [name, value]);
            }),
            { numRuns: 500 },
        );
    });
});

describe("config var values", () => {
    test("a NUL character is refused, naming the key and where it is", () => {
        throwsInput(() => validateConfigVarValue("TOKEN", "ab\0c", "config.TOKEN"), "config.TOKEN", /value of TOKEN contains a NUL character \(at offset 2\)/);
    });

    test("NAME=value up to Linux's 131,071 bytes passes; one byte more is refused; bytes, not characters, count", () => {
        const name = "BLOB";
        const fits = "x".repeat(MAX_ENV_ENTRY_BYTES - name.length - 1);
        assert.equal(validateConfigVarValue(name, fits, "config.BLOB"), fits);
        throwsInput(() => validateConfigVarValue(name, `${fits}x`, "config.BLOB"), "config.BLOB", /131076 bytes|131072 bytes with its name/);
        // "é" is two bytes in UTF-8.
        throwsInput(() => validateConfigVarValue(name, `${fits.slice(1)}éé`.slice(0, fits.length), "config.BLOB"), "config.BLOB", /bytes with its name/);
    });

    test("the whole environment as Docker receives it (JSON) is limited; the largest values are named", () => {
        const env = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`S${i}`, "s".repeat(120_000)]));
        throwsInput(() => validateEnvSize(env, "config"), "config", /the config vars take 1055 KiB .* the limit is 1000 KiB .* largest: S0 117 KiB/);
        validateEnvSize(Object.fromEntries(Object.entries(env).slice(0, 8)), "config");
        // Control characters are escaped in JSON (\u0001: 6 bytes each): counted as sent.
        const escaped = { A: "\u0001".repeat(Math.ceil(MAX_ENV_TOTAL_BYTES / 6) + 10) };
        throwsInput(() => validateEnvSize(escaped, "config"), "config", /the limit is 1000 KiB/);
    });

    test("dynoEnv refuses an environment over the total limit; config:set refuses a NUL", () => {
        const config = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`S${i}`, "s".repeat(120_000)]));
        throwsInput(() => dynoEnv({ config, attachments: {}, processType: "web", index: 1 }), "config", /the limit is 1000 KiB/);
        throwsInput(() => parseConfigAssignment("K=a\0b"), "config.K", /NUL character/);
    });
});
