import { isNotFound } from "../docker/client";

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

/**
 * The image a task template names for `image`: a local image (a base image, built or copied onto
 * the manager by ID) by its ID, so Swarm starts the tasks without pulling it first. Swarm pulls an
 * image named by a tag before every task start and goes on with the local copy when that fails;
 * with no registry in reach it waited out a DNS timeout each time (10 s per task start on the test
 * cluster, the router's and each add-on's). A registry digest (`127.0.0.1:5000/app@sha256:…`),
 * an ID, or an image the manager does not have stays as it is. The ID is the manager's: where a
 * task may land elsewhere (the registry's forwarder, on every node) the image was copied by ID.
 */
export async function taskImage(docker: import("dockerode"), image: string): Promise<string> {
    if (image.includes("@") || /^sha256:[0-9a-f]{64}$/.test(image)) return image;
    try {
        return (await docker.getImage(image).inspect()).Id;
    } catch (err) {
        if (isNotFound(err)) return image;
        throw err;
    }
}

/** A service's tasks that should run (desired state running), by slot. */
export async function runningTasks(docker: import("dockerode"), serviceId: string): Promise<ServiceTask[]> {
    return serviceTasks(docker, serviceId, ["running"]);
}

/**
 * A service's tasks, by slot: those whose desired state is one of `desired`, or all that the
 * engine still keeps (its task history included) when `desired` is absent.
 */
export async function serviceTasks(docker: import("dockerode"), serviceId: string, desired?: string[]): Promise<ServiceTask[]> {
    const nodes = new Map<string, string>();
    for (const n of (await docker.listNodes()) as Array<{ ID: string; Description?: { Hostname?: string } }>) nodes.set(n.ID, n.Description?.Hostname ?? n.ID);
    const filters: Record<string, string[]> = { service: [serviceId], ...(desired ? { "desired-state": desired } : {}) };
    const tasks = (await docker.listTasks({ filters })) as Array<{
        ID: string; Slot: number; NodeID: string; DesiredState: string; Status: { State: string; Err?: string; Timestamp: string };
    }>;
    return tasks
        .map((t) => ({ id: t.ID, slot: t.Slot, node: nodes.get(t.NodeID) ?? t.NodeID, state: t.Status.State, desired: t.DesiredState, since: t.Status.Timestamp, error: t.Status.Err }))
        .sort((a, b) => a.slot - b.slot);
}

/**
 * Tasks scaled away or replaced (desired state shutdown or remove) that still run: they answer
 * until they have stopped, so a command is not done while any is left. Pure.
 */
export function stoppingTasks(tasks: ServiceTask[]): ServiceTask[] {
    return tasks.filter((t) => t.desired !== "running" && t.state === "running");
}

// Run by `node -e` in a container on the service's network: resolves tasks.<service> (every
// task's address: dnsrr) and connects to each on the port, every 100 ms, until `count` accept
// in one round (exit 0) or the deadline passes (exit 1); prints how many accepted.
const LISTEN_PROBE = `const net = require("net"), dns = require("dns").promises;
const [service, port, count, ms] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const accepts = (host) => new Promise((ok) => { const s = net.connect({ host, port, timeout: 1000 }, () => (s.destroy(), ok(true)));
  s.on("error", () => ok(false)); s.on("timeout", () => (s.destroy(), ok(false))); });
const deadline = Date.now() + ms;
(async () => { for (;;) {
  const ips = await dns.resolve4("tasks." + service).catch(() => []);
  const up = (await Promise.all(ips.map(accepts))).filter(Boolean).length;
  if (up >= count || Date.now() > deadline) { console.log("accepting " + up + " of " + ips.length); process.exit(up >= count ? 0 : 1); }
  await new Promise((r) => setTimeout(r, 100));
} })();`;

/** What {@link waitUntilListening} waits for. */
export interface ListenWait {
    /** The Swarm service. */
    service: string;
    /** Its overlay network (attachable), which the probe joins on the manager. */
    network: string;
    port: number;
    /** How many tasks must accept connections. */
    count: number;
    /** An image with `node` on the manager. */
    probeImage: string;
    timeoutMs: number;
}

/**
 * Waits until `count` tasks of a service accept connections on `port`, asked from a one-off
 * container on the service's network on the manager (the tasks' addresses are on the overlay,
 * which this machine may not reach). Swarm calls a task running once its process started, before
 * it listens: this is the cluster's "the dyno answers", as the single-host boot wait checks it.
 */
export async function waitUntilListening(docker: import("dockerode"), w: ListenWait): Promise<void> {
    if (w.count === 0) return;
    const create = () => docker.createContainer({
        Image: w.probeImage,
        Cmd: ["node", "-e", LISTEN_PROBE, w.service, String(w.port), String(w.count), String(w.timeoutMs)],
        Tty: true,
        HostConfig: { NetworkMode: w.network },
    });
    let probe = await create();
    try {
        // A manager with no task on the overlay may be leaving it just then ("network … not found"): again, a few times.
        for (let attempt = 1; ; attempt++) {
            try {
                await probe.start();
                break;
            } catch (err) {
                if (attempt >= 5 || !/not found/i.test(String((err as Error).message))) throw err;
                await probe.remove({ force: true }).catch(() => undefined);
                await new Promise((r) => setTimeout(r, 200 * attempt));
                probe = await create();
            }
        }
        const { StatusCode } = await probe.wait();
        if (StatusCode !== 0) {
            const said = String(await probe.logs({ stdout: true, stderr: true })).trim();
            const line = /accepting (\d+) of (\d+)/.exec(said);
            throw new Error(line
                ? `service ${w.service}: ${line[1]} of ${w.count} tasks accept connections on port ${w.port} after ${Math.round(w.timeoutMs / 1000)} s (${line[2]} addresses)`
                : `service ${w.service}: the probe for port ${w.port} failed (exit ${StatusCode}): ${said}`);
        }
    } finally {
        await probe.remove({ force: true }).catch(() => undefined);
    }
}
