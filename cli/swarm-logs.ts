import Docker = require("dockerode");
import { ADDON_LABEL, LABEL } from "../infra/docker/labels";
import { byTime, LogFilter, LogLine, LogLineSplitter, LogSource, matchesFilter, pollUntilStopped } from "./app-logs";

// `logs` on a Swarm cluster: the manager gathers every task's lines from its node (the service
// logs API), `details` names the node, service and task of each line, and the task's slot makes
// the dyno (`web.3`). A line reads `app[web.3]@node2: text`.

/** What Swarm writes before each line with `details=1`: `com.docker.swarm.node.id=…,…task.id=… text`. Pure. */
export function splitDetails(text: string): { node?: string; task?: string; text: string } {
    const m = /^((?:[\w.-]+=[^,\s]*,?)+) (.*)$/s.exec(text);
    if (!m || !m[1].includes("com.docker.swarm.")) return { text };
    const pairs = Object.fromEntries(m[1].split(",").filter(Boolean).map((p) => p.split("=") as [string, string]));
    return { node: pairs["com.docker.swarm.node.id"], task: pairs["com.docker.swarm.task.id"], text: m[2] };
}

/** The source of a service's task line: its role from the service's labels, the task's slot, its node's name. Pure. */
export function swarmLogSource(labels: Record<string, string>, slot: number, node: string, taskId: string): LogSource {
    const processType = labels[LABEL.processType] ?? "unknown";
    const role = labels[LABEL.role];
    const at = `@${node}`;
    if (role === "addon" && labels[ADDON_LABEL]) {
        const addon = labels[ADDON_LABEL];
        return { containerId: taskId, kind: "addon", dyno: addon, processType: addon, label: `addon[${addon}]${at}` };
    }
    if (role === "router") return { containerId: taskId, kind: "dynoform", dyno: "router", processType: "router", label: `dynoform[router]${at}` };
    const dyno = `${processType}.${slot}`;
    return { containerId: taskId, kind: "app", dyno, processType, label: `app[${dyno}]${at}` };
}

interface ServiceInfo {
    ID: string;
    Spec: { Labels?: Record<string, string> };
}

/** Task IDs to slot and node name, read again when a line names a task not seen yet (one started later). */
class TaskNames {
    private tasks = new Map<string, { slot: number; node: string }>();
    private nodes = new Map<string, string>();
    constructor(private readonly docker: Docker) {}

    async of(taskId: string): Promise<{ slot: number; node: string }> {
        if (!this.tasks.has(taskId)) await this.read();
        return this.tasks.get(taskId) ?? { slot: 0, node: "?" };
    }

    private async read(): Promise<void> {
        for (const n of (await this.docker.listNodes()) as Array<{ ID: string; Description?: { Hostname?: string } }>) this.nodes.set(n.ID, n.Description?.Hostname ?? n.ID);
        for (const t of (await this.docker.listTasks()) as Array<{ ID: string; Slot?: number; NodeID?: string }>) {
            this.tasks.set(t.ID, { slot: t.Slot ?? 0, node: this.nodes.get(t.NodeID ?? "") ?? t.NodeID ?? "?" });
        }
    }
}

async function appServices(docker: Docker, app: string, stack: string): Promise<ServiceInfo[]> {
    return (await docker.listServices({ filters: { label: [`${LABEL.app}=${app}`, `${LABEL.stack}=${stack}`] } })) as ServiceInfo[];
}

/** Whether any of a service's dynos can pass the filter (before its lines are read). Pure. */
function serviceMayPass(labels: Record<string, string>, filter: LogFilter): boolean {
    const probe = swarmLogSource(labels, 0, "", "");
    return matchesFilter({ ...probe, dyno: filter.dyno && filter.dyno.startsWith(`${probe.processType}.`) ? filter.dyno : probe.dyno }, filter);
}

/** Reads one service's log stream (or buffer) into lines with their task's source, in order. */
function lineReader(names: TaskNames, labels: Record<string, string>, filter: LogFilter, onLine: (l: LogLine) => void) {
    let chain = Promise.resolve();
    const placeholder = swarmLogSource(labels, 0, "?", "");
    const splitter = new LogLineSplitter(placeholder, false, (raw) => {
        chain = chain.then(async () => {
            const d = splitDetails(raw.text);
            const task = d.task ? await names.of(d.task) : { slot: 0, node: "?" };
            const source = swarmLogSource(labels, task.slot, task.node, d.task ?? "");
            if (matchesFilter(source, filter)) onLine({ ...raw, source, text: d.text });
        });
    });
    return { splitter, settled: () => chain };
}

/** The last `n` lines of the app's services on the cluster, every task's, merged in time order. */
export async function recentSwarmLines(docker: Docker, app: string, stack: string, filter: LogFilter, n: number): Promise<LogLine[]> {
    if (n <= 0) return [];
    const names = new TaskNames(docker);
    const lines: LogLine[] = [];
    for (const s of await appServices(docker, app, stack)) {
        const labels = s.Spec.Labels ?? {};
        if (!serviceMayPass(labels, filter)) continue;
        const reader = lineReader(names, labels, filter, (l) => lines.push(l));
        const buf = (await docker.getService(s.ID).logs({ stdout: true, stderr: true, timestamps: true, details: true, tail: n, follow: false })) as unknown as Buffer;
        reader.splitter.push(Buffer.isBuffer(buf) ? buf : Buffer.from(String(buf)));
        reader.splitter.flush();
        await reader.settled();
    }
    lines.sort(byTime);
    return lines.slice(-n);
}

/**
 * Follows every task of the app's services from `sinceNs` on (Swarm adds the tasks it starts
 * later to a service's stream); services made later are picked up every `pollMs`.
 */
export function followSwarmLogs(o: { docker: Docker; app: string; stack: string; filter: LogFilter; sinceNs: bigint; onLine: (l: LogLine) => void; pollMs?: number }) {
    const names = new TaskNames(o.docker);
    const streams = new Map<string, NodeJS.ReadableStream & { destroy(): void }>();
    const poll = async () => {
        for (const s of await appServices(o.docker, o.app, o.stack)) {
            const labels = s.Spec.Labels ?? {};
            if (streams.has(s.ID) || loop.stopped() || !serviceMayPass(labels, o.filter)) continue;
            const reader = lineReader(names, labels, o.filter, (l) => {
                if (l.ns > o.sinceNs && !loop.stopped()) o.onLine(l);
            });
            const since = Number(o.sinceNs / 1_000_000_000n);
            const stream = (await o.docker.getService(s.ID).logs({ stdout: true, stderr: true, timestamps: true, details: true, since, follow: true })) as unknown as NodeJS.ReadableStream & { destroy(): void };
            streams.set(s.ID, stream);
            stream.on("data", (chunk: Buffer) => reader.splitter.push(chunk));
            stream.on("close", () => streams.delete(s.ID));
        }
    };
    const loop = pollUntilStopped(poll, o.pollMs ?? 2000, () => {
        for (const s of streams.values()) s.destroy();
    });
    return { done: loop.done, stop: loop.stop };
}
