import assert from "node:assert/strict";
import { after } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Dyno } from "../infra/docker/dyno";
import { LABEL } from "../infra/docker/labels";
import { Network } from "../infra/docker/network";
import type { Stack, UpdateSummary } from "@pulumi/pulumi/automation";
import { containersWith, freePort, httpServerCommand, testProject, TestProject } from "./support/harness";
import { afterLive, beforeLive, testLive } from "./support/engines";

// The foundation end to end: a real `pulumi up` of a program with a dynamic provider, a
// preview that reports no changes, a refresh, and a destroy that leaves no container.
let project: TestProject | undefined;

beforeLive(async () => {
    project = await testProject("smoke");
});
afterLive(async () => {
    await project?.cleanup();
});

testLive("smoke: up, preview with no changes, refresh, destroy on real Pulumi and Docker", async (t) => {
    const p = project!;
    const port = await freePort();
    const program = async () => {
        const network = new Network("smoke-net", { name: `${p.id}-net` });
        const dyno = new Dyno("smoke-web-1", {
            app: "smoke",
            stack: p.id,
            processType: "web",
            index: 1,
            image: p.images.node,
            command: httpServerCommand(),
            env: { PORT: "5000", DYNO: "web.1" },
            port: 5000,
            publish: { hostPort: port },
            memoryMb: 128,
            cpuShares: 1024,
            network: network.name,
        });
        return { url: pulumi.interpolate`http://127.0.0.1:${port}`, container: dyno.containerName };
    };
    const stack = await p.stack(program);

    // The harness's summaries and outputs come from the engine's events (withEngineSummaries); each
    // is compared here with the record `pulumi stack history` keeps of the same run, and the
    // outputs with what `pulumi stack output` reads.
    const up = await stack.up();
    await sameAsHistory(stack, up.summary);
    assert.deepEqual(up.outputs, await stack.outputs(), "the outputs from the engine's events are those `pulumi stack output` reads");
    assert.equal(up.summary.resourceChanges?.create, 3, "stack, network and dyno created");
    const url = up.outputs.url.value as string;
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "web.1 hello");
    assert.equal((await containersWith({ [LABEL.stack]: p.id })).length, 1);

    const preview = await stack.preview();
    assert.deepEqual(preview.changeSummary, { same: 3 }, "preview right after up reports no changes");

    const refresh = await stack.refresh();
    await sameAsHistory(stack, refresh.summary);
    assert.equal(refresh.summary.resourceChanges?.update ?? 0, 0, "refresh found no drift");

    const destroy = await stack.destroy();
    await sameAsHistory(stack, destroy.summary);
    assert.equal((await containersWith({ [LABEL.stack]: p.id })).length, 0, "no container left behind");
});

/** The stack's history has `summary`'s run last: succeeded, of the same kind, with the same resource changes. */
async function sameAsHistory(stack: Stack, summary: UpdateSummary): Promise<void> {
    const recorded = await stack.info();
    assert.ok(recorded, "the history has a record");
    assert.equal(recorded.result, "succeeded");
    assert.equal(recorded.kind, summary.kind);
    assert.deepEqual(summary.resourceChanges, recorded.resourceChanges);
}
