import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { hostMemory, MIB } from "../../../infra/docker/memory";

describe("hostMemory: the one memory rule of the CLI's plan and the dyno provider", () => {
    const total = 1000 * MIB;
    test("running and restarting containers reserve their limit; stopped ones and unlimited ones nothing", () => {
        const m = hostMemory(total, [
            { state: "running", memoryBytes: 300 * MIB },
            { state: "restarting", memoryBytes: 100 * MIB },
            { state: "exited", memoryBytes: 500 * MIB },
            { state: "running", memoryBytes: 0 },
        ], 600 * MIB);
        assert.deepEqual(m, { neededMb: 600, availableMb: 600, totalMb: 1000, fits: true });
    });
    test("memory promised to containers being created counts too; one byte over does not fit", () => {
        assert.equal(hostMemory(total, [{ state: "running", memoryBytes: 300 * MIB }], 600 * MIB, 100 * MIB).fits, true);
        assert.equal(hostMemory(total, [{ state: "running", memoryBytes: 300 * MIB }], 601 * MIB, 100 * MIB).fits, false);
        assert.equal(hostMemory(total, [], total + 1).fits, false);
        assert.equal(hostMemory(total, [], total).fits, true);
    });
    test("an overcommitted host shows 0 MiB available, not a negative figure", () => {
        assert.equal(hostMemory(total, [{ state: "running", memoryBytes: 2 * total }], MIB).availableMb, 0);
    });
});
