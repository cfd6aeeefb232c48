import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { VolumeOutputs, volumeProvider } from "../../../infra/docker/volume";

describe("volumeProvider.check and diff", () => {
    test("a name Docker accepts", async () => {
        assert.deepEqual((await volumeProvider.check!({} as never, { name: "hello-dev-pg" })).failures, []);
        assert.equal((await volumeProvider.check!({} as never, { name: "../x" })).failures![0].property, "name");
    });
    test("only name and host replace; deleteOnDestroy and labels are recorded in place, the data is never touched", async () => {
        const olds: VolumeOutputs = { name: "v", labels: { a: "1" }, mountpoint: "/m", adopted: false };
        assert.equal((await volumeProvider.diff!("v", olds, { name: "v", labels: { a: "1" }, deleteOnDestroy: false })).changes, false, "unset is false");
        for (const news of [{ name: "v", labels: { a: "2" } }, { name: "v", labels: { a: "1" }, deleteOnDestroy: true }]) {
            const d = await volumeProvider.diff!("v", olds, news);
            assert.equal(d.changes, undefined, "an update the engine names");
            assert.deepEqual(d.replaces, []);
        }
        assert.deepEqual((await volumeProvider.diff!("v", olds, { name: "w" })).replaces, ["name"]);
    });
});

describe("volumes of another app are never adopted; an older deployment keeps its volume's name", () => {
    test("a former name in state is the same volume: no replacement, no change", async () => {
        const olds: VolumeOutputs = { name: "a-b-c-postgres-data", mountpoint: "/m", adopted: false };
        const news = { name: "a.b-c.postgres-data", formerNames: ["a-b-c-postgres-data"] };
        const d = await volumeProvider.diff!("a-b-c-postgres-data", olds, news);
        assert.deepEqual([d.changes, d.replaces], [false, []]);
        const u = await volumeProvider.update!("a-b-c-postgres-data", olds, { ...news, deleteOnDestroy: true });
        assert.equal(u.outs!.name, "a-b-c-postgres-data", "an update keeps the volume's actual name");
    });
});
