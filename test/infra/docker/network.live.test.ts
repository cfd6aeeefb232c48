import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connectDocker } from "../../../infra/docker/client";
import { ownerLabels } from "../../../infra/docker/labels";
import { Network } from "../../../infra/docker/network";
import { testProject, TestProject } from "../../support/harness";
import { engineEvents, removeNetwork } from "../../support/docker";
import { describeLive } from "../../support/engines";

// The Network provider on a real Docker engine, through the Pulumi engine (pure parts: network.test.ts).

let project: TestProject | undefined;
describeLive("on a real Docker engine through the Pulumi engine", () => {
    before(async () => {
        project = await testProject("network");
    });
    after(async () => {
        await project?.cleanup();
        if (project) for (const n of ["app", "internal", "taken"]) await removeNetwork(`${project.id}-${n}`);
    });

    test("created with its labels (and internal when asked), removed on destroy", async (t) => {
        const p = project!;
        const labels = ownerLabels("nettest", p.id);
        const stack = await p.stack(async () => {
            const app = new Network("app-net", { name: `${p.id}-app`, labels });
            const internal = new Network("internal-net", { name: `${p.id}-internal`, labels, internal: true });
            return { app: app.name, appId: app.networkId, internal: internal.name };
        });
        const up = await stack.up();
        assert.deepEqual(up.summary.resourceChanges, { create: 3 });
        assert.equal(up.outputs.app.value, `${p.id}-app`);

        const docker = connectDocker();
        const app = await docker.getNetwork(`${p.id}-app`).inspect();
        assert.equal(app.Id, up.outputs.appId.value);
        assert.equal(app.Driver, "bridge");
        assert.equal(app.Internal, false);
        assert.deepEqual(app.Labels, labels);
        const internal = await docker.getNetwork(`${p.id}-internal`).inspect();
        assert.equal(internal.Internal, true);
        assert.deepEqual(internal.Labels, labels);

        assert.deepEqual((await stack.preview()).changeSummary, { same: 3 });
        const refresh = await stack.refresh();
        assert.equal(refresh.summary.resourceChanges?.update ?? 0, 0);

        const destroy = await stack.destroy();
        assert.deepEqual(destroy.summary.resourceChanges, { delete: 3 });
        const left = await docker.listNetworks({ filters: { label: [`dev.dynoform.stack=${p.id}`] } });
        assert.deepEqual(left.map((n) => n.Name), [], "no network left");
    });

    test("a network name already taken: a clear error, and the other network is left alone", async (t) => {
        const p = project!;
        const name = `${p.id}-taken`;
        const other = await connectDocker().createNetwork({ Name: name, Labels: ownerLabels("other-app", p.id) });
        const stack = await p.stack(async () => {
            new Network("taken-net", { name, labels: ownerLabels("nettest", p.id) });
            return {};
        }, `${p.id}-taken`);
        const ev = engineEvents();
        await assert.rejects(stack.up({ onEvent: ev.onEvent }));
        assert.ok(
            ev.errors().some((m) => m.includes(`network ${name} already exists and belongs to app other-app (stack ${p.id}), not to app nettest (stack ${p.id}): nothing was changed`)),
            JSON.stringify(ev.errors()),
        );
        assert.equal((await connectDocker().getNetwork(name).inspect()).Id, other.id);
    });

    test("a network removed behind Pulumi's back: refresh drops it, up creates it again", async (t) => {
        const p = project!;
        const stack = await p.stack(async () => {
            new Network("app-net", { name: `${p.id}-app` });
            return {};
        }, `${p.id}-gone`);
        await stack.up();
        await connectDocker().getNetwork(`${p.id}-app`).remove();
        const refresh = await stack.refresh();
        assert.equal(refresh.summary.resourceChanges?.delete, 1);
        const up = await stack.up();
        assert.equal(up.summary.resourceChanges?.create, 1);
        assert.ok(await connectDocker().getNetwork(`${p.id}-app`).inspect());
        await stack.destroy();
    });
});
