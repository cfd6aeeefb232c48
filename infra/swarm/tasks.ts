// A service's tasks as the engine reports them: read by the provider and by `ps` (no Pulumi SDK here).

export interface ServiceTask {
    id: string;
    slot: number;
    node: string;
    state: string;
    desired: string;
    /** When the task reached its state (ISO time). */
    since: string;
    error?: string;
}

/** A service's tasks that should run (desired state running), by slot. */
export async function runningTasks(docker: import("dockerode"), serviceId: string): Promise<ServiceTask[]> {
    const nodes = new Map<string, string>();
    for (const n of (await docker.listNodes()) as Array<{ ID: string; Description?: { Hostname?: string } }>) nodes.set(n.ID, n.Description?.Hostname ?? n.ID);
    const tasks = (await docker.listTasks({ filters: { service: [serviceId], "desired-state": ["running"] } })) as Array<{
        ID: string; Slot: number; NodeID: string; DesiredState: string; Status: { State: string; Err?: string; Timestamp: string };
    }>;
    return tasks
        .map((t) => ({ id: t.ID, slot: t.Slot, node: nodes.get(t.NodeID) ?? t.NodeID, state: t.Status.State, desired: t.DesiredState, since: t.Status.Timestamp, error: t.Status.Err }))
        .sort((a, b) => a.slot - b.slot);
}
