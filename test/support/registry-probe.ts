import type Docker = require("dockerode");
import { demuxLogs } from "../../infra/docker/logs";
import { REGISTRY } from "../../infra/swarm/registry";
import { eventually } from "./poll";
import type { ClusterNode } from "./test-cluster";

// What the Swarm tests ask about images: which image each node's tasks of a service run (the
// reference, the image ID, and the node's repo digests for it: an image copied by `save | load`
// has none, one pulled from the registry has its digest), and the registry's access log.

/** One task's container as its node's engine reports it. */
export interface TaskImage {
    node: string;
    /** The image reference the task was created from (`127.0.0.1:5000/hello@sha256:...`). */
    ref: string;
    /** The image ID on that node: the same bytes everywhere when equal. */
    imageId: string;
    /** That image's repo digests on that node. */
    repoDigests: string[];
}

/** The image of every running container of `service` on every node, in node order. */
export async function taskImages(nodes: ClusterNode[], service: string): Promise<TaskImage[]> {
    const found: TaskImage[] = [];
    for (const node of nodes) {
        const containers = await node.engine.listContainers({ filters: { label: [`com.docker.swarm.service.name=${service}`], status: ["running"] } });
        for (const c of containers) {
            const info = await node.engine.getContainer(c.Id).inspect();
            const image = await node.engine.getImage(info.Image).inspect();
            found.push({ node: node.name, ref: info.Config.Image, imageId: info.Image, repoDigests: image.RepoDigests ?? [] });
        }
    }
    return found;
}

/**
 * The registry's access-log lines (one per request: `"PUT /v2/hello/manifests/id-3f9a HTTP/1.1" 201`)
 * matching `pattern`. After the manager's engine restarted, Swarm starts the registry's task again
 * in its own time: this waits up to a minute for its container to run.
 */
export async function registryRequests(manager: Docker, pattern: RegExp): Promise<string[]> {
    const running = async () => (await manager.listContainers({ filters: { label: [`com.docker.swarm.service.name=${REGISTRY.service}`], status: ["running"] } }))[0];
    let c: Docker.ContainerInfo | undefined;
    await eventually(async () => (c = await running()) !== undefined, 60_000, `a ${REGISTRY.service} container running on the manager`);
    const raw = (await manager.getContainer(c!.Id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return demuxLogs(raw).split("\n").filter((l) => pattern.test(l));
}
