import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { DEFAULT_DYNO_SIZE, DYNO_SIZES, DynoSizeSpec, legacyDynoSize, resolveDynoSize, sizeOfLimits } from "../../components/dyno-size";
import { DynoformInputError } from "../../components/errors";

import { throwsInput } from "../support/input-error";

const KNOWN = ["eco", "basic", "standard-1x", "standard-2x", "performance-m", "performance-l"];

describe("DYNO_SIZES", () => {
    test("has Heroku's sizes with Heroku's memory figures and Docker CPU weights", () => {
        assert.deepEqual(
            Object.values(DYNO_SIZES).map((s) => [s.name, s.memoryMb, s.cpuShares]),
            [
                ["eco", 512, 1024],
                ["basic", 512, 1024],
                ["standard-1x", 512, 1024],
                ["standard-2x", 1024, 2048],
                ["performance-m", 2560, 8192],
                ["performance-l", 14336, 16384],
            ],
        );
        for (const [key, size] of Object.entries(DYNO_SIZES)) assert.equal(key, size.name);
    });

    test("is frozen, entries too", () => {
        assert.ok(Object.isFrozen(DYNO_SIZES));
        for (const size of Object.values(DYNO_SIZES)) assert.ok(Object.isFrozen(size));
    });

    test("the default size is standard-1x and exists", () => {
        assert.equal(DEFAULT_DYNO_SIZE, "standard-1x");
        assert.equal(resolveDynoSize(DEFAULT_DYNO_SIZE, "size").memoryMb, 512);
    });
});

describe("resolveDynoSize: names", () => {
    test("resolves every known name to its entry", () => {
        for (const name of KNOWN) assert.equal(resolveDynoSize(name, "size"), DYNO_SIZES[name]);
    });

    test("is case-insensitive and ignores surrounding whitespace", () => {
        assert.equal(resolveDynoSize("Standard-2X", "size"), DYNO_SIZES["standard-2x"]);
        assert.equal(resolveDynoSize("  PERFORMANCE-L ", "size"), DYNO_SIZES["performance-l"]);
    });

    test("unknown name names the field and lists the known sizes", () => {
        const e = throwsInput(() => resolveDynoSize("standard-3x", "formation.web.size"), "formation.web.size", /unknown dyno size "standard-3x"/);
        for (const name of KNOWN) assert.ok(e.reason.includes(name), `reason lists ${name}: ${e.reason}`);
        assert.match(e.reason, /custom-768mb/);
    });

    test("Heroku's retired names Free and Hobby, any case, are eco and basic", () => {
        assert.equal(resolveDynoSize("Free", "size"), DYNO_SIZES.eco);
        assert.equal(resolveDynoSize(" HOBBY ", "size"), DYNO_SIZES.basic);
        assert.equal(legacyDynoSize("free"), "eco");
        assert.equal(legacyDynoSize("Hobby"), "basic");
        assert.equal(legacyDynoSize("eco"), undefined);
        assert.equal(legacyDynoSize("constructor"), undefined);
        assert.equal(legacyDynoSize({ memoryMb: 512 }), undefined);
    });

    test("inherited object keys are not sizes", () => {
        throwsInput(() => resolveDynoSize("constructor", "size"), "size", /unknown dyno size "constructor"/);
        throwsInput(() => resolveDynoSize("__proto__", "size"), "size", /unknown dyno size "__proto__"/);
    });

    test("non-string, non-object specs are refused with what is expected", () => {
        throwsInput(() => resolveDynoSize(512 as unknown as DynoSizeSpec, "s"), "s", /got 512; use one of eco/);
        throwsInput(() => resolveDynoSize(null as unknown as DynoSizeSpec, "s"), "s", /got null/);
        throwsInput(() => resolveDynoSize([] as unknown as DynoSizeSpec, "s"), "s", /got \[\]/);
    });
});

describe("resolveDynoSize: custom sizes", () => {
    test("custom-768mb: 768 MiB, 1536 CPU shares (1024 per 512 MiB)", () => {
        assert.deepEqual(resolveDynoSize("custom-768mb", "size"), { name: "custom-768mb", memoryMb: 768, cpuShares: 1536 });
    });

    test("custom-2gb, custom-2048mb, CUSTOM-2GB and { memoryMb: 2048 } are the same size", () => {
        const want = { name: "custom-2gb", memoryMb: 2048, cpuShares: 4096 };
        assert.deepEqual(resolveDynoSize("custom-2gb", "size"), want);
        assert.deepEqual(resolveDynoSize("custom-2048mb", "size"), want);
        assert.deepEqual(resolveDynoSize("CUSTOM-2GB", "size"), want);
        assert.deepEqual(resolveDynoSize({ memoryMb: 2048 }, "size"), want);
    });

    test("fractional gigabytes are fine when they make whole MiB", () => {
        assert.deepEqual(resolveDynoSize("custom-1.5gb", "size"), { name: "custom-1536mb", memoryMb: 1536, cpuShares: 3072 });
        throwsInput(() => resolveDynoSize("custom-0.3gb", "size"), "size", /not a whole number of MiB/);
    });

    test("explicit CPU shares are kept and show in the name", () => {
        assert.deepEqual(resolveDynoSize({ memoryMb: 1024, cpuShares: 512 }, "size"), {
            name: "custom-1gb-512shares",
            memoryMb: 1024,
            cpuShares: 512,
        });
        assert.deepEqual(resolveDynoSize("custom-1gb-512shares", "size"), resolveDynoSize({ memoryMb: 1024, cpuShares: 512 }, "size"));
        assert.equal(resolveDynoSize({ memoryMb: 1024, cpuShares: 2048 }, "size").name, "custom-1gb");
    });

    test("CPU shares stay within Docker's range: 12 at 6 MiB, capped at 262144", () => {
        assert.equal(resolveDynoSize("custom-6mb", "size").cpuShares, 12);
        assert.equal(resolveDynoSize("custom-1024gb", "size").cpuShares, 262144);
        assert.equal(resolveDynoSize("custom-1024gb", "size").memoryMb, 1048576);
    });

    test("memory limits: 6..1048576 MiB", () => {
        throwsInput(() => resolveDynoSize("custom-5mb", "formation.web.size"), "formation.web.size", /out of range; custom sizes take 6 to 1048576 MiB/);
        throwsInput(() => resolveDynoSize("custom-1025gb", "size"), "size", /out of range/);
        throwsInput(() => resolveDynoSize({ memoryMb: 0 }, "size"), "size.memoryMb", /memory 0 is out of range/);
        throwsInput(() => resolveDynoSize({ memoryMb: 1048577 }, "size"), "size.memoryMb", /out of range/);
    });

    test("memory must be a whole number", () => {
        throwsInput(() => resolveDynoSize({ memoryMb: 512.5 }, "size"), "size.memoryMb", /memory 512.5 is not a whole number of MiB/);
        throwsInput(() => resolveDynoSize({ memoryMb: NaN }, "size"), "size.memoryMb", /memory NaN is not a whole number/);
        throwsInput(
            () => resolveDynoSize({ memoryMb: "512" as unknown as number }, "size"),
            "size.memoryMb",
            /memory "512" is not a whole number/,
        );
        throwsInput(() => resolveDynoSize("custom-512.5mb", "size"), "size", /"custom-512.5mb" is not a whole number/);
    });

    test("object specs: memoryMb required, unknown keys refused, cpuShares checked", () => {
        throwsInput(() => resolveDynoSize({} as { memoryMb: number }, "size"), "size.memoryMb", /needs memoryMb/);
        throwsInput(
            () => resolveDynoSize({ memory: 512 } as unknown as DynoSizeSpec, "size"),
            "size.memory",
            /unknown key "memory".*memoryMb and cpuShares/,
        );
        throwsInput(() => resolveDynoSize({ memoryMb: 512, cpuShares: 1 }, "size"), "size.cpuShares", /CPU shares 1 is not valid.*2 to 262144/);
        throwsInput(() => resolveDynoSize({ memoryMb: 512, cpuShares: 262145 }, "size"), "size.cpuShares", /not valid/);
        throwsInput(() => resolveDynoSize({ memoryMb: 512, cpuShares: 1.5 }, "size"), "size.cpuShares", /not valid/);
        throwsInput(() => resolveDynoSize("custom-512mb-1shares", "size"), "size", /CPU shares 1 is not valid/);
    });

    test("malformed custom names are unknown sizes", () => {
        for (const bad of ["custom-", "custom-512", "custom-mb", "custom-512kb", "custom--512mb", "custom-512mb-shares"]) {
            throwsInput(() => resolveDynoSize(bad, "size"), "size", /unknown dyno size/);
        }
    });
});

describe("resolveDynoSize: properties", () => {
    test("custom-<n>mb gives n MiB and 2 shares per MiB (capped), and its name resolves to itself", () => {
        fc.assert(
            fc.property(fc.integer({ min: 6, max: 1048576 }), (mb) => {
                const size = resolveDynoSize(`custom-${mb}mb`, "size");
                assert.equal(size.memoryMb, mb);
                assert.equal(size.cpuShares, Math.min(2 * mb, 262144));
                assert.deepEqual(resolveDynoSize(size.name, "size"), size);
                assert.deepEqual(resolveDynoSize({ memoryMb: mb }, "size"), size);
            }),
            { numRuns: 500 },
        );
    });

    test("any valid object spec round-trips through its canonical name", () => {
        fc.assert(
            fc.property(fc.integer({ min: 6, max: 1048576 }), fc.option(fc.integer({ min: 2, max: 262144 })), (memoryMb, shares) => {
                const spec = shares === null ? { memoryMb } : { memoryMb, cpuShares: shares };
                const size = resolveDynoSize(spec, "size");
                assert.equal(size.memoryMb, memoryMb);
                if (shares !== null) assert.equal(size.cpuShares, shares);
                assert.deepEqual(resolveDynoSize(size.name, "size"), size);
            }),
            { numRuns: 500 },
        );
    });

    test("known names resolve in any letter case", () => {
        fc.assert(
            fc.property(fc.constantFrom(...KNOWN), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }), (name, upper) => {
                const mixed = [...name].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("");
                assert.equal(resolveDynoSize(mixed, "size"), DYNO_SIZES[name]);
            }),
        );
    });

    test("out-of-range memory is always refused on the field", () => {
        const outside = fc.oneof(fc.integer({ min: -1e9, max: 5 }), fc.integer({ min: 1048577, max: 1e12 }));
        fc.assert(
            fc.property(outside, (mb) => {
                throwsInput(() => resolveDynoSize({ memoryMb: mb }, "f.size"), "f.size.memoryMb", /out of range/);
            }),
        );
    });
});

describe("sizeOfLimits: a container's size from its limits", () => {
    test("a resized container: the limits win over a stale label", () => {
        assert.equal(sizeOfLimits(1024, 2048, ["standard-1x"]), "standard-2x");
        assert.equal(sizeOfLimits(512, 1024, ["standard-2x", undefined]), "standard-1x");
    });
    test("eco, basic and standard-1x share limits: a matching hint is kept", () => {
        assert.equal(sizeOfLimits(512, 1024, ["eco"]), "eco");
        assert.equal(sizeOfLimits(512, 1024, [undefined, "basic"]), "basic");
        assert.equal(sizeOfLimits(512, 1024), DEFAULT_DYNO_SIZE);
    });
    test("other limits: the canonical custom name", () => {
        assert.equal(sizeOfLimits(128, 256), "custom-128mb");
        assert.equal(sizeOfLimits(768, 4096, ["nonsense"]), "custom-768mb-4096shares");
    });
    test("property: the name resolves back to the same limits", () => {
        fc.assert(
            fc.property(fc.integer({ min: 6, max: 65536 }), fc.integer({ min: 2, max: 262144 }), (memoryMb, cpuShares) => {
                const s = resolveDynoSize(sizeOfLimits(memoryMb, cpuShares), "size");
                return s.memoryMb === memoryMb && s.cpuShares === cpuShares;
            }),
        );
    });
});
