import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { canonicalJson, changedFields, diffByFields, isUnknown, objectNameFailures, unlessGone } from "../../infra/provider";

// The convention every dynamic provider follows (infra/provider.ts): field-list diffs,
// unknown values skipped in check, 404 = gone on read and delete.

interface Thing {
    host?: string;
    name?: string;
    formerNames?: string[];
    labels?: Record<string, string>;
    memory?: number;
    note?: string;
    bytes?: number;
}

const LISTS = { replace: ["host", "name"], update: ["memory"], meta: ["labels"] } as const;

describe("changedFields", () => {
    test("compares as canonical JSON: key order and undefined fields are no change", () => {
        const olds: Thing = { labels: { a: "1", b: "2" }, host: undefined };
        const news: Thing = { labels: { b: "2", a: "1" } };
        assert.deepEqual(changedFields(olds, news, ["labels", "host"]), []);
        assert.deepEqual(changedFields(olds, { labels: { a: "1" } }, ["labels", "host"]), ["labels"]);
    });

    test("keeps the order of the list it is given, and only its fields", () => {
        assert.deepEqual(changedFields<Thing, keyof Thing>({ note: "a", memory: 1, host: "x" }, { note: "b", memory: 2, host: "y" }, ["memory", "host"]), ["memory", "host"]);
    });

    test("an unset field equals its default; `same` decides a field by its own rule", () => {
        assert.deepEqual(changedFields<Thing, keyof Thing>({}, { bytes: 24 }, ["bytes"], { defaults: { bytes: 24 } }), []);
        assert.deepEqual(changedFields<Thing, keyof Thing>({}, { bytes: 32 }, ["bytes"], { defaults: { bytes: 24 } }), ["bytes"]);
        const former = { same: { name: (o: Partial<Thing>, n: Partial<Thing>) => o.name === n.name || (n.formerNames ?? []).includes(o.name!) } };
        assert.deepEqual(changedFields<Thing, keyof Thing>({ name: "a-b" }, { name: "a.b", formerNames: ["a-b"] }, ["name"], former), []);
        assert.deepEqual(changedFields<Thing, keyof Thing>({ name: "c-d" }, { name: "a.b", formerNames: ["a-b"] }, ["name"], former), ["name"]);
    });
});

describe("diffByFields", () => {
    test("no listed change: changes false, nothing replaced", () => {
        assert.deepEqual(diffByFields<Thing, keyof Thing>({ host: "h", note: "a" }, { host: "h", note: "b" }, LISTS), {
            changes: false,
            replaces: [],
            deleteBeforeReplace: false,
            stables: [],
        });
    });

    test("a replace field replaces; changes is left unknown so the engine names every changed field", () => {
        const d = diffByFields<Thing, keyof Thing>({ host: "h", memory: 1 }, { host: "g", memory: 2 }, LISTS, { deleteBeforeReplace: true });
        assert.equal(d.changes, undefined);
        assert.deepEqual(d.replaces, ["host"]);
        assert.equal(d.deleteBeforeReplace, true);
    });

    test("update and meta fields are an update, never a replacement", () => {
        for (const news of [{ memory: 2 }, { labels: { a: "1" } }] as Thing[]) {
            const d = diffByFields<Thing, keyof Thing>({ memory: 1 }, { memory: 1, ...news }, LISTS, { deleteBeforeReplace: true });
            assert.equal(d.changes, undefined);
            assert.deepEqual(d.replaces, []);
            assert.equal(d.deleteBeforeReplace, false, "nothing is deleted without a replacement");
        }
    });
});

describe("isUnknown", () => {
    test("only the engine's sentinel for a value not known yet", () => {
        assert.equal(isUnknown(pulumi.runtime.unknownValue), true);
        for (const v of [undefined, null, "", 0, "04da6b54-80e4-46f7-96ec-b56ff0331ba9x"]) assert.equal(isUnknown(v), false);
    });

    test("canonicalJson: undefined and null are one value", () => {
        assert.equal(canonicalJson(undefined), canonicalJson(null));
        assert.equal(canonicalJson({ b: [1, { d: 1, c: undefined }], a: 1 }), '{"a":1,"b":[1,{"d":1}]}');
    });
});

describe("unlessGone", () => {
    test("404 from the engine is gone (undefined); the answer otherwise", async () => {
        assert.equal(await unlessGone(() => Promise.reject(Object.assign(new Error("no such network"), { statusCode: 404 }))), undefined);
        assert.equal(await unlessGone(() => Promise.resolve("there")), "there");
    });

    test("any other failure is thrown as it is", async () => {
        const busy = Object.assign(new Error("network has active endpoints"), { statusCode: 403 });
        await assert.rejects(unlessGone(() => Promise.reject(busy)), (e) => e === busy);
        const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
        await assert.rejects(unlessGone(() => Promise.reject(refused)), (e) => e === refused);
    });
});

describe("objectNameFailures", () => {
    test("names Docker accepts pass; a bad one fails on `name`; one not known yet is not judged", () => {
        for (const name of ["hello.dev", "hello-dev.postgres-data", "a_b"]) assert.deepEqual(objectNameFailures(name), []);
        for (const name of ["bad name", "../x", "", 7]) assert.equal(objectNameFailures(name)[0]?.property, "name", String(name));
        assert.deepEqual(objectNameFailures(pulumi.runtime.unknownValue), []);
    });
});
