import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { DYNO_SIZES } from "../../components/dyno-size";
import { DynoformInputError } from "../../components/errors";
import {
    diffFormation,
    dynoNames,
    FormationSpec,
    formationMemory,
    FormationState,
    MAX_QUANTITY,
    MAX_TOTAL_QUANTITY,
    PlannedProcess,
    planFormation,
    validateQuantity,
} from "../../components/formation-plan";
import { ProcessType } from "../../components/procfile";

import { throwsInput } from "../support/input-error";

const procfile = (...names: string[]): ProcessType[] => names.map((name, i) => ({ name, command: `run-${name}`, line: i + 1 }));
const std1x = DYNO_SIZES["standard-1x"];
const std2x = DYNO_SIZES["standard-2x"];

describe("planFormation", () => {
    test("Heroku defaults: web 1, others 0, standard-1x; release left out; Procfile order", () => {
        assert.deepEqual(planFormation(procfile("release", "worker", "web", "clock"), undefined), [
            { type: "worker", command: "run-worker", quantity: 0, size: std1x },
            { type: "web", command: "run-web", quantity: 1, size: std1x },
            { type: "clock", command: "run-clock", quantity: 0, size: std1x },
        ]);
    });

    test("requested overrides defaults field by field", () => {
        const defaults: FormationSpec = { web: { quantity: 2, size: "standard-2x" }, worker: { quantity: 1 } };
        const plan = planFormation(procfile("web", "worker"), { web: { quantity: 3 }, worker: { size: "performance-m" } }, defaults);
        assert.deepEqual(plan, [
            { type: "web", command: "run-web", quantity: 3, size: std2x },
            { type: "worker", command: "run-worker", quantity: 1, size: DYNO_SIZES["performance-m"] },
        ]);
    });

    test("web may be scaled to 0 and custom sizes resolve", () => {
        const plan = planFormation(procfile("web"), { web: { quantity: 0, size: { memoryMb: 768 } } });
        assert.deepEqual(plan, [{ type: "web", command: "run-web", quantity: 0, size: { name: "custom-768mb", memoryMb: 768, cpuShares: 1536 } }]);
    });

    test("release at quantity 0 is fine and still left out", () => {
        assert.deepEqual(
            planFormation(procfile("web", "release"), { release: { quantity: 0 } }).map((p) => p.type),
            ["web"],
        );
    });

    test("release above 0 is an error, from requested or defaults", () => {
        throwsInput(
            () => planFormation(procfile("web", "release"), { release: { quantity: 1 } }),
            "formation.release.quantity",
            /release runs once per release before dynos roll and is never a dyno type; set its quantity to 0 or leave it out/,
        );
        throwsInput(() => planFormation(procfile("web", "release"), undefined, { release: { quantity: 2 } }), "formation.release.quantity", /never a dyno type/);
    });

    test("a type not in the Procfile names formation.<type> and lists the Procfile types", () => {
        throwsInput(
            () => planFormation(procfile("web", "worker"), { clock: { quantity: 1 } }),
            "formation.clock",
            /process type "clock" is not in the Procfile; Procfile types are web, worker$/,
        );
        throwsInput(() => planFormation(procfile("web"), undefined, { worker: {} }), "formation.worker", /not in the Procfile; Procfile types are web$/);
    });

    test("inherited object keys are not process types", () => {
        throwsInput(() => planFormation(procfile("web"), { constructor: { quantity: 1 } }), "formation.constructor", /not in the Procfile/);
    });

    test("quantity must be a whole number 0..100, on formation.<type>.quantity", () => {
        for (const bad of [-1, 1.5, 101, NaN, Infinity, "2", null]) {
            throwsInput(
                () => planFormation(procfile("web"), { web: { quantity: bad as number } }),
                "formation.web.quantity",
                /is not valid; use a whole number from 0 to 100$/,
            );
        }
        throwsInput(() => planFormation(procfile("web"), undefined, { web: { quantity: -3 } }), "formation.web.quantity", /quantity -3 is not valid/);
    });

    test("sizes are resolved on formation.<type>.size", () => {
        throwsInput(() => planFormation(procfile("web", "worker"), { worker: { size: "huge" } }), "formation.worker.size", /unknown dyno size "huge"/);
        throwsInput(
            () => planFormation(procfile("web"), { web: { size: { memoryMb: 2 } } }),
            "formation.web.size.memoryMb",
            /out of range/,
        );
    });

    test("the field prefix is configurable", () => {
        throwsInput(() => planFormation(procfile("web"), { web: { quantity: 500 } }, undefined, "scale"), "scale.web.quantity", /500/);
    });

    test("malformed specs and entries are refused", () => {
        throwsInput(() => planFormation(procfile("web"), [] as unknown as FormationSpec), "formation", /requested formation is \[\]; expected an object keyed by process type/);
        throwsInput(() => planFormation(procfile("web"), { web: 3 } as unknown as FormationSpec), "formation.web", /expected \{ quantity\?, size\? \}, got 3/);
        throwsInput(
            () => planFormation(procfile("web"), { web: { qty: 3 } } as unknown as FormationSpec),
            "formation.web.qty",
            /unknown key "qty"; a formation entry has quantity and size/,
        );
    });

    test("more than MAX_TOTAL_QUANTITY dynos in all is refused on `formation`", () => {
        const types = procfile(...Array.from({ length: 6 }, (_, i) => `w${i}`));
        const full = (q: number) => Object.fromEntries(types.map((t) => [t.name, { quantity: q }]));
        assert.equal(MAX_TOTAL_QUANTITY, 500);
        assert.equal(planFormation(types, { ...full(80), w5: { quantity: 100 } }).length, 6);
        throwsInput(
            () => planFormation(types, { ...full(100), w5: { quantity: 1 } }),
            "formation",
            /^501 dynos in all \(w0=100 w1=100 w2=100 w3=100 w4=100 w5=1\); the limit is 500 dynos per app on one host$/,
        );
    });

    test("property: quantities are whole numbers 0..100, release never planned, order kept", () => {
        const names = fc.uniqueArray(fc.constantFrom("web", "worker", "clock", "release", "mailer", "urgent-worker"), { minLength: 1 });
        const entry = fc.record(
            { quantity: fc.integer({ min: 0, max: MAX_QUANTITY }), size: fc.constantFrom(...Object.keys(DYNO_SIZES), "custom-768mb") },
            { requiredKeys: [] },
        );
        const arb = names.chain((types) => {
            const spec = fc
                .subarray(types.filter((t) => t !== "release"))
                .chain((chosen) => fc.tuple(...chosen.map((t) => entry.map((e) => [t, e] as const))))
                .map((pairs) => Object.fromEntries(pairs) as FormationSpec);
            return fc.tuple(fc.constant(types), fc.option(spec, { nil: undefined }), fc.option(spec, { nil: undefined }));
        });
        fc.assert(
            fc.property(arb, ([types, requested, defaults]) => {
                const plan = planFormation(procfile(...types), requested, defaults);
                assert.deepEqual(plan.map((p) => p.type), types.filter((t) => t !== "release"));
                for (const p of plan) {
                    assert.ok(Number.isInteger(p.quantity) && p.quantity >= 0 && p.quantity <= MAX_QUANTITY, `quantity ${p.quantity}`);
                    const want = requested?.[p.type]?.quantity ?? defaults?.[p.type]?.quantity ?? (p.type === "web" ? 1 : 0);
                    assert.equal(p.quantity, want);
                    assert.ok(p.size.memoryMb > 0);
                }
                assert.deepEqual(diffFormation(plan, plan), []);
            }),
            { numRuns: 300 },
        );
    });
});

describe("dynoNames", () => {
    test("web.1 .. web.N", () => {
        assert.deepEqual(dynoNames("web", 3), ["web.1", "web.2", "web.3"]);
        assert.deepEqual(dynoNames("worker", 0), []);
    });

    test("bad quantities are refused", () => {
        throwsInput(() => dynoNames("web", -1), "formation.web.quantity", /quantity -1 is not valid/);
        throwsInput(() => dynoNames("web", 2.5), "formation.web.quantity", /2.5/);
    });
});

describe("validateQuantity", () => {
    test("passes file and line through", () => {
        assert.equal(validateQuantity(100, "q"), 100);
        throwsInput(
            () => validateQuantity(101, "formation.web.quantity", "app.json", 4),
            "formation.web.quantity",
            /^quantity 101 is not valid; use a whole number from 0 to 100$/,
            "app.json",
            4,
        );
    });
});

const state = (quantity: number, size = "standard-1x"): FormationState => ({ quantity, size });

describe("diffFormation", () => {
    test("scale up and down", () => {
        assert.deepEqual(diffFormation({ web: state(2) }, { web: state(4) }), [
            { type: "web", kind: "scale", from: state(2), to: state(4), text: "web: 2 -> 4 (+2)" },
        ]);
        assert.deepEqual(diffFormation({ web: state(4) }, { web: state(2) }).map((c) => c.text), ["web: 4 -> 2 (-2)"]);
    });

    test("resize in place", () => {
        assert.deepEqual(diffFormation({ worker: state(1) }, { worker: state(1, "standard-2x") }), [
            {
                type: "worker",
                kind: "resize",
                from: state(1),
                to: state(1, "standard-2x"),
                text: "worker: standard-1x -> standard-2x (resize in place)",
            },
        ]);
    });

    test("on a Swarm cluster a resize rolls: the preview says Swarm replaces each task, the new one first", () => {
        const [change] = diffFormation({ web: state(2) }, { web: state(3, "standard-2x") }, "cluster");
        assert.equal(change.text, "web: 2 -> 3 (+1), standard-1x -> standard-2x (rolling: Swarm replaces each task, the new one started first)");
        assert.equal(change.kind, "resize");
        assert.equal(diffFormation({ web: state(2) }, { web: state(3) }, "cluster")[0].text, "web: 2 -> 3 (+1)", "a scale is a scale");
    });

    test("scale and resize on one line", () => {
        const [change] = diffFormation({ web: state(2) }, { web: state(3, "standard-2x") });
        assert.equal(change.text, "web: 2 -> 3 (+1), standard-1x -> standard-2x (resize in place)");
        assert.equal(change.kind, "resize");
    });

    test("new and removed types", () => {
        assert.deepEqual(diffFormation({ web: state(1), clock: state(1) }, { web: state(1), worker: state(2, "standard-2x") }), [
            { type: "worker", kind: "add", to: state(2, "standard-2x"), text: "worker: new (2 x standard-2x)" },
            { type: "clock", kind: "remove", from: state(1), text: "clock: removed (was 1 x standard-1x)" },
        ]);
        assert.deepEqual(diffFormation({}, { clock: state(1) }).map((c) => c.text), ["clock: new (1 x standard-1x)"]);
    });

    test("unchanged types give nothing", () => {
        assert.deepEqual(diffFormation({ web: state(2), worker: state(0) }, { worker: state(0), web: state(2) }), []);
    });

    test("accepts plans as well as records, comparing size names", () => {
        const before = planFormation(procfile("web", "worker"), { worker: { quantity: 1 } });
        const after = planFormation(procfile("web", "worker"), { web: { quantity: 2 }, worker: { quantity: 1, size: "Standard-2X" } });
        assert.deepEqual(diffFormation(before, after).map((c) => c.text), [
            "web: 1 -> 2 (+1)",
            "worker: standard-1x -> standard-2x (resize in place)",
        ]);
        assert.deepEqual(diffFormation(before, { web: state(1), worker: state(1) }), []);
    });

    test("order: after's types in order, then removed types in before's order", () => {
        const texts = diffFormation({ a: state(1), b: state(1), c: state(1) }, { d: state(1), c: state(2) }).map((c) => c.type);
        assert.deepEqual(texts, ["d", "c", "a", "b"]);
    });

    test("malformed entries are refused", () => {
        throwsInput(() => diffFormation({ web: state(-1) }, {}), "before.web.quantity", /quantity -1 is not valid; use a whole number of dynos, 0 or more/);
        throwsInput(() => diffFormation({}, { web: { quantity: 1, size: "" } }), "after.web.size", /size "" is not valid/);
        const twice = [...planFormation(procfile("web"), undefined), ...planFormation(procfile("web"), undefined)];
        throwsInput(() => diffFormation(twice, {}), "before.web", /listed twice/);
    });

    test("property: a formation diffed with itself is empty", () => {
        const formation = fc.dictionary(
            fc.stringMatching(/^[a-z][a-z0-9_-]{0,8}$/),
            fc.record({ quantity: fc.integer({ min: 0, max: 100 }), size: fc.constantFrom(...Object.keys(DYNO_SIZES)) }),
        );
        fc.assert(fc.property(formation, (f) => assert.deepEqual(diffFormation(f, { ...f }), [])), { numRuns: 300 });
    });

    test("property: scaling text and sign match the change", () => {
        const q = fc.integer({ min: 0, max: 100 });
        fc.assert(
            fc.property(q, q, fc.constantFrom(...Object.keys(DYNO_SIZES)), (a, b, size) => {
                const changes = diffFormation({ web: state(a, size) }, { web: state(b, size) });
                if (a === b) return assert.deepEqual(changes, []);
                assert.equal(changes.length, 1);
                assert.equal(changes[0].kind, "scale");
                assert.equal(changes[0].text, `web: ${a} -> ${b} (${b > a ? "+" : "-"}${Math.abs(b - a)})`);
                const m = /\(([+-])(\d+)\)$/.exec(changes[0].text);
                assert.ok(m);
                assert.equal(m[1] === "+" ? Number(m[2]) : -Number(m[2]), b - a);
            }),
            { numRuns: 500 },
        );
    });
});

describe("formationMemory", () => {
    test("sums quantity x memory; the biggest dyno leaves out types scaled to 0", () => {
        const plan: PlannedProcess[] = planFormation(procfile("web", "worker", "clock"), {
            web: { quantity: 3 },
            worker: { quantity: 2, size: "performance-m" },
            clock: { quantity: 0, size: "performance-l" },
        });
        assert.deepEqual(formationMemory(plan), { neededMb: 3 * 512 + 2 * 2560, largestDynoMb: 2560 });
        assert.deepEqual(formationMemory([]), { neededMb: 0, largestDynoMb: 0 });
    });
});
