import * as fs from "fs";
import type Docker = require("dockerode");

// A Docker Swarm cluster as Dynoform sees it: formed from engines (init on the first, join the
// others) or found on a manager, and its nodes listed for `doctor` and `ps`.

/** One engine to form a cluster from: its API and the address the other nodes reach it at. */
export interface SwarmMember {
    engine: Docker;
    /** The address advertised to the other nodes (`10.0.0.5`); found by the engine when it has one interface. */
    address?: string;
}

/** A node as `doctor` and `ps` show it. */
export interface SwarmNode {
    id: string;
    hostname: string;
    role: string;
    /** `ready`, `down`, … */
    state: string;
    /** `active`, `pause`, `drain`. */
    availability: string;
    address: string;
    leader: boolean;
}

/** The swarm state of an engine: `inactive`, `active`, `pending`, `error`, `locked`. */
export async function swarmState(engine: Docker): Promise<{ state: string; manager: boolean; nodeId: string }> {
    const info = (await engine.info()) as { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string } };
    return { state: info.Swarm?.LocalNodeState ?? "inactive", manager: Boolean(info.Swarm?.ControlAvailable), nodeId: info.Swarm?.NodeID ?? "" };
}

/**
 * Forms a cluster: `swarm init` on the first member (unless it already manages one), then
 * `swarm join` as a worker for each other member not yet in it. Idempotent: members already in
 * the cluster are left as they are. Resolves to the cluster's nodes once all are ready.
 */
export async function formSwarm(members: SwarmMember[], timeoutMs = 60_000): Promise<SwarmNode[]> {
    const [first, ...others] = members;
    if (!first) throw new Error("a cluster needs at least one host");
    const head = await swarmState(first.engine);
    if (head.state !== "active") {
        await first.engine.swarmInit({ ListenAddr: "0.0.0.0:2377", ...(first.address ? { AdvertiseAddr: first.address } : {}) });
    } else if (!head.manager) {
        throw new Error(`the first host (${first.address ?? "the manager"}) is a worker of another cluster, not a manager: run \`docker swarm leave\` there first`);
    }
    const swarm = (await first.engine.swarmInspect()) as { JoinTokens: { Worker: string } };
    const managerAddr = first.address ?? ((await first.engine.info()) as { Swarm: { NodeAddr: string } }).Swarm.NodeAddr;
    const inCluster = new Set((await swarmNodes(first.engine)).map((n) => n.id));
    for (const m of others) {
        const own = await swarmState(m.engine);
        if (own.state === "active" && inCluster.has(own.nodeId)) continue;
        if (own.state === "active") throw new Error(`a host (${m.address ?? "a worker"}) is in another cluster: run \`docker swarm leave\` there first`);
        await m.engine.swarmJoin({
            ListenAddr: "0.0.0.0:2377",
            ...(m.address ? { AdvertiseAddr: m.address } : {}),
            RemoteAddrs: [`${managerAddr}:2377`],
            JoinToken: swarm.JoinTokens.Worker,
        });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const nodes = await swarmNodes(first.engine);
        if (nodes.length >= members.length && nodes.every((n) => n.state === "ready")) return nodes;
        if (Date.now() > deadline) {
            throw new Error(`the cluster's nodes did not all become ready in ${timeoutMs / 1000} s: ${nodes.map((n) => `${n.hostname} ${n.state}`).join(", ")}`);
        }
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** The nodes of the cluster `manager` manages, in hostname order. */
export async function swarmNodes(manager: Docker): Promise<SwarmNode[]> {
    const nodes = (await manager.listNodes()) as Array<{
        ID: string;
        Description?: { Hostname?: string };
        Spec?: { Role?: string; Availability?: string };
        Status?: { State?: string; Addr?: string };
        ManagerStatus?: { Leader?: boolean; Addr?: string };
    }>;
    return nodes
        .map((n) => ({
            id: n.ID,
            hostname: n.Description?.Hostname ?? n.ID.slice(0, 12),
            role: n.Spec?.Role ?? "worker",
            state: n.Status?.State ?? "unknown",
            availability: n.Spec?.Availability ?? "active",
            address: n.Status?.Addr ?? "",
            leader: Boolean(n.ManagerStatus?.Leader),
        }))
        .sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : a.id < b.id ? -1 : 1));
}

/** One line per node, as `doctor` prints them. Pure. */
export function formatNodes(nodes: SwarmNode[]): string[] {
    return nodes.map((n) => `${n.hostname} ${n.address} ${n.role}${n.leader ? " (leader)" : ""} ${n.state} ${n.availability}`);
}

/**
 * Whether this machine's kernel has IPVS, which Swarm's virtual IPs and routing mesh need.
 * Without it services must use `dnsrr` endpoint mode and publish ports in host mode.
 */
export function kernelHasIpvs(procRoot = "/proc"): boolean {
    return fs.existsSync(`${procRoot}/net/ip_vs`);
}
