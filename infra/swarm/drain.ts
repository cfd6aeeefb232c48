import type Docker = require("dockerode");
import { SwarmNode } from "./cluster";

// A node taken out of service and put back (`dynoform nodes:drain` / `nodes:activate`): Swarm
// moves a drained node's tasks to the other nodes itself; this waits until it has, so the verb
// returns when the dynos run elsewhere, not when the node was merely marked.

/** What a node's availability may be set to. */
export type Availability = "active" | "pause" | "drain";

/** The node `name` names: its hostname, else its ID or a unique prefix of it; undefined if none. Pure. */
export function findNode(nodes: SwarmNode[], name: string): SwarmNode | undefined {
    const byName = nodes.filter((n) => n.hostname === name);
    if (byName.length === 1) return byName[0];
    const byId = nodes.filter((n) => n.id === name || (name.length >= 4 && n.id.startsWith(name)));
    return byId.length === 1 ? byId[0] : undefined;
}

/** Sets a node's availability (the rest of its spec kept, at the version read). */
export async function setAvailability(manager: Docker, nodeId: string, availability: Availability): Promise<void> {
    const node = manager.getNode(nodeId);
    const info = (await node.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
    await node.update({ version: info.Version.Index, ...info.Spec, Availability: availability });
}

/** A service as the pinned check reads it. */
export interface PinnedService {
    ID: string;
    Spec?: { Name?: string; TaskTemplate?: { Placement?: { Constraints?: string[] } } };
}

/**
 * The services that cannot leave `node`: a placement constraint ties them to it by ID or
 * hostname (an add-on or the registry, with their volume there). Draining the node stops them
 * until it is active again. Pure.
 */
export function pinnedTo(node: { id: string; hostname: string }, services: PinnedService[]): PinnedService[] {
    const ties = (c: string) => {
        const m = /^node\.(id|hostname)\s*==\s*(\S+)$/.exec(c.trim());
        return m !== null && m[2] === (m[1] === "id" ? node.id : node.hostname);
    };
    return services.filter((s) => (s.Spec?.TaskTemplate?.Placement?.Constraints ?? []).some(ties));
}

/** A task as the drain wait reads it. */
export interface DrainTask {
    service: string;
    node: string;
    /** The state Swarm wants: `running`, `shutdown`, … */
    desired: string;
    /** The state it is in: `running`, `starting`, `shutdown`, … */
    state: string;
}

/** How far a drain of `node` is: tasks still on it, and services (by ID) short of their replicas. Pure. */
export function drainProgress(node: string, tasks: DrainTask[], replicas: Record<string, number>): { onNode: number; short: Array<{ service: string; running: number; wanted: number }> } {
    const live = (t: DrainTask) => t.desired === "running" || t.state === "running";
    const onNode = tasks.filter((t) => t.node === node && live(t)).length;
    const short = Object.entries(replicas)
        .map(([service, wanted]) => ({
            service,
            wanted,
            running: tasks.filter((t) => t.service === service && t.node !== node && t.desired === "running" && t.state === "running").length,
        }))
        .filter((s) => s.running < s.wanted);
    return { onNode, short };
}

/** A service as the drain reads it: its name, placement and replica count. */
export interface DrainService extends PinnedService {
    Spec?: PinnedService["Spec"] & { Mode?: { Replicated?: { Replicas?: number } } };
}

/** The cluster's tasks as the drain reads them. */
export async function drainTasks(manager: Docker): Promise<DrainTask[]> {
    const raw = (await manager.listTasks()) as Array<{ ServiceID: string; NodeID?: string; DesiredState: string; Status: { State: string } }>;
    return raw.map((t) => ({ service: t.ServiceID, node: t.NodeID ?? "", desired: t.DesiredState, state: t.Status.State }));
}

/**
 * The replica counts of the replicated services that have a live task on `node`, leaving out
 * `staying` (services pinned there, which cannot move). Pure.
 */
export function drainReplicas(node: string, tasks: DrainTask[], services: DrainService[], staying: string[] = []): Record<string, number> {
    const onNode = new Set(tasks.filter((t) => t.node === node && (t.desired === "running" || t.state === "running")).map((t) => t.service));
    const replicas: Record<string, number> = {};
    for (const s of services) {
        const wanted = s.Spec?.Mode?.Replicated?.Replicas;
        if (wanted !== undefined && onNode.has(s.ID) && !staying.includes(s.ID)) replicas[s.ID] = wanted;
    }
    return replicas;
}

/**
 * Waits until no task runs or should run on `node` and every replicated service that had one
 * there (`replicas`, read before the drain) runs all its replicas on other nodes.
 */
export async function waitDrained(manager: Docker, node: string, replicas: Record<string, number>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const progress = drainProgress(node, await drainTasks(manager), replicas);
        if (progress.onNode === 0 && progress.short.length === 0) return;
        if (Date.now() > deadline) {
            const short = progress.short.map((s) => `${s.running} of ${s.wanted} tasks of service ${s.service.slice(0, 12)} running elsewhere`);
            throw new Error(`the node was not drained in ${timeoutMs / 1000} s: ${[`${progress.onNode} tasks still on it`, ...short].join("; ")}`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}
