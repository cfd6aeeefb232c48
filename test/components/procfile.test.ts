import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { DynoformInputError } from "../../components/errors";
import { defaultProcessTypes, formatProcfile, MAX_PROCESS_TYPES, parseProcfile } from "../../components/procfile";

import { throwsInput } from "../support/input-error";

/** Procfile errors always carry a file: arguments in (field, file, line, reason) order. */
const throwsAt = (fn: () => unknown, field: string, file: string, line: number | undefined, reason: RegExp) =>
    throwsInput(fn, field, reason, file, line);

describe("parseProcfile", () => {
    test("at most MAX_PROCESS_TYPES (50) types: the 51st is refused on its line", () => {
        const lines = Array.from({ length: 51 }, (_, i) => `p${i + 1}: run ${i + 1}`);
        assert.equal(MAX_PROCESS_TYPES, 50);
        assert.equal(parseProcfile(["# fifty", ...lines.slice(0, 50)].join("\n")).length, 50);
        throwsAt(
            () => parseProcfile(["# fifty-one", ...lines].join("\n"), "app/Procfile"),
            "Procfile.p51",
            "app/Procfile",
            52,
            /^more than 50 process types \(this is the 51st\); the limit is 50 per app: run related commands under one type$/,
        );
    });

    test("reads name: command lines with their line numbers", () => {
        assert.deepEqual(parseProcfile("web: npm start\nworker: node worker.js\n"), [
            { name: "web", command: "npm start", line: 1 },
            { name: "worker", command: "node worker.js", line: 2 },
        ]);
    });

    test("splits at the first colon: commands keep their colons", () => {
        assert.deepEqual(parseProcfile(`web: node -e "a:b"\nclock: sh -c 'echo 12:00'`), [
            { name: "web", command: `node -e "a:b"`, line: 1 },
            { name: "clock", command: "sh -c 'echo 12:00'", line: 2 },
        ]);
    });

    test("trims whitespace around name and command; no space after the colon is fine", () => {
        assert.deepEqual(parseProcfile("  web\t:   npm   start  \nworker:node w.js"), [
            { name: "web", command: "npm   start", line: 1 },
            { name: "worker", command: "node w.js", line: 2 },
        ]);
    });

    test("skips blank lines and comments, counting them in line numbers", () => {
        const text = "# processes\n\n   \n  # indented comment\nweb: npm start # not a comment\n\nrelease: ./migrate\n";
        assert.deepEqual(parseProcfile(text), [
            { name: "web", command: "npm start # not a comment", line: 5 },
            { name: "release", command: "./migrate", line: 7 },
        ]);
    });

    test("accepts CRLF, a missing final newline and a UTF-8 BOM", () => {
        assert.deepEqual(parseProcfile("\uFEFFweb: a\r\n\r\nworker: b"), [
            { name: "web", command: "a", line: 1 },
            { name: "worker", command: "b", line: 3 },
        ]);
    });

    test("names may use letters, digits, _ and -", () => {
        assert.deepEqual(
            parseProcfile("Web_2: a\nworker-high: b\n9: c").map((t) => t.name),
            ["Web_2", "worker-high", "9"],
        );
    });

    test("a line without a colon: names the line and shows its text", () => {
        throwsAt(
            () => parseProcfile("web: npm start\n\nworker node worker.js\n", "apps/api/Procfile"),
            "Procfile line 3",
            "apps/api/Procfile",
            3,
            /expected "name: command", got "worker node worker.js" \(no colon\)/,
        );
    });

    test("a long offending line is shown truncated", () => {
        const long = `x${"y".repeat(200)}`;
        const e = throwsAt(() => parseProcfile(long), "Procfile line 1", "Procfile", 1, /no colon/);
        assert.ok(e.reason.includes(`"x${"y".repeat(59)}…"`), e.reason);
        assert.ok(!e.reason.includes("y".repeat(61)), e.reason);
    });

    test("a line with nothing before the colon", () => {
        throwsAt(() => parseProcfile("web: a\n  : npm start"), "Procfile line 2", "Procfile", 2, /no name before the colon/);
    });

    test("invalid name characters: names the character and what is allowed", () => {
        throwsAt(
            () => parseProcfile("web: a\nwork.er: b"),
            "Procfile line 2",
            "Procfile",
            2,
            /process type name "work.er" contains "\."; names use only letters, digits, "_" and "-"/,
        );
        throwsAt(() => parseProcfile("my web: a"), "Procfile line 1", "Procfile", 1, /"my web" contains " "/);
    });

    test("empty command: names the process type", () => {
        throwsAt(() => parseProcfile("web: a\nworker:   \n"), "Procfile.worker", "Procfile", 2, /"worker" has an empty command.*"worker: npm start"/);
    });

    test("duplicate name: names the second line and the first", () => {
        throwsAt(
            () => parseProcfile("web: a\nworker: b\n\nweb: c\n"),
            "Procfile.web",
            "Procfile",
            4,
            /process type "web" is defined twice, first on line 1/,
        );
    });

    test("names differing only in case are duplicates", () => {
        throwsAt(
            () => parseProcfile("web: a\nWeb: b\n"),
            "Procfile.Web",
            "Procfile",
            2,
            /"Web" \(same as "web" apart from case\) is defined twice, first on line 1/,
        );
    });

    test("reserved names router and run (any case): file, line and why; release is allowed", () => {
        throwsAt(() => parseProcfile("web: a\nrouter: node r.js\n"), "Procfile line 2", "Procfile", 2, /"router" is reserved for the app's HTTP router/);
        throwsAt(() => parseProcfile("Run: x\n"), "Procfile line 1", "Procfile", 1, /"Run" is reserved for one-off dynos/);
        assert.deepEqual(parseProcfile("web: a\nrelease: m\n").map((t) => t.name), ["web", "release"]);
    });

    test("an empty or comment-only Procfile declares no process types (the language default then applies)", () => {
        for (const text of ["", "\n\n", "# nothing yet\r\n", "\uFEFF"]) {
            assert.deepEqual(parseProcfile(text, "Procfile.dev"), []);
        }
    });
});

describe("defaultProcessTypes", () => {
    test("a Dockerfile: web runs the image's CMD (no command), whatever package.json says", () => {
        for (const facts of [{ dockerfile: true }, { dockerfile: true, startScript: "node a.js", serverJs: true }]) {
            const d = defaultProcessTypes(facts);
            assert.deepEqual(d?.types, [{ name: "web", line: 0 }]);
            assert.match(d!.reason, /image's CMD/);
        }
    });
    test("Node.js: web: npm start with a start script or a server.js", () => {
        assert.deepEqual(defaultProcessTypes({ dockerfile: false, startScript: "node index.js" })?.types, [{ name: "web", command: "npm start", line: 0 }]);
        assert.deepEqual(defaultProcessTypes({ dockerfile: false, serverJs: true })?.types, [{ name: "web", command: "npm start", line: 0 }]);
        assert.match(defaultProcessTypes({ dockerfile: false, serverJs: true })!.reason, /server\.js/);
    });
    test("neither: no default", () => {
        assert.equal(defaultProcessTypes({ dockerfile: false }), undefined);
        assert.equal(defaultProcessTypes({ dockerfile: false, startScript: "  " }), undefined);
    });
});

describe("formatProcfile", () => {
    test("writes one name: command per line", () => {
        assert.equal(formatProcfile([{ name: "web", command: "npm start" }, { name: "worker", command: "w" }]), "web: npm start\nworker: w\n");
    });
});

// Generators for the property tests.
const nameChar = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
const validName = fc
    .array(nameChar, { minLength: 1, maxLength: 12 })
    .map((cs) => cs.join(""))
    .filter((n) => !["router", "run"].includes(n.toLowerCase()));
const command = fc
    .oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }))
    .map((s) => s.replace(/[\r\n]/g, " ").trim())
    .filter((s) => s.length > 0);
const processTypes = fc.uniqueArray(fc.record({ name: validName, command }), {
    minLength: 1,
    maxLength: 8,
    selector: (t) => t.name.toLowerCase(),
});
const space = fc.constantFrom("", " ", "  ", "\t", " \t ");
const filler = fc.constantFrom("", "   ", "\t", "# comment", "  # web: not a process", "#");

/** Lays out process types as Procfile text with noise; returns the text and each type's line. */
const layout = (types: { name: string; command: string }[]) =>
    fc
        .record({
            before: fc.array(fc.array(filler, { maxLength: 3 }), { minLength: types.length, maxLength: types.length }),
            pads: fc.array(fc.tuple(space, space, space, space), { minLength: types.length, maxLength: types.length }),
            trailing: fc.array(filler, { maxLength: 3 }),
            eol: fc.constantFrom("\n", "\r\n"),
            finalNewline: fc.boolean(),
            bom: fc.boolean(),
        })
        .map(({ before, pads, trailing, eol, finalNewline, bom }) => {
            const lines: string[] = [];
            const lineOf: number[] = [];
            types.forEach((t, i) => {
                lines.push(...before[i]);
                const [a, b, c, d] = pads[i];
                lines.push(`${a}${t.name}${b}:${c}${t.command}${d}`);
                lineOf.push(lines.length);
            });
            lines.push(...trailing);
            const text = (bom ? "\uFEFF" : "") + lines.join(eol) + (finalNewline ? eol : "");
            return { text, lineOf };
        });

describe("parseProcfile: properties", () => {
    test("any valid set of process types round-trips, through noise and through formatProcfile", () => {
        fc.assert(
            fc.property(
                processTypes.chain((types) => layout(types).map((l) => ({ types, ...l }))),
                ({ types, text, lineOf }) => {
                    const parsed = parseProcfile(text);
                    assert.deepEqual(
                        parsed,
                        types.map((t, i) => ({ name: t.name, command: t.command, line: lineOf[i] })),
                    );
                    assert.deepEqual(
                        parseProcfile(formatProcfile(parsed)),
                        types.map((t, i) => ({ name: t.name, command: t.command, line: i + 1 })),
                    );
                },
            ),
            { numRuns: 300 },
        );
    });

    test("a name with a bad character is rejected on its own line", () => {
        const badChar = fc
            .oneof(fc.string({ minLength: 1, maxLength: 1 }), fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }))
            .filter((c) => !/^[A-Za-z0-9_-]+$/.test(c) && !/[:\r\n]/.test(c));
        fc.assert(
            fc.property(
                processTypes,
                validName,
                badChar,
                validName,
                fc.nat(),
                (types, prefix, bad, suffix, at) => {
                    const lines = formatProcfile(types).split("\n").slice(0, -1);
                    const index = at % (lines.length + 1);
                    lines.splice(index, 0, `${prefix}${bad}${suffix}: run`);
                    const e = throwsAt(
                        () => parseProcfile(lines.join("\n")),
                        `Procfile line ${index + 1}`,
                        "Procfile",
                        index + 1,
                        /names use only letters, digits, "_" and "-"/,
                    );
                    assert.ok(e.reason.includes(JSON.stringify(`${prefix}${bad}${suffix}`)), e.reason);
                },
            ),
            { numRuns: 300 },
        );
    });
});
