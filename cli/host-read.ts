import type Docker = require("dockerode");
import type { FormationMemory } from "../components/formation-plan";
import { connectDocker } from "../infra/docker/client";
import { ADDON_LABEL, containerRole, LABEL } from "../infra/docker/labels";
import { ContainerMemory, hostMemory, HostMemory, MIB } from "../infra/docker/memory";
import type { AppOutputs } from "./stack-outputs";

/**
 * One read of the Docker host per command: the plan, the memory check, the router-port check
 * and the drift check all look at this, instead of listing the containers each.
 */
export interface HostRead {
    totalBytes: number;
    /** Every container, stopped ones too, as `docker ps -a` lists them. */
    containers: Docker.ContainerInfo[];
    /** Memory limit by container ID, for the running and restarting ones (what the memory rule counts). */
    memoryBytes: Record<string, number>;
    /** Whether the image the stack's dynos run is still on the host (undefined: not asked; the plan asks). */
    imagePresent?: boolean;
    /** On a Swarm cluster (the host is its manager): the memory of the nodes that take tasks, and what each service reserves. */
    cluster?: ClusterRead;
}

/** A Swarm cluster's memory as the manager reports it: Swarm places a task only where its reservation fits. */
export interface ClusterRead {
    /** Nodes that are ready and active (a drained or down node takes no task). */
    nodes: number;
    totalBytes: number;
    /** Each service's labels, and the memory its tasks reserve in all (replicas x reservation) and on each node (by node ID). */
    services: Array<{ labels: Record<string, string>; reservedBytes: number; onNode: Record<string, number> }>;
    /** Memory of each node that takes tasks, by node ID. */
    nodeBytes: Record<string, number>;
}

/**
 * Reads the host once: its memory, every container, the limits of those that reserve memory; on
 * a cluster (`cluster`: the host is its manager) also the nodes' memory and the services' reservations.
 */
export async function readHost(cluster = false): Promise<HostRead> {
    const docker = connectDocker();
    const [info, containers] = await Promise.all([docker.info() as Promise<{ MemTotal: number }>, docker.listContainers({ all: true })]);
    const memoryBytes: Record<string, number> = {};
    await Promise.all(
        containers
            .filter((c) => c.State === "running" || c.State === "restarting")
            .map(async (c) => {
                const inspect = await docker.getContainer(c.Id).inspect().catch(() => undefined);
                if (inspect) memoryBytes[c.Id] = inspect.HostConfig?.Memory ?? 0;
            }),
    );
    const read: HostRead = { totalBytes: info.MemTotal, containers, memoryBytes };
    if (cluster) {
        const [nodes, services, tasks] = await Promise.all([docker.listNodes(), docker.listServices(), docker.listTasks({ filters: { "desired-state": ["running"] } })]);
        read.cluster = clusterRead(nodes as SwarmNodeInfo[], services as SwarmServiceInfo[], tasks as SwarmTaskInfo[]);
    }
    return read;
}

type SwarmNodeInfo = { ID: string; Spec?: { Availability?: string }; Status?: { State?: string }; Description?: { Resources?: { MemoryBytes?: number } } };
type SwarmTaskInfo = { ServiceID: string; NodeID?: string; DesiredState?: string };
type SwarmServiceInfo = {
    ID: string;
    Spec?: {
        Labels?: Record<string, string>;
        Mode?: { Replicated?: { Replicas?: number }; Global?: object };
        TaskTemplate?: { Resources?: { Reservations?: { MemoryBytes?: number } } };
    };
};

/**
 * The cluster's memory from the manager's node, service and task lists: the nodes that take tasks
 * (ready, active), and per service its reservation times its tasks (a global service has one per
 * such node), in all and on each node where its tasks are placed. Pure.
 */
export function clusterRead(nodes: SwarmNodeInfo[], services: SwarmServiceInfo[], tasks: SwarmTaskInfo[] = []): ClusterRead {
    const usable = nodes.filter((n) => n.Status?.State === "ready" && (n.Spec?.Availability ?? "active") === "active");
    return {
        nodes: usable.length,
        totalBytes: usable.reduce((sum, n) => sum + (n.Description?.Resources?.MemoryBytes ?? 0), 0),
        nodeBytes: Object.fromEntries(usable.map((n) => [n.ID, n.Description?.Resources?.MemoryBytes ?? 0])),
        services: services.map((s) => {
            const mode = s.Spec?.Mode ?? {};
            const count = mode.Global ? usable.length : (mode.Replicated?.Replicas ?? 1);
            const each = s.Spec?.TaskTemplate?.Resources?.Reservations?.MemoryBytes ?? 0;
            const onNode: Record<string, number> = {};
            for (const t of tasks) {
                if (t.ServiceID === s.ID && t.NodeID && (t.DesiredState ?? "running") === "running") onNode[t.NodeID] = (onNode[t.NodeID] ?? 0) + each;
            }
            return { labels: s.Spec?.Labels ?? {}, reservedBytes: count * each, onNode };
        }),
    };
}

/** Whose a container is, by its labels: a dyno of the formation, an add-on server, the router, or none of this stack's. */
export function roleIn(labels: Record<string, string>, app: string, stack: string): "dyno" | "addon" | "router" | undefined {
    if (labels[LABEL.app] !== app || labels[LABEL.stack] !== stack) return undefined;
    const role = containerRole(labels);
    if (role === "addon" || role === "router") return role;
    // A dyno is labelled role=dyno; a container labelled only with its dyno name counts too.
    return (role === "dyno" || role === undefined) && labels[LABEL.dyno] ? "dyno" : undefined;
}

/**
 * The plan's formation against the host's memory, by the provider's rule ({@link hostMemory}):
 * this stack's own dynos do not count, as the formation takes their place. Pure.
 */
export function stackMemory(host: HostRead, app: string, stack: string, { neededMb, largestDynoMb }: FormationMemory): HostMemory {
    if (host.cluster) {
        // This stack's dyno services give way to the formation; its add-ons and router stay.
        const { cluster } = host;
        const ownDynos = (l: Record<string, string>) => l[LABEL.app] === app && l[LABEL.stack] === stack && l[LABEL.role] === "dyno";
        const staying = cluster.services.filter((s) => !ownDynos(s.labels));
        const all = hostMemory(cluster.totalBytes, staying.map((s) => ({ state: "running", memoryBytes: s.reservedBytes })), neededMb * MIB);
        // Swarm places a task whole on one node: the biggest dyno must fit where the most is free.
        const free = Object.entries(cluster.nodeBytes).map(([id, bytes]) => bytes - staying.reduce((sum, s) => sum + (s.onNode[id] ?? 0), 0));
        const largestFreeMb = Math.max(0, Math.floor(Math.max(0, ...free) / MIB));
        return { ...all, fits: all.fits && largestDynoMb <= largestFreeMb, nodes: cluster.nodes, largestFreeMb, largestDynoMb };
    }
    const others: ContainerMemory[] = host.containers
        .filter((c) => roleIn(c.Labels ?? {}, app, stack) !== "dyno")
        .map((c) => ({ state: c.State, memoryBytes: host.memoryBytes[c.Id] ?? 0 }));
    return hostMemory(host.totalBytes, others, neededMb * MIB);
}

/**
 * What of the last deployment is not as it was left, seen in the host read: a dyno, add-on
 * server or router container missing or not running, or the image gone. Empty when nothing
 * drifted, so the deploy needs no refresh pass. Pure.
 */
export function stackDrift(host: HostRead, app: string, stack: string, outputs: AppOutputs): string[] {
    const ours = host.containers.flatMap((c) => {
        const role = roleIn(c.Labels ?? {}, app, stack);
        return role ? [{ role, c }] : [];
    });
    const find = (pick: (labels: Record<string, string>, role: string) => boolean) =>
        ours.filter(({ role, c }) => pick(c.Labels, role)).map(({ c }) => c);
    const wanted: Array<{ what: string; found: Docker.ContainerInfo[] }> = [
        ...Object.values(outputs.dynos ?? {}).flat().map((dyno) => ({ what: `dyno ${dyno}`, found: find((l, r) => r === "dyno" && l[LABEL.dyno] === dyno) })),
        ...Object.keys(outputs.addonAttachments ?? {}).map((name) => ({ what: `add-on ${name}`, found: find((l, r) => r === "addon" && l[ADDON_LABEL] === name) })),
        ...(outputs.url ? [{ what: "the router", found: find((_, r) => r === "router") }] : []),
    ];
    const drift: string[] = [];
    for (const { what, found } of wanted) {
        if (found.length === 0) drift.push(`${what} is missing`);
        else if (!found.some((c) => c.State === "running" || c.State === "restarting")) drift.push(`${what} is ${found[0].State}`);
    }
    if (outputs.imageDigest && host.imagePresent === false) drift.push(`image ${outputs.imageDigest.replace(/^sha256:/, "").slice(0, 12)} is gone`);
    return drift;
}
