import type Docker = require("dockerode");
import { connectDocker } from "../infra/docker/client";
import { LABEL } from "../infra/docker/labels";
import { SwarmNode, swarmNodes } from "../infra/swarm/cluster";
import { findNode } from "../infra/swarm/drain";
import { runningTasks } from "../infra/swarm/tasks";
import { stackCluster } from "./docker-host";
import { UsageError } from "./errors";
import { GlobalOptions } from "./options";

// What `nodes`, `nodes:drain` and `nodes:activate` share: the stack's cluster manager (the
// stack's Docker host, DOCKER_HOST), a node named on the command line, the app's dynos by node.

/** The manager of the stack's cluster; a stack on one Docker host is a usage error. */
export function clusterManager(argv: GlobalOptions, verb: string) {
    if (!stackCluster(argv.cwd, argv.stack)) {
        throw new UsageError(`${verb}: stack ${argv.stack} runs on one Docker host, not a cluster (set \`dynoform:cluster\` in its stack file)`);
    }
    return connectDocker();
}

/** The node `name` names, or a usage error listing the cluster's nodes. */
export function namedNode(nodes: SwarmNode[], name: string, verb: string): SwarmNode {
    const node = findNode(nodes, name);
    if (!node) throw new UsageError(`${verb}: no node \`${name}\` in the cluster; its nodes: ${nodes.map((n) => n.hostname).join(", ")}`);
    return node;
}

/** The app's dynos (`web.3`) that should run, by node hostname. */
export async function dynosByNode(docker: Docker, app: string, stack: string): Promise<Map<string, string[]>> {
    // Dynos only: the router and the add-ons are services of the app too.
    const services = (await docker.listServices({ filters: { label: [`${LABEL.app}=${app}`, `${LABEL.stack}=${stack}`, `${LABEL.role}=dyno`] } })) as Array<{ ID: string; Spec: { Labels?: Record<string, string> } }>;
    const byNode = new Map<string, string[]>();
    for (const s of services) {
        const type = s.Spec.Labels?.[LABEL.processType] ?? "?";
        for (const t of await runningTasks(docker, s.ID)) byNode.set(t.node, [...(byNode.get(t.node) ?? []), `${type}.${t.slot}`]);
    }
    return byNode;
}

/** The cluster's nodes, each with the app's dynos on it. */
export async function nodesWithDynos(docker: Docker, app: string, stack: string): Promise<Array<SwarmNode & { dynos: string[] }>> {
    const byNode = await dynosByNode(docker, app, stack);
    return (await swarmNodes(docker)).map((n) => ({ ...n, dynos: byNode.get(n.hostname) ?? [] }));
}
