import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NetworkOutputs, networkProvider } from "../../../infra/docker/network";

describe("networkProvider.check and diff", () => {
    test("a name Docker accepts", async () => {
        assert.deepEqual((await networkProvider.check!({} as never, { name: "hello-dev" })).failures, []);
        const [failure] = (await networkProvider.check!({} as never, { name: "bad name" })).failures!;
        assert.equal(failure.property, "name");
        assert.match(failure.reason, /`name` must be letters/);
    });
    test("host, name and internal replace the network, old one first (its name is taken)", async () => {
        const olds: NetworkOutputs = { name: "n", labels: { a: "1" }, networkId: "x" };
        assert.equal((await networkProvider.diff!("n", olds, { name: "n", labels: { a: "1" } })).changes, false);
        const d = await networkProvider.diff!("n", olds, { name: "n", labels: { a: "1" }, internal: true });
        assert.deepEqual(d.replaces, ["internal"]);
        assert.equal(d.deleteBeforeReplace, true);
    });
    test("new labels are recorded, the network is kept (Docker cannot relabel one; its containers stay attached)", async () => {
        const olds: NetworkOutputs = { name: "n", labels: { a: "1" }, networkId: "x" };
        const d = await networkProvider.diff!("n", olds, { name: "n", labels: { a: "1", b: "2" } });
        assert.deepEqual([d.changes, d.replaces, d.deleteBeforeReplace], [undefined, [], false]);
        const { outs } = await networkProvider.update!("n", { ...olds, name: "a-b" }, { name: "a.b", formerNames: ["a-b"], labels: { b: "2" } });
        assert.deepEqual(outs, { name: "a-b", formerNames: ["a-b"], labels: { b: "2" }, networkId: "x" });
    });
    test("a network recorded under a former name keeps it: no replacement", async () => {
        const olds: NetworkOutputs = { name: "a-b-c", networkId: "x" };
        const d = await networkProvider.diff!("a-b-c", olds, { name: "a.b-c", formerNames: ["a-b-c"] });
        assert.deepEqual([d.changes, d.replaces], [false, []]);
        assert.deepEqual((await networkProvider.diff!("a-b-c", olds, { name: "a.b-c" })).replaces, ["name"]);
    });
});
