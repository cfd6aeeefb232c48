import type Docker = require("dockerode");
import { imageRepository, LABEL, swarmName } from "../docker/labels";
import { runningTasks, taskImage } from "./tasks";

// The cluster's registry: Debian's Docker Distribution 2.8 (toolchain/base-images.ts, the
// `registry` image) as a one-replica service pinned to the manager, its blobs on a volume there.
// Every node reaches it at 127.0.0.1:5000: a global service (socat, same image) publishes that
// port in host mode on each node and forwards over the registry's overlay network. Docker trusts
// registries on 127.0.0.0/8 over plain HTTP by default (`InsecureRegistryCIDRs`), so no node's
// dockerd needs `insecure-registries` or a certificate; the name is the same on every node.
// The app's image is pushed once, from the manager; services name it `repo@sha256:<digest>`, so
// every node pulls the same bytes, and a stack promoted to runs that same reference.

/** Names of the registry's Swarm objects; one registry per cluster, shared by every stack. */
export const REGISTRY = {
    /** The port published on every node: images are `127.0.0.1:5000/<app>@sha256:...`. */
    port: 5000,
    ...swarmName.registry,
    /** Where Debian's package keeps blobs (REGISTRY_CONFIG in base-images.ts). */
    dataDir: "/var/lib/docker-registry",
} as const;

const LABELS = { [LABEL.role]: "registry" };

/** The repository an app's images are pushed to: `127.0.0.1:5000/hello`. Pure. */
export function registryRepository(app: string): string {
    return imageRepository.registry(app, REGISTRY.port);
}

/** The tag an image is pushed under: its ID's first 12 hex digits (`id-3f9a1c2b4d5e`). Pure. */
export function pushTag(imageId: string): string {
    return `id-${imageId.replace(/^sha256:/, "").slice(0, 12)}`;
}

/** The manifest digest a push reports (its last `aux.Digest`); a push without one failed. Pure. */
export function pushedDigest(output: Array<{ aux?: { Digest?: string }; error?: string; status?: string }>): string {
    const failed = output.find((o) => o.error);
    if (failed) throw new Error(failed.error);
    const digest = [...output].reverse().find((o) => o.aux?.Digest)?.aux?.Digest;
    if (!digest || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        throw new Error(`the push reported no manifest digest (last message: ${JSON.stringify(output[output.length - 1] ?? null)})`);
    }
    return digest;
}

/**
 * A shell line printing the default gateway of the container it runs in, from `routeFile`
 * (`/proc/net/route`: hex, little-endian). Pure.
 */
export function gatewayScript(routeFile = "/proc/net/route"): string {
    const hex = (i: string) => `index("0123456789ABCDEF", substr(g, ${i}, 1)) - 1`;
    return `awk 'NR > 1 && $2 == "00000000" { g = toupper($3); ip = ""; for (i = 7; i >= 1; i -= 2) ip = ip (ip == "" ? "" : ".") (${hex("i")}) * 16 + ${hex("i + 1")}; print ip; exit }' ${routeFile}`;
}

/**
 * The forwarder's command: socat on the published port, forwarding to the registry over the
 * overlay, and accepting only connections that come from the node itself. A published port is
 * open on every address of the node (Swarm cannot bind one), but the node's own clients (its
 * dockerd pulling from 127.0.0.1, through docker-proxy) reach the task from the gateway of
 * docker_gwbridge, the task's default gateway; anyone else keeps their own address. Pure.
 */
export function forwarderCommand(): string[] {
    return ["sh", "-c", `gw=$(${gatewayScript()}) && exec socat TCP-LISTEN:${REGISTRY.port},fork,reuseaddr,range=$gw/32 TCP:${REGISTRY.service}:${REGISTRY.port}`];
}

/**
 * The registry's two services: the registry on `nodeId` with its volume, and the forwarder, one
 * task per node, publishing 127.0.0.1's port there (host mode: there is no routing mesh). Pure.
 */
export function registryServiceSpecs(image: string, nodeId: string) {
    // What both services share: the image, labels, restart policy, the registry's network, and
    // one task at a time stopped before its replacement starts.
    const service = <C extends object, T extends object, R extends object>(Name: string, container: C, task: T, rest: R) => ({
        Name,
        Labels: LABELS,
        TaskTemplate: {
            ContainerSpec: { Image: image, Labels: LABELS, Init: true, ...container },
            RestartPolicy: { Condition: "any", Delay: 5e9, MaxAttempts: 0, Window: 0 },
            Networks: [{ Target: REGISTRY.network }],
            ...task,
        },
        UpdateConfig: { Parallelism: 1, Order: "stop-first" },
        ...rest,
    });
    // One volume on one node: the old task stops before the new one starts.
    const registry = service(
        REGISTRY.service,
        { Mounts: [{ Type: "volume", Source: REGISTRY.volume, Target: REGISTRY.dataDir }] },
        { Placement: { Constraints: [`node.id==${nodeId}`] } },
        { Mode: { Replicated: { Replicas: 1 } }, EndpointSpec: { Mode: "dnsrr" } },
    );
    const forwarder = service(
        REGISTRY.forwarder,
        { Command: forwarderCommand() },
        {},
        { Mode: { Global: {} }, EndpointSpec: { Mode: "dnsrr", Ports: [{ Protocol: "tcp", TargetPort: REGISTRY.port, PublishedPort: REGISTRY.port, PublishMode: "host" }] } },
    );
    return { registry, forwarder };
}

type Progress = Array<{ aux?: { Digest?: string }; error?: string; status?: string }>;

function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<Progress> {
    return new Promise((resolve, reject) => {
        docker.modem.followProgress(stream, (err: Error | null, output: Progress) => (err ? reject(err) : resolve(output)));
    });
}

/** The service named exactly `name` (the engine's name filter matches prefixes). */
async function serviceNamed(docker: Docker, name: string) {
    return (await docker.listServices({ filters: { name: [name] } })).find((s) => s.Spec?.Name === name);
}

/** The service `spec.Name`, made from `spec` unless it runs already; updated when it runs another image than `image` (a ref, or its ID in the spec). */
async function ensureService(docker: Docker, spec: { Name: string; TaskTemplate: { ContainerSpec: { Image: string } } }, image: string): Promise<string> {
    const same = await serviceNamed(docker, spec.Name);
    if (!same) {
        try {
            return (await docker.createService(spec as never)).id;
        } catch (err) {
            // Another deploy made it meanwhile: use that one.
            const now = await serviceNamed(docker, spec.Name);
            if (now) return now.ID!;
            throw err;
        }
    }
    const running = (same.Spec?.TaskTemplate as { ContainerSpec?: { Image?: string } } | undefined)?.ContainerSpec?.Image;
    // Made by an earlier version with the image's reference, not its ID: the same image.
    if (running !== spec.TaskTemplate.ContainerSpec.Image && running !== image) {
        // A new build of the registry's image (its recipe changed): same pin, same volume.
        const kept = (same.Spec!.TaskTemplate as { Placement?: unknown }).Placement;
        const next = { ...spec, TaskTemplate: { ...spec.TaskTemplate, ...(kept ? { Placement: kept } : {}) } };
        await docker.getService(same.ID!).update({ version: same.Version!.Index, ...next } as never);
    }
    return same.ID!;
}

/**
 * Run in a forwarder task: asks the registry for `/v2/` over the registry's network, the hop a
 * push takes after the node's published port, and prints the answer's status line or socat's
 * error (one line). Pure.
 */
export function registryProbeScript(): string {
    return `printf 'GET /v2/ HTTP/1.0\\r\\n\\r\\n' | socat -T 5 - TCP:${REGISTRY.service}:${REGISTRY.port},connect-timeout=5 2>&1 | head -n 1`;
}

/** True when the probe's line is the registry's answer (200, or 401 behind auth). Pure. */
export function registryAnswered(line: string): boolean {
    return /^HTTP\/1\.[01] (200|401)\b/.test(line.trim());
}

/**
 * Why the registry's network does not carry the probe, for the error: a name that does not
 * resolve there is a node whose Swarm network agent is not running. Docker 20.10 keeps the agent's
 * port (7946) bound when leaving a cluster could not tell its peers, and a cluster formed after
 * that, in the same engine, has no agent (its log: `error in agentInit ... 7946: bind: address
 * already in use`; moby/moby#47859). Pure.
 */
export function registryProbeHint(line: string): string {
    return /not known|resolve|getaddrinfo/i.test(line)
        ? `: the name ${REGISTRY.service} does not resolve on the registry's network there, so that node's Swarm network agent is not running ` +
              "(its dockerd log says 'error in agentInit'; it happens after leaving a cluster whose peers were gone): restart that node's Docker engine"
        : "";
}

/** The probe's line, asked from the forwarder task on `manager` ("" while it has none running). */
async function probeRegistry(manager: Docker, forwarderId: string): Promise<string> {
    const { execIn } = require("../docker/exec") as typeof import("../docker/exec");
    const [task] = await manager.listContainers({ filters: { label: [`com.docker.swarm.service.id=${forwarderId}`], status: ["running"] } });
    if (!task) return "";
    const r = await execIn(manager.getContainer(task.Id), ["sh", "-c", registryProbeScript()]).catch((err: Error) => ({ output: err.message }));
    return r.output.trim().split("\n")[0] ?? "";
}

/** Until `ok()` holds or `ms` pass (then `what` fails), checking every 250 ms. */
async function until(ok: () => Promise<boolean>, ms: number, what: () => Promise<string>): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(await what());
        await new Promise((r) => setTimeout(r, 250));
    }
}

/**
 * Makes sure the cluster's registry runs (the image on `manager` and every worker, copied by
 * ID from the engine that built it; its network; both services) and that `manager` reaches it
 * at 127.0.0.1. Idempotent; a registry found running is left where it is.
 */
export async function ensureRegistry(manager: Docker, workers: Docker[], image: string, builder: Docker): Promise<void> {
    const { copyImages } = require("../../toolchain/base-images") as typeof import("../../toolchain/base-images");
    for (const engine of [manager, ...workers]) {
        if (engine !== builder) await copyImages(builder, engine, [image]);
    }
    const networks = await manager.listNetworks({ filters: { name: [REGISTRY.network] } });
    if (!networks.some((n: { Name: string }) => n.Name === REGISTRY.network)) {
        await manager.createNetwork({ Name: REGISTRY.network, Driver: "overlay", Labels: LABELS, CheckDuplicate: true }).catch(async (err) => {
            const again = await manager.listNetworks({ filters: { name: [REGISTRY.network] } });
            if (!again.some((n: { Name: string }) => n.Name === REGISTRY.network)) throw err;
        });
    }
    const own = ((await manager.info()) as { Swarm?: { NodeID?: string } }).Swarm?.NodeID;
    if (!own) throw new Error("the registry's node: the Docker host is not in a Swarm cluster");
    // By ID: copied so to every node above, and Swarm pulls a tag before each task start.
    const specs = registryServiceSpecs(await taskImage(manager, image), own);
    const registryId = await ensureService(manager, specs.registry, image);
    const forwarderId = await ensureService(manager, specs.forwarder, image);
    const describe = async () => {
        const tasks = [...(await runningTasks(manager, registryId)), ...(await runningTasks(manager, forwarderId))];
        return `the cluster's registry did not start in 120 s: ${JSON.stringify(tasks.map((t) => ({ node: t.node, state: t.state, error: t.error })))}`;
    };
    // The push goes through the manager's own forwarder task to the registry's: both run, and the
    // registry answers the forwarder over their network.
    const hostname = ((await manager.getNode(own).inspect()) as { Description?: { Hostname?: string } }).Description?.Hostname;
    let answer = "";
    await until(async () => {
        const registry = await runningTasks(manager, registryId);
        const forwarders = await runningTasks(manager, forwarderId);
        if (!registry.some((t) => t.state === "running") || !forwarders.some((t) => t.state === "running" && t.node === hostname)) return false;
        answer = await probeRegistry(manager, forwarderId);
        return registryAnswered(answer);
    }, 120_000, async () =>
        answer
            ? `the cluster's registry did not answer its forwarder on ${hostname} within 120 s (GET /v2/ over ${REGISTRY.network}: ${answer})${registryProbeHint(answer)}`
            : describe(),
    );
}

/**
 * The registry of the cluster `managerHost` manages, started if need be (`doctor` and the first
 * deploy): its image built (once, cached by its recipe's hash) on this machine's engine when that
 * answers, else on the manager, and copied by ID to the manager and `workerHosts`. Returns the
 * image and how long it took.
 */
export async function startClusterRegistry(managerHost: string | undefined, workerHosts: string[], report: (line: string) => void = () => undefined): Promise<{ image: string; ms: number }> {
    const started = Date.now();
    const { connectDocker, DEFAULT_DOCKER_HOST } = require("../docker/client") as typeof import("../docker/client");
    const { ensureOnDemandImage } = require("../../toolchain/base-images") as typeof import("../../toolchain/base-images");
    const manager = connectDocker(managerHost);
    const local = connectDocker(DEFAULT_DOCKER_HOST);
    const builder = (await local.ping().then(() => true, () => false)) ? local : manager;
    const image = await ensureOnDemandImage("registry", report, builder);
    await ensureRegistry(manager, workerHosts.map((w) => connectDocker(w)), image, builder);
    return { image, ms: Date.now() - started };
}

/**
 * True for a push that found nothing serving yet: a forwarder task just started (refused), or
 * one whose registry does not answer yet (socat closes the connection: `EOF`). Pure.
 */
export function pushNotReady(message: string): boolean {
    return /connection refused|connection reset|i\/o timeout|\bEOF\b/i.test(message);
}

/**
 * Pushes `imageId` from `manager` to `repository` (tagged {@link pushTag}) and returns the
 * reference services run: `127.0.0.1:5000/hello@sha256:<manifest digest>`. Layers the registry
 * holds already are not sent again (a promoted image sends its manifest only).
 */
export async function pushImage(manager: Docker, imageId: string, repository: string): Promise<string> {
    const tag = pushTag(imageId);
    await manager.getImage(imageId).tag({ repo: repository, tag });
    // As long as the registry's start may take (ensureRegistry): on a loaded cluster the overlay
    // from the manager's forwarder to the registry took more than 30 s to carry the first request.
    const deadline = Date.now() + 120_000;
    for (;;) {
        try {
            const stream = (await manager.getImage(`${repository}:${tag}`).push({ tag, authconfig: {} })) as unknown as NodeJS.ReadableStream;
            return `${repository}@${pushedDigest(await follow(manager, stream))}`;
        } catch (err) {
            const message = (err as Error).message;
            if (!pushNotReady(message) || Date.now() > deadline) throw new Error(`push of ${imageId.slice(7, 19)} to ${repository}: ${message}`);
            await new Promise((r) => setTimeout(r, 500));
        }
    }
}
