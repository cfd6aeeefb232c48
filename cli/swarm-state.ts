import { connectDocker } from "../infra/docker/client";
import { LABEL } from "../infra/docker/labels";
import { runningTasks } from "../infra/swarm/tasks";
import { DynoStatus, releasesOf } from "./app-state";
import { AppOutputs } from "./stack-outputs";

/** Heroku's dyno state from a Swarm task's state (`running`, `starting`, `failed`, …). Pure. */
export function taskDynoState(state: string): DynoStatus["state"] {
    if (state === "running") return "up";
    if (["new", "pending", "assigned", "accepted", "ready", "preparing", "starting"].includes(state)) return "starting";
    if (["failed", "rejected", "orphaned"].includes(state)) return "crashed";
    return "stopped";
}

/**
 * The dynos of an app's stack on a Swarm cluster: one per task that should run, read from the
 * manager (DOCKER_HOST), with the node each runs on. `web.3` is the task in slot 3.
 */
export async function swarmDynoStatuses(app: string, stack: string, outputs: AppOutputs): Promise<DynoStatus[]> {
    const docker = connectDocker();
    const services = (await docker.listServices({ filters: { label: [`${LABEL.app}=${app}`, `${LABEL.stack}=${stack}`, `${LABEL.role}=dyno`] } })) as Array<{
        ID: string; Spec: { Labels?: Record<string, string> }; UpdatedAt?: string;
    }>;
    const history = releasesOf(outputs);
    const versionOf = (releaseId: string) => {
        const hit = [...history].reverse().find((r) => r.releaseId === releaseId);
        return hit ? `v${hit.version}` : releaseId || "-";
    };
    const found: DynoStatus[] = [];
    for (const s of services) {
        const labels = s.Spec.Labels ?? {};
        const type = labels[LABEL.processType];
        for (const t of await runningTasks(docker, s.ID)) {
            found.push({
                dyno: `${type}.${t.slot}`,
                type,
                index: t.slot,
                state: taskDynoState(t.state),
                since: t.since,
                size: labels[LABEL.size] || "-",
                release: versionOf(labels[LABEL.release]),
                restarts: 0,
                node: t.node,
                task: t.id,
            });
        }
    }
    return found.sort((a, b) => (a.type === b.type ? a.index - b.index : a.type < b.type ? -1 : 1));
}
