import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import { after, test } from "node:test";
import { describeLive } from "../../support/engines";
import { formSwarm, kernelHasIpvs, swarmNodes } from "../../../infra/swarm/cluster";
import { connectDocker } from "../../../infra/docker/client";
import { demuxLogs } from "../../../infra/docker/logs";
import { ServiceInputs, serviceProvider } from "../../../infra/swarm/service";
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

    test("a web service whose app listens 6 s after it starts: a rolling update stops the old task only once the new one listens", async () => {
        // Without the listen health check Swarm stops the old task as the new one's process
        // starts, and for those 6 s no task accepts connections (swarm-hello's 502s under load).
        const manager = cluster!.manager;
        const network = `dflisten${process.pid}`;
        await manager.engine.createNetwork({ Name: network, Driver: "overlay", Attachable: true, CheckDuplicate: true });
        const app = `setTimeout(() => require("http").createServer((q, s) => s.end("ok")).listen(5000, () => console.log("listening at " + Date.now())), 6000)`;
        const inputs = (generation: string): ServiceInputs => ({
            dockerHost: manager.dockerHost, name: `${network}-web`, image: recordedBaseImages().node, command: `node -e '${app}'`,
            env: { GENERATION: generation }, processType: "web", replicas: 1, memoryMb: 128, cpuShares: 1024, network, labels: {},
            stopGraceSeconds: 5, bootTimeoutSeconds: 60, listening: { port: 5000, probeImage: recordedBaseImages().node },
        });
        // The task's container on its node: the node's engine, the container's ID.
        const containerOf = async (taskId: string) => {
            const [task] = (await manager.engine.listTasks({ filters: { id: [taskId] } })) as any[];
            const hostname = (await manager.engine.getNode(task.NodeID).inspect()).Description.Hostname;
            return cluster!.nodes.find((n) => n.name === hostname)!.engine.getContainer(task.Status.ContainerStatus.ContainerID);
        };
        let id: string | undefined;
        try {
            const created = await serviceProvider.create!(inputs("1"));
            id = created.id;
            const [old] = (await manager.engine.listTasks({ filters: { service: [id], "desired-state": ["running"] } })) as any[];
            const started = Date.now();
            await serviceProvider.update!(id, created.outs!, inputs("2"));
            const tookMs = Date.now() - started;
            const [fresh] = (await manager.engine.listTasks({ filters: { service: [id], "desired-state": ["running"] } })) as any[];
            assert.notEqual(fresh.ID, old.ID, "the update replaced the task");
            const freshLog = demuxLogs((await (await containerOf(fresh.ID)).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer);
            const listeningAt = Number(/listening at (\d+)/.exec(freshLog)?.[1]);
            assert.ok(listeningAt > 0, `the new task logged when it listened: ${JSON.stringify(freshLog)}`);
            const oldState = (await (await containerOf(old.ID)).inspect()).State;
            assert.equal(oldState.Running, false, "the old task has stopped");
            const oldStoppedAt = Date.parse(oldState.FinishedAt);
            assert.ok(oldStoppedAt >= listeningAt,
                `the old task stopped at ${new Date(oldStoppedAt).toISOString()}, ${listeningAt - oldStoppedAt} ms before the new one listened (${new Date(listeningAt).toISOString()})`);
            process.stderr.write(`# rolling update of a web task that listens 6 s after it starts: ${(tookMs / 1000).toFixed(1)} s; the old task stopped ${oldStoppedAt - listeningAt} ms after the new one listened\n`);
        } finally {
            if (id) await serviceProvider.delete!(id, { ...inputs("2"), serviceId: id }).catch(() => undefined);
            // The network goes once the tasks' endpoints have left it.
            for (let attempt = 0; attempt < 50; attempt++) {
                try {
                    await manager.engine.getNetwork(network).remove();
                    break;
                } catch (err) {
                    if ((err as { statusCode?: number }).statusCode === 404) break;
                    await new Promise((r) => setTimeout(r, 200));
                }
            }
        }
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
