import assert from "node:assert/strict";
import { test } from "node:test";
import { SwarmNode } from "../../../infra/swarm/cluster";
import { drainProgress, drainReplicas, DrainService, DrainTask, findNode, pinnedTo } from "../../../infra/swarm/drain";

const node = (hostname: string, id: string): SwarmNode => ({ id, hostname, role: "worker", state: "ready", availability: "active", address: "", leader: false });
const NODES = [node("dfsw1", "abc123def456"), node("dfsw2", "abd999000111"), node("dfsw3", "zzz000111222")];

test("findNode: by hostname, by ID or a unique ID prefix of 4 or more; nothing when ambiguous or unknown", () => {
    assert.equal(findNode(NODES, "dfsw2")?.id, "abd999000111");
    assert.equal(findNode(NODES, "zzz000111222")?.hostname, "dfsw3");
    assert.equal(findNode(NODES, "abc1")?.hostname, "dfsw1");
    assert.equal(findNode(NODES, "ab"), undefined, "too short a prefix");
    assert.equal(findNode(NODES, "abd9")?.hostname, "dfsw2");
    assert.equal(findNode([...NODES, node("dfsw4", "abc1ffff")], "abc1"), undefined, "two IDs start so");
    assert.equal(findNode(NODES, "dfsw9"), undefined);
});

const task = (service: string, nodeId: string, desired: string, state: string): DrainTask => ({ service, node: nodeId, desired, state });

test("drainProgress: done only when nothing runs or should run on the node and every service runs all replicas elsewhere", () => {
    const replicas = { web: 3 };
    // Just marked: the node still runs a web task; the others run 2.
    let tasks = [task("web", "n1", "running", "running"), task("web", "n2", "running", "running"), task("web", "n3", "running", "running")];
    assert.deepEqual(drainProgress("n3", tasks, replicas), { onNode: 1, short: [{ service: "web", wanted: 3, running: 2 }] });
    // Its task is told to shut down but still runs; the replacement is starting on n1.
    tasks = [task("web", "n1", "running", "running"), task("web", "n2", "running", "running"), task("web", "n3", "shutdown", "running"), task("web", "n1", "running", "starting")];
    assert.deepEqual(drainProgress("n3", tasks, replicas), { onNode: 1, short: [{ service: "web", wanted: 3, running: 2 }] });
    // The old task stopped, the replacement runs: drained.
    tasks = [task("web", "n1", "running", "running"), task("web", "n2", "running", "running"), task("web", "n3", "shutdown", "shutdown"), task("web", "n1", "running", "running")];
    assert.deepEqual(drainProgress("n3", tasks, replicas), { onNode: 0, short: [] });
    // Stopped on the node, but the replacement has not started: not yet.
    tasks = [task("web", "n1", "running", "running"), task("web", "n2", "running", "running"), task("web", "n3", "shutdown", "shutdown"), task("web", "n1", "running", "pending")];
    assert.deepEqual(drainProgress("n3", tasks, replicas), { onNode: 0, short: [{ service: "web", wanted: 3, running: 2 }] });
});

test("drainProgress: services that had no task on the node are not waited for", () => {
    const tasks = [task("web", "n1", "running", "running"), task("worker", "n2", "running", "pending")];
    assert.deepEqual(drainProgress("n3", tasks, { web: 1 }), { onNode: 0, short: [] });
});

test("pinnedTo: the services a constraint ties to the node by ID or hostname (add-ons, the registry); not others", () => {
    const service = (ID: string, Constraints?: string[]) => ({ ID, Spec: { Name: ID, TaskTemplate: { Placement: Constraints ? { Constraints } : undefined } } });
    const services = [
        service("postgres", ["node.id==abc123"]),
        service("registry", ["node.hostname == mgr"]),
        service("router", ["node.labels.dynoform.ingress==true"]),
        service("web"),
        service("elsewhere", ["node.id==def456"]),
        service("not-here", ["node.id!=abc123"]),
    ];
    assert.deepEqual(pinnedTo({ id: "abc123", hostname: "mgr" }, services).map((s) => s.ID), ["postgres", "registry"]);
    assert.deepEqual(pinnedTo({ id: "zzz", hostname: "worker" }, services), []);
});

test("drainReplicas: the replica counts of replicated services with a live task on the node, less those staying; global services and others left out", () => {
    const svc = (ID: string, replicas?: number): DrainService => ({ ID, Spec: { Name: ID, ...(replicas === undefined ? {} : { Mode: { Replicated: { Replicas: replicas } } }) } });
    const tasks = [
        task("web", "n1", "running", "running"),
        task("worker", "n1", "shutdown", "running"),
        task("postgres", "n1", "running", "running"),
        task("router", "n1", "running", "running"),
        task("clock", "n2", "running", "running"),
        task("old", "n1", "shutdown", "shutdown"),
    ];
    const services = [svc("web", 3), svc("worker", 2), svc("postgres", 1), svc("router"), svc("clock", 1), svc("old", 1)];
    assert.deepEqual(drainReplicas("n1", tasks, services, ["postgres"]), { web: 3, worker: 2 });
    assert.deepEqual(drainReplicas("n1", tasks, services), { web: 3, worker: 2, postgres: 1 });
    assert.deepEqual(drainReplicas("n3", tasks, services), {});
});
