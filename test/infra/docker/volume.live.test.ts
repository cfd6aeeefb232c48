import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectDocker } from "../../../infra/docker/client";
import { ownerLabels } from "../../../infra/docker/labels";
import { Volume, volumeProvider } from "../../../infra/docker/volume";
import { testProject, TestProject } from "../../support/harness";
import { removeVolume, runOnce } from "../../support/docker";
import { describeLive } from "../../support/engines";

// The Volume provider on a real Docker engine, through the Pulumi engine (pure parts: volume.test.ts).

let project: TestProject | undefined;
async function volumeExists(name: string): Promise<boolean> {
    return connectDocker()
        .getVolume(name)
        .inspect()
        .then(
            () => true,
            () => false,
        );
}

describeLive("volumes on a real Docker engine", () => {
    before(async () => {
        project = await testProject("volume");
    });
    after(async () => {
        await project?.cleanup();
        if (project) await removeVolume(`${project.id}-data`);
    });

    describe("on a real Docker engine through the Pulumi engine", () => {
        test("kept on destroy by default and adopted with its data; removed once deleteOnDestroy is set", async (t) => {
            const p = project!;
            const name = `${p.id}-data`;
            const labels = { ...ownerLabels("voltest", p.id), "dev.dynoform.addon": "postgres" };
            let deleteOnDestroy: boolean | undefined;
            const program = async () => {
                const v = new Volume("data", { name, labels, deleteOnDestroy });
                return { name: v.name, adopted: v.adopted, mountpoint: v.mountpoint };
            };

            const first = await p.stack(program, `${p.id}-first`);
            const up = await first.up();
            assert.deepEqual(up.summary.resourceChanges, { create: 2 });
            assert.equal(up.outputs.adopted.value, false, "a new volume");
            const info = await connectDocker().getVolume(name).inspect();
            assert.deepEqual(info.Labels, labels);
            assert.equal(up.outputs.mountpoint.value, info.Mountpoint);
            const wrote = await runOnce(p.images.node, "echo precious > /data/row", { binds: [`${name}:/data`] });
            assert.equal(wrote.exitCode, 0, wrote.output);

            const destroy = await first.destroy();
            assert.deepEqual(destroy.summary.resourceChanges, { delete: 2 });
            assert.ok(await volumeExists(name), "destroy kept the volume");

            const second = await p.stack(program, `${p.id}-second`);
            const again = await second.up();
            assert.equal(again.outputs.adopted.value, true, "the next create adopts it");
            assert.equal((await runOnce(p.images.node, "cat /data/row", { binds: [`${name}:/data`] })).output, "precious\n");

            deleteOnDestroy = true;
            const optIn = await second.up();
            assert.deepEqual(optIn.summary.resourceChanges, { same: 1, update: 1 }, "opting in is an update, not a replace");
            assert.ok(await volumeExists(name));
            assert.equal(optIn.outputs.adopted.value, true);
            await second.destroy();
            assert.equal(await volumeExists(name), false, "removed on destroy once deleteOnDestroy was set");
        });

        test("a volume in use cannot be removed: destroy says why and keeps it in state", async (t) => {
            const p = project!;
            const name = `${p.id}-busy`;
            const stack = await p.stack(async () => {
                new Volume("busy", { name, deleteOnDestroy: true });
                return {};
            }, `${p.id}-busy`);
            await stack.up();
            const holder = await connectDocker().createContainer({
                Image: p.images.node,
                Cmd: ["sleep", "1000"],
                HostConfig: { Binds: [`${name}:/data`], NetworkMode: "none" },
            });
            try {
                await assert.rejects(stack.destroy(), /volume is in use|in use/i);
                assert.ok(await volumeExists(name));
            } finally {
                await holder.remove({ force: true });
            }
            const destroy = await stack.destroy();
            assert.equal(destroy.summary.resourceChanges?.delete, 2);
            assert.equal(await volumeExists(name), false);
        });
    });

    describe("volumes of another app are never adopted", () => {
        test("on a real engine: another app's volume under the wanted name is refused, a former name of this app's adopted", async (t) => {
            const p = project!;
            const docker = connectDocker();
            const mine = { ...ownerLabels("mine", p.id), "dev.dynoform.addon": "postgres" };
            const theirs = { ...ownerLabels("mine-x", p.id), "dev.dynoform.addon": "postgres" };
            const names = [`${p.id}-owned-a`, `${p.id}-owned-b`, `${p.id}-owned-c`];
            try {
                await docker.createVolume({ Name: names[0], Labels: theirs });
                await assert.rejects(
                    volumeProvider.create!({ name: names[0], labels: mine }),
                    new RegExp(`^Error: volume ${names[0]} already exists and belongs to app mine-x \\(stack ${p.id}\\), not to app mine \\(stack ${p.id}\\)`),
                );
                assert.deepEqual((await docker.getVolume(names[0]).inspect()).Labels, theirs, "the other app's volume is untouched");

                // A former name that is not this app's is passed over: a new volume is made.
                const fresh = await volumeProvider.create!({ name: names[1], formerNames: [names[0]], labels: mine });
                assert.deepEqual([fresh.id, fresh.outs!.name, fresh.outs!.adopted], [names[1], names[1], false]);
                await docker.getVolume(names[1]).remove();

                // This app's volume under a former name (kept by an earlier destroy) is adopted as it is.
                await docker.createVolume({ Name: names[2], Labels: mine });
                const adopted = await volumeProvider.create!({ name: names[1], formerNames: [names[2]], labels: mine });
                assert.deepEqual([adopted.id, adopted.outs!.name, adopted.outs!.adopted], [names[2], names[2], true]);
                assert.equal(await volumeExists(names[1]), false, "no empty volume was made beside it");
            } finally {
                for (const n of names) await removeVolume(n);
            }
        });
    });
});
