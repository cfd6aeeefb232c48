import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Deployment } from "@pulumi/pulumi/automation";
import { keepDataVolumes, VOLUME_TYPE } from "../../cli/addon-data";
import { ADDON_LABEL } from "../../infra/docker/labels";

const volume = (name: string, labels: Record<string, string>, deleteOnDestroy: boolean) => ({
    type: VOLUME_TYPE,
    urn: `urn:pulumi:dev::hello::dynoform:addon:AddOn$${VOLUME_TYPE}::${name}`,
    inputs: { name, labels, deleteOnDestroy },
    outputs: { name, labels, deleteOnDestroy, mountpoint: "/m" },
});

describe("keepDataVolumes", () => {
    test("clears deleteOnDestroy on add-on data volumes only; the router's config volume still goes", () => {
        const state = {
            version: 3,
            deployment: {
                resources: [
                    volume("hello-postgres-data", { [ADDON_LABEL]: "postgres" }, true),
                    volume("hello-redis-data", { [ADDON_LABEL]: "redis" }, false),
                    volume("hello-router-conf", {}, true),
                    { type: "pulumi-nodejs:dynamic/docker:Network", inputs: { deleteOnDestroy: true }, outputs: {} },
                ],
            },
        } as unknown as Deployment;
        assert.equal(keepDataVolumes(state), true);
        const rs = state.deployment.resources as Array<{ inputs: { deleteOnDestroy?: boolean }; outputs: { deleteOnDestroy?: boolean } }>;
        assert.deepEqual(rs.map((r) => [r.inputs.deleteOnDestroy, r.outputs.deleteOnDestroy]), [
            [false, false],
            [false, false],
            [true, true],
            [true, undefined],
        ]);
        assert.equal(keepDataVolumes(state), false, "nothing left to change: no import needed");
    });

    test("an empty state changes nothing", () => {
        assert.equal(keepDataVolumes({ version: 3, deployment: {} } as Deployment), false);
    });
});
