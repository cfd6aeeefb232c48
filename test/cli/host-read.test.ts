import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type Docker = require("dockerode");
import { clusterRead, HostRead, roleIn, stackDrift, stackMemory } from "../../cli/host-read";
import { ADDON_LABEL, LABEL } from "../../infra/docker/labels";
import { MIB } from "../../infra/docker/memory";
import { notEnoughMemory } from "../../cli/plan";

const owner = { [LABEL.app]: "tiny", [LABEL.stack]: "dev" };
function container(id: string, state: string, labels: Record<string, string>): Docker.ContainerInfo {
    return { Id: id, State: state, Labels: labels, Names: [`/${id}`] } as unknown as Docker.ContainerInfo;
}
const dyno = (id: string, name: string, state = "running") => container(id, state, { ...owner, [LABEL.dyno]: name, [LABEL.processType]: name.split(".")[0] });
const addon = (id: string, name: string, state = "running") => container(id, state, { ...owner, [ADDON_LABEL]: name, [LABEL.dyno]: `${name}.1` });
const router = (id: string, state = "running") => container(id, state, { ...owner, [LABEL.router]: "true", [LABEL.dyno]: "router.1", [LABEL.processType]: "router" });
const host = (containers: Docker.ContainerInfo[], memoryBytes: Record<string, number> = {}): HostRead => ({ totalBytes: 4096 * MIB, containers, memoryBytes });
const outputs = { dynos: { web: ["web.1", "web.2"] }, addonAttachments: { postgres: "DATABASE_URL" }, url: "http://127.0.0.1:20001", imageDigest: "sha256:abc" };

describe("roleIn", () => {
    test("dynos, add-on servers and the router of this app and stack; nothing of another stack", () => {
        assert.equal(roleIn(dyno("a", "web.1").Labels, "tiny", "dev"), "dyno");
        assert.equal(roleIn(addon("b", "postgres").Labels, "tiny", "dev"), "addon");
        assert.equal(roleIn(router("c").Labels, "tiny", "dev"), "router");
        assert.equal(roleIn(dyno("a", "web.1").Labels, "tiny", "prod"), undefined);
    });
});

describe("stackMemory", () => {
    test("this stack's own dynos do not count (the formation replaces them); its add-ons, router and other apps do", () => {
        const h = host(
            [dyno("a", "web.1"), addon("b", "postgres"), router("c"), container("d", "running", { [LABEL.app]: "other", [LABEL.stack]: "dev" })],
            { a: 1024 * MIB, b: 512 * MIB, c: 64 * MIB, d: 1024 * MIB },
        );
        assert.deepEqual(stackMemory(h, "tiny", "dev", { neededMb: 2048, largestDynoMb: 0 }), { neededMb: 2048, availableMb: 4096 - 512 - 64 - 1024, totalMb: 4096, fits: true });
        assert.equal(stackMemory(h, "tiny", "dev", { neededMb: 2497, largestDynoMb: 0 }).fits, false);
    });
});

describe("stackMemory on a Swarm cluster", () => {
    let ids = 0;
    const node = (gib: number, state = "ready", availability = "active") => ({ ID: `n${++ids}`, Spec: { Availability: availability }, Status: { State: state }, Description: { Resources: { MemoryBytes: gib * 1024 * MIB } } });
    const service = (labels: Record<string, string>, mib: number, mode: object) => ({ ID: `s${++ids}`, Spec: { Labels: labels, Mode: mode, TaskTemplate: { Resources: { Reservations: { MemoryBytes: mib * MIB } } } } });
    const own = (role: string) => ({ ...owner, [LABEL.role]: role });
    // Three nodes of 2 GiB, one of them drained and one down: only the ready, active ones take tasks.
    const nodes = [node(2), node(2), node(2, "ready", "drain"), node(2, "down"), node(2)];
    const services = [
        service(own("dyno"), 512, { Replicated: { Replicas: 4 } }), // this stack's web: the formation replaces it
        service(own("addon"), 512, { Replicated: { Replicas: 1 } }), // its Postgres stays
        service({ [LABEL.app]: "other", [LABEL.stack]: "dev", [LABEL.role]: "dyno" }, 1024, { Replicated: { Replicas: 2 } }),
        service({}, 64, { Global: {} }), // one task per active node
        service({}, 0, { Replicated: {} }), // the registry: no reservation
    ];
    // Where the tasks run: the other stack's two dynos on n1 (the drained n3 and the down n4 are left out), Postgres on n2.
    const [n1, n2, , , n5] = nodes.map((n) => n.ID);
    const [ownWeb, pg, other, global] = services.map((s) => s.ID);
    const tasks = [
        { ServiceID: ownWeb, NodeID: n5, DesiredState: "running" },
        { ServiceID: pg, NodeID: n2, DesiredState: "running" },
        { ServiceID: other, NodeID: n1, DesiredState: "running" },
        { ServiceID: other, NodeID: n1, DesiredState: "running" },
        { ServiceID: other, NodeID: n5, DesiredState: "shutdown" },
        ...[n1, n2, n5].map((NodeID) => ({ ServiceID: global, NodeID, DesiredState: "running" })),
    ];
    test("the memory of the ready, active nodes, less what other stacks' services and this stack's add-ons reserve", () => {
        const read = clusterRead(nodes, services, tasks);
        assert.equal(read.nodes, 3);
        assert.equal(read.totalBytes, 6 * 1024 * MIB);
        const h: HostRead = { ...host([]), cluster: read };
        const free = 6 * 1024 - 512 - 2 * 1024 - 3 * 64;
        // n5 has the most free: 2048 less the global service's 64 (this stack's own dyno there gives way).
        assert.deepEqual(stackMemory(h, "tiny", "dev", { neededMb: 2048, largestDynoMb: 1024 }), { neededMb: 2048, availableMb: free, totalMb: 6 * 1024, fits: true, nodes: 3, largestFreeMb: 2048 - 64, largestDynoMb: 1024 });
        assert.equal(stackMemory(h, "tiny", "dev", { neededMb: free + 1, largestDynoMb: 0 }).fits, false);
    });
    test("a dyno bigger than any one node's free memory does not fit, though the nodes have enough in all", () => {
        const h: HostRead = { ...host([]), cluster: clusterRead(nodes, services, tasks) };
        const m = stackMemory(h, "tiny", "dev", { neededMb: 2048, largestDynoMb: 2048 });
        assert.equal(m.fits, false);
        const plan = [{ type: "web", command: "x", quantity: 1, size: { name: "standard-2x-ish", memoryMb: 2048 } }] as unknown as Parameters<typeof notEnoughMemory>[0];
        assert.equal(
            notEnoughMemory(plan, m),
            "not enough memory on any one node of the cluster: `formation` (web: 1 x standard-2x-ish) has dynos of 2048 MiB, and the most one node has free is 1984 MiB (Swarm places each dyno whole on one node); nothing was changed",
        );
    });
    test("the refusal and the preview name the cluster's nodes, not the manager's host", () => {
        const m = stackMemory({ ...host([]), cluster: clusterRead(nodes, services, tasks) }, "tiny", "dev", { neededMb: 99999, largestDynoMb: 0 });
        const plan = [{ type: "web", command: "x", quantity: 2, size: { name: "performance-l" } }] as unknown as Parameters<typeof notEnoughMemory>[0];
        assert.match(notEnoughMemory(plan, m), /^not enough memory on the cluster's 3 active nodes: `formation` \(web: 2 x performance-l\) needs 99999 MiB, 3392 MiB of 6144 MiB is not reserved by other apps; nothing was changed$/);
    });
});

describe("stackDrift: what the deploy must refresh and heal, from the host read", () => {
    const all = [dyno("a", "web.1"), dyno("b", "web.2"), addon("c", "postgres"), router("d")];
    test("nothing missing or stopped: no drift, so no refresh pass", () => {
        assert.deepEqual(stackDrift({ ...host(all), imagePresent: true }, "tiny", "dev", outputs), []);
    });
    test("a removed dyno, a stopped add-on server, a missing router and a removed image are each named", () => {
        const h = { ...host([dyno("a", "web.1"), addon("c", "postgres", "exited")]), imagePresent: false };
        assert.deepEqual(stackDrift(h, "tiny", "dev", outputs), [
            "dyno web.2 is missing",
            "add-on postgres is exited",
            "the router is missing",
            "image abc is gone",
        ]);
    });
    test("a restarting dyno is not drift (Docker is restarting it); another stack's dyno does not stand in", () => {
        const h = host([dyno("a", "web.1", "restarting"), container("x", "running", { [LABEL.app]: "tiny", [LABEL.stack]: "prod", [LABEL.dyno]: "web.2" }), addon("c", "postgres"), router("d")]);
        assert.deepEqual(stackDrift(h, "tiny", "dev", outputs), ["dyno web.2 is missing"]);
    });
});
