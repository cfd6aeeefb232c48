import { connectDocker, DEFAULT_DOCKER_HOST, dockerHostAddress } from "../infra/docker/client";
import { formatNodes, formSwarm, kernelHasIpvs, swarmNodes, swarmState, SwarmNode } from "../infra/swarm/cluster";
import { REGISTRY, startClusterRegistry } from "../infra/swarm/registry";
import { Reporter } from "../toolchain/report";
import { UsageError } from "./errors";

/**
 * `doctor` on a stack with `dynoform:cluster`: forms the cluster when workers are listed (init
 * on the manager if it is in none, join each worker not in it yet; nodes already in it are left
 * alone), or checks that the manager manages one; then reports the nodes and the endpoint mode.
 */
export async function checkCluster(cluster: { manager?: string; workers: string[] }, report: Reporter): Promise<SwarmNode[]> {
    const managerHost = cluster.manager ?? DEFAULT_DOCKER_HOST;
    const manager = connectDocker(managerHost);
    let nodes: SwarmNode[];
    if (cluster.workers.length > 0) {
        const started = Date.now();
        nodes = await formSwarm([managerHost, ...cluster.workers].map((host) => ({ engine: connectDocker(host), address: dockerHostAddress(host) })));
        report(`cluster: ${nodes.length} nodes ready (formed or checked in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } else {
        const own = await swarmState(manager);
        if (own.state !== "active" || !own.manager) {
            throw new UsageError(`dynoform:cluster.manager (${managerHost}) is not a Swarm manager: run \`docker swarm init\` there, or list the cluster's hosts as dynoform:cluster.workers and run doctor again`);
        }
        nodes = await swarmNodes(manager);
        report(`cluster: ${nodes.length} nodes`);
    }
    for (const line of formatNodes(nodes)) report(`  ${line}`);
    report(kernelHasIpvs()
        ? "cluster: this kernel has IPVS; services still use dnsrr endpoint mode (the router resolves tasks.<service>)"
        : "cluster: this kernel has no IPVS: no virtual IPs and no routing mesh, so services use dnsrr endpoint mode");
    const registry = await startClusterRegistry(managerHost, cluster.workers, report);
    report(`cluster: registry ${REGISTRY.service} (${registry.image}) on the manager's node, at 127.0.0.1:${REGISTRY.port} on every node (ready in ${(registry.ms / 1000).toFixed(1)} s)`);
    return nodes;
}
