import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import { after, test } from "node:test";
import { describeLive } from "../../support/engines";
import { formSwarm, kernelHasIpvs, swarmNodes } from "../../../infra/swarm/cluster";
import { connectDocker } from "../../../infra/docker/client";
import { recordedBaseImages } from "../../../toolchain/base-image-refs";
import { bridgeOf, labNamespaces } from "../../support/netns-hosts";
import { startTestCluster, TestCluster } from "../../support/test-cluster";

// The test cluster itself (test/support/test-cluster.ts) and formSwarm, on real engines: three
// dockerds in network namespaces formed into one Swarm, started again after a killed run.
let cluster: TestCluster | undefined;


describeLive("a 3-node test Swarm cluster", { concurrency: false }, () => {
    after(async () => {
        await cluster?.teardown();
    });

    test("three nodes with their own names, one manager, all ready, the base image on each with the same ID", async () => {
        const node = recordedBaseImages().node;
        cluster = await startTestCluster(3, [node]);
        const net = cluster.lab.net;
        assert.deepEqual(cluster.swarm.map((n) => [n.hostname, n.address, n.role, n.state]), [
            ["dfsw1", `${net}.11`, "manager", "ready"],
            ["dfsw2", `${net}.12`, "worker", "ready"],
            ["dfsw3", `${net}.13`, "worker", "ready"],
        ]);
        const local = (await connectDocker().getImage(node).inspect()).Id;
        for (const n of cluster.nodes) assert.equal((await n.engine.getImage(node).inspect()).Id, local, n.name);
    });

    test("forming again changes nothing (same node IDs)", async () => {
        const before = cluster!.swarm.map((n) => n.id);
        const again = await formSwarm(cluster!.nodes.map((n) => ({ engine: n.engine, address: n.address })));
        assert.deepEqual(again.map((n) => n.id), before);
    });

    test("this kernel has no IPVS (so services use dnsrr endpoint mode, no routing mesh)", () => {
        assert.equal(kernelHasIpvs(), false);
    });

    test("a run killed with its cluster up (a worker's dockerd SIGKILLed) does not break the next start; teardown leaves nothing", async () => {
        const pid = cluster!.nodes[1].dockerdPid();
        assert.ok(pid);
        process.kill(pid, "SIGKILL");
        // As a new test process would: the earlier cluster is left as it is, and a new one starts.
        cluster = await startTestCluster(3);
        const nodes = await swarmNodes(cluster.manager.engine);
        assert.deepEqual(nodes.map((n) => `${n.hostname} ${n.state}`), ["dfsw1 ready", "dfsw2 ready", "dfsw3 ready"]);
        const lab = cluster.lab;
        await cluster.teardown();
        cluster = undefined;
        assert.deepEqual(labNamespaces(lab), []);
        assert.notEqual(spawnSync("ip", ["link", "show", bridgeOf(lab)]).status, 0, "the bridge is gone");
    });
});
