import * as pulumi from "@pulumi/pulumi";
import { SERVER_HEALTHCHECK } from "../docker/dyno";
import { serviceTasks, stoppingTasks, taskImage, waitUntilListening } from "./tasks";

// One process type as a Docker Swarm service: replicas = quantity, resources from the dyno
// size, restart with back-off, rolling updates start-first that roll back on failure, dnsrr
// endpoint mode (no IPVS needed) on the app's overlay network. A change of replicas alone
// leaves the task template as it was, so Swarm starts or stops tasks and restarts none.

/** Arguments of a {@link Service}. */
export interface ServiceArgs {
    /** The Swarm manager; DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** Service name (`dockerName.service`). */
    name: pulumi.Input<string>;
    /** Image reference every node can pull: `127.0.0.1:5000/<app>@sha256:…` from the cluster's registry (registry.ts). */
    image: pulumi.Input<string>;
    /** The Procfile command, run by `sh -c`; undefined: the image's CMD. */
    command?: pulumi.Input<string | undefined>;
    /** Environment (secret values allowed); `DYNO` is set per task (`web.<slot>`). */
    env: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Process type: the `DYNO` prefix. */
    processType: pulumi.Input<string>;
    /** Replicas (the formation's quantity). */
    replicas: pulumi.Input<number>;
    memoryMb: pulumi.Input<number>;
    /** The dyno size's relative CPU weight (1024 for standard-1x). */
    cpuShares: pulumi.Input<number>;
    /** The app's overlay network. */
    network: pulumi.Input<string>;
    labels: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Seconds between SIGTERM and SIGKILL (30). */
    stopGraceSeconds?: pulumi.Input<number>;
    /** Seconds a rollout or a scale has to get all tasks running (120). */
    bootTimeoutSeconds?: pulumi.Input<number>;
    /**
     * The router: one task per node labelled `dynoform.ingress=true` (the manager is labelled
     * when no node is), `targetPort` published in host mode on `port` of each (no routing mesh).
     */
    ingress?: pulumi.Input<{ port: number; targetPort: number }>;
    /** Run on the Docker host's own node only (an add-on, beside its volume there). */
    pinned?: pulumi.Input<boolean>;
    /** Volumes to mount: `{ source: "hello-prod-postgres-data", target: "/var/lib/postgresql/data" }`. */
    mounts?: pulumi.Input<Array<{ source: string; target: string }>>;
    /** A shell command that exits 0 once the task serves: a task counts as running only then. */
    healthcheck?: pulumi.Input<string>;
    /** User to run as; the image's when unset. */
    user?: pulumi.Input<string>;
    /** More names on the network than the process type (an add-on's `postgres`). */
    aliases?: pulumi.Input<string[]>;
    /**
     * A rollout or scale is done only once every task accepts connections on `port`, asked from a
     * container of `probeImage` (one with `node`) on the app's network on the manager (tasks.ts).
     */
    listening?: pulumi.Input<{ port: number; probeImage: string }>;
}

/** {@link ServiceArgs} resolved. */
export interface ServiceInputs {
    dockerHost?: string;
    name: string;
    image: string;
    command?: string;
    env: Record<string, string>;
    processType: string;
    replicas: number;
    memoryMb: number;
    cpuShares: number;
    network: string;
    labels: Record<string, string>;
    stopGraceSeconds?: number;
    bootTimeoutSeconds?: number;
    ingress?: { port: number; targetPort: number };
    pinned?: boolean;
    mounts?: Array<{ source: string; target: string }>;
    healthcheck?: string;
    user?: string;
    aliases?: string[];
    listening?: { port: number; probeImage: string };
}

/** Provider outputs. */
export interface ServiceOutputs extends ServiceInputs {
    serviceId: string;
    /** With `ingress`: the addresses of the nodes the router runs on. */
    ingressAddresses?: string[];
}

/** Where a service may run, found on the cluster when it is created or updated. */
export interface Placement {
    /** The cores of the smallest node (the CPU limit's cap). */
    smallestNodeNanoCpus: number;
    /** With `ingress`: how many nodes carry the ingress label (one router task on each). */
    ingressNodes?: number;
    /** With `pinned`: the Docker host's own node ID. */
    nodeId?: string;
}

/** The node label that marks where routers run. */
export const INGRESS_LABEL = "dynoform.ingress";

const CLIENT = require.resolve("../docker/client");
const PROVIDER = require.resolve("../provider");
const DYNO_OPS = require.resolve("../docker/dyno-ops");
const SELF = __filename;
const MIB = 1024 * 1024;

/** Fields by what a change does: `replicas` alone is a scale (no task restarted); the rest roll the tasks. */
export const SERVICE_FIELDS = {
    replace: ["dockerHost", "name"],
    update: ["image", "command", "env", "processType", "replicas", "memoryMb", "cpuShares", "network", "labels", "stopGraceSeconds", "ingress", "pinned", "mounts", "healthcheck", "user", "aliases"],
    meta: ["bootTimeoutSeconds", "listening"],
} as const;

/** What an unset field stands for. */
const SERVICE_DEFAULTS = { stopGraceSeconds: 30, bootTimeoutSeconds: 120 } satisfies Partial<ServiceInputs>;

export function diffService(olds: ServiceOutputs, news: ServiceInputs): pulumi.dynamic.DiffResult {
    const { diffByFields } = require(PROVIDER);
    return diffByFields(olds, news, SERVICE_FIELDS, { deleteBeforeReplace: true, defaults: SERVICE_DEFAULTS });
}

/**
 * CPU from the dyno size: the limit is `cpuShares / 1024` cores (a standard-1x dyno may use one
 * core) but at most the smallest node's cores (Docker refuses a limit above the host's); the
 * reservation, which the scheduler places by, is a tenth of the limit, so a 2-core node takes
 * 20 standard-1x dynos. Memory: limit and reservation both the size's memory. Pure.
 */
export function serviceResources(memoryMb: number, cpuShares: number, smallestNodeNanoCpus: number) {
    const limit = Math.min(Math.round((cpuShares / 1024) * 1e9), smallestNodeNanoCpus);
    return {
        Limits: { MemoryBytes: memoryMb * MIB, NanoCPUs: limit },
        Reservations: { MemoryBytes: memoryMb * MIB, NanoCPUs: Math.round(limit / 10) },
    };
}

/**
 * The Swarm service spec for `inputs` where `placement` was found: equal inputs give an equal
 * task template. The command runs in exec form (execForm), as a single-host dyno's does, so the
 * app itself gets SIGTERM. A router or an add-on (one port or one volume per node) is replaced
 * stop-first; dynos start-first. Pure.
 */
export function serviceSpec(inputs: ServiceInputs, placement: Placement | number) {
    const where: Placement = typeof placement === "number" ? { smallestNodeNanoCpus: placement } : placement;
    const { execForm } = require(DYNO_OPS);
    const env = { ...inputs.env, DYNO: `${inputs.processType}.{{.Task.Slot}}` };
    const grace = inputs.stopGraceSeconds ?? SERVICE_DEFAULTS.stopGraceSeconds;
    const single = Boolean(inputs.ingress || inputs.pinned);
    const order = single ? "stop-first" : "start-first";
    const constraints = [
        ...(inputs.ingress ? [`node.labels.${INGRESS_LABEL}==true`] : []),
        ...(inputs.pinned && where.nodeId ? [`node.id==${where.nodeId}`] : []),
    ];
    return {
        Name: inputs.name,
        Labels: inputs.labels,
        TaskTemplate: {
            ContainerSpec: {
                Image: inputs.image,
                ...(inputs.command ? { Command: ["sh", "-c", execForm(inputs.command)] } : {}),
                Env: Object.keys(env).sort().map((k) => `${k}=${env[k as keyof typeof env]}`),
                Labels: inputs.labels,
                StopGracePeriod: grace * 1e9,
                StopSignal: "SIGTERM",
                Init: true,
                ...(inputs.user ? { User: inputs.user } : {}),
                ...(inputs.mounts?.length ? { Mounts: inputs.mounts.map((m) => ({ Type: "volume", Source: m.source, Target: m.target })) } : {}),
                ...(inputs.healthcheck
                    ? { HealthCheck: swarmHealthCheck(inputs.healthcheck, 0) }
                    : inputs.listening && !inputs.ingress
                      ? { HealthCheck: listenHealthCheck(inputs.listening.port, inputs.bootTimeoutSeconds ?? SERVICE_DEFAULTS.bootTimeoutSeconds) }
                      : {}),
            },
            Resources: serviceResources(inputs.memoryMb, inputs.cpuShares, where.smallestNodeNanoCpus),
            // A crashed dyno is restarted after 5 s, then Swarm's own back-off between failures.
            RestartPolicy: { Condition: "any", Delay: 5e9, MaxAttempts: 0, Window: 0 },
            Networks: [{ Target: inputs.network, Aliases: [inputs.processType, ...(inputs.aliases ?? [])] }],
            Placement: { MaxReplicas: inputs.ingress ? 1 : 0, ...(constraints.length ? { Constraints: constraints } : {}) },
        },
        Mode: { Replicated: { Replicas: inputs.ingress ? where.ingressNodes ?? 1 : inputs.replicas } },
        UpdateConfig: { Parallelism: 1, Delay: 0, FailureAction: "rollback", Monitor: 5e9, MaxFailureRatio: 0, Order: order },
        RollbackConfig: { Parallelism: 1, Delay: 0, FailureAction: "pause", Monitor: 5e9, MaxFailureRatio: 0, Order: order },
        EndpointSpec: inputs.ingress
            ? { Mode: "dnsrr", Ports: [{ Protocol: "tcp", TargetPort: inputs.ingress.targetPort, PublishedPort: inputs.ingress.port, PublishMode: "host" }] }
            : { Mode: "dnsrr" },
    };
}

/**
 * Where `inputs` may run: the smallest node's cores, and for a router the ingress nodes (the
 * Docker host's own node is labelled when none is) with their addresses.
 */
async function findPlacement(docker: import("dockerode"), inputs: ServiceInputs): Promise<Placement & { addresses: string[] }> {
    type Node = { ID: string; Version: { Index: number }; Spec: { Labels?: Record<string, string> }; Description?: { Resources?: { NanoCPUs?: number } }; Status?: { Addr?: string } };
    let nodes = (await docker.listNodes()) as Node[];
    const smallestNodeNanoCpus = Math.min(...nodes.map((n) => n.Description?.Resources?.NanoCPUs ?? 1e9));
    const own = ((await docker.info()) as { Swarm?: { NodeID?: string } }).Swarm?.NodeID;
    if (!inputs.ingress) return { smallestNodeNanoCpus, nodeId: own, addresses: [] };
    const labelled = () => nodes.filter((n) => n.Spec.Labels?.[INGRESS_LABEL] === "true");
    if (labelled().length === 0 && own) {
        const node = nodes.find((n) => n.ID === own)!;
        await docker.getNode(own).update({ version: node.Version.Index, ...node.Spec, Labels: { ...(node.Spec.Labels ?? {}), [INGRESS_LABEL]: "true" } });
        nodes = (await docker.listNodes()) as Node[];
    }
    return { smallestNodeNanoCpus, nodeId: own, ingressNodes: labelled().length, addresses: labelled().map((n) => n.Status?.Addr ?? "").filter(Boolean) };
}

/**
 * The health check of a dyno service with a port (web): whether the task accepts connections on
 * it. Swarm reports a task with a health check running, adds it to the service's DNS and, in a
 * start-first update, stops the task it replaces only once the check passes; without one, all
 * three happen when the process starts. An app slower to listen than Swarm is to roll (Node
 * waiting for Redis on a busy 2-core machine: 8 to 18 s) had every old task stopped and every
 * new one refusing, and the router answered 502 until they listened. Failures during the boot
 * timeout (the start period) do not count; 10 in a row after that make the task unhealthy, and
 * Swarm replaces it. bash's /dev/tcp where the image has bash, else Node (Dynoform's images).
 */
export function listenHealthCheck(port: number, bootTimeoutSeconds: number) {
    const node = `node -e 'require("net").connect(${port}, "127.0.0.1").on("connect", () => process.exit(0)).on("error", () => process.exit(1))'`;
    return swarmHealthCheck(`bash -c ': </dev/tcp/127.0.0.1/${port}' 2>/dev/null || ${node}`, bootTimeoutSeconds);
}

/**
 * A task's health check (a shell command), on the add-on servers' timing: every 3 s, 5 s to
 * answer, 10 failures in a row after `startPeriodSeconds` make it unhealthy.
 */
function swarmHealthCheck(command: string, startPeriodSeconds: number) {
    return {
        Test: ["CMD-SHELL", command],
        Interval: SERVER_HEALTHCHECK.intervalSeconds * 1e9,
        Timeout: 5e9,
        Retries: SERVER_HEALTHCHECK.retries,
        StartPeriod: startPeriodSeconds * 1e9,
    };
}

/** Whether going from `olds` to `news` changes the tasks (Swarm rolls them), not only their number. Pure. */
export function rollsTasks(olds: Partial<ServiceInputs>, news: ServiceInputs): boolean {
    const { changedFields } = require(PROVIDER);
    return changedFields(olds, news, SERVICE_FIELDS.update.filter((f) => f !== "replicas"), { defaults: SERVICE_DEFAULTS }).length > 0;
}

/**
 * How long a create, scale or roll may take before it fails. The boot timeout is each dyno's: a
 * roll replaces one task after another (UpdateConfig's Parallelism 1), so it has one boot timeout
 * per task, and the last old task its stop grace on top. (One boot timeout for a whole roll of
 * 6 web dynos failed a config:set on a slow machine: 6 of 6 running, the last old one stopping,
 * after 120 s, while every dyno had booted well within its own.) Pure.
 */
export function settleTimeoutSeconds(inputs: Pick<ServiceInputs, "bootTimeoutSeconds" | "stopGraceSeconds">, replicas: number, rolls: boolean): number {
    const boot = inputs.bootTimeoutSeconds ?? SERVICE_DEFAULTS.bootTimeoutSeconds;
    return rolls ? boot * Math.max(1, replicas) + (inputs.stopGraceSeconds ?? SERVICE_DEFAULTS.stopGraceSeconds) : boot;
}

/**
 * Waits until the service's update is over, `replicas` tasks run (and, with `listening`, accept
 * connections) and no task scaled away or replaced still runs; a rolled-back update fails. After
 * a spec change that rolls the tasks, `rolledSince` is the start of the update before it: until
 * Swarm begins the new one the service still reports that update's status ("completed") and runs
 * its old tasks, which would look settled. A change Swarm rolls nothing for (a placement its
 * tasks already meet) starts no update: after 10 s the wait stops looking for one.
 */
async function settle(
    docker: import("dockerode"), id: string, inputs: ServiceInputs, replicas: number, rolledSince?: { startedAt: string | undefined },
): Promise<void> {
    const timeoutMs = settleTimeoutSeconds(inputs, replicas, rolledSince !== undefined) * 1000;
    const deadline = Date.now() + timeoutMs;
    const startBy = Date.now() + 10_000;
    for (;;) {
        const info = await docker.getService(id).inspect();
        const startedAt = info.UpdateStatus?.StartedAt as string | undefined;
        const begun = !rolledSince || (startedAt !== undefined && startedAt !== rolledSince.startedAt) || Date.now() > startBy;
        if (!begun) {
            await new Promise((r) => setTimeout(r, 100));
            continue;
        }
        const update = info.UpdateStatus?.State as string | undefined;
        if (update === "rollback_completed" || update === "rollback_paused" || update === "paused") {
            throw new Error(`service ${inputs.name}: the rollout failed and was rolled back (${update}): ${info.UpdateStatus?.Message ?? ""}`);
        }
        const all = await serviceTasks(docker, id);
        const tasks = all.filter((t) => t.desired === "running");
        const running = tasks.filter((t) => t.state === "running").length;
        const stopping = stoppingTasks(all).length;
        if ((update === undefined || update === "completed") && running === replicas && tasks.length === replicas && stopping === 0) {
            if (!inputs.listening) return;
            const { port, probeImage } = inputs.listening;
            const timeoutMs = Math.max(deadline - Date.now(), 10_000);
            return waitUntilListening(docker, { service: inputs.name, network: inputs.network, port, count: replicas, probeImage, timeoutMs });
        }
        if (Date.now() > deadline) {
            const errors = [...new Set(tasks.map((t) => t.error).filter(Boolean))].join("; ");
            const left = stopping ? `, ${stopping} still stopping` : "";
            throw new Error(`service ${inputs.name}: ${running} of ${replicas} tasks running${left} after ${timeoutMs / 1000} s${errors ? ` (${errors})` : ""}`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

/** Service provider: the manager and name replace it; everything else is a `service update`. */
export const serviceProvider: pulumi.dynamic.ResourceProvider<ServiceInputs, ServiceOutputs> = {
    async check(_olds, news) {
        const failures: pulumi.dynamic.CheckFailure[] = [];
        const { isUnknown } = require(PROVIDER);
        if (!isUnknown(news.replicas) && !(Number.isInteger(news.replicas) && news.replicas >= 0)) {
            failures.push({ property: "replicas", reason: `\`replicas\` must be a whole number from 0 (got ${JSON.stringify(news.replicas)})` });
        }
        return { inputs: news, failures };
    },
    async diff(_id, olds, news) {
        return require(SELF).diffService(olds, news);
    },
    async create(inputs) {
        const { connectDocker, engineMessage } = require(CLIENT);
        const self = require(SELF);
        const docker = connectDocker(inputs.dockerHost);
        let id: string;
        const placement = await findPlacement(docker, inputs);
        const spec = self.serviceSpec({ ...inputs, image: await taskImage(docker, inputs.image) }, placement);
        try {
            id = (await docker.createService(spec)).id;
        } catch (err) {
            throw new Error(`service ${inputs.name}: ${engineMessage(err)}`);
        }
        await settle(docker, id, inputs, spec.Mode.Replicated.Replicas);
        return { id, outs: { ...inputs, serviceId: id, ...(inputs.ingress ? { ingressAddresses: placement.addresses } : {}) } };
    },
    async read(id, props) {
        const { connectDocker } = require(CLIENT);
        const { unlessGone } = require(PROVIDER);
        const info = await unlessGone(() => connectDocker(props?.dockerHost).getService(id).inspect());
        if (!info) return {};
        return { id, props: { ...props!, replicas: info.Spec?.Mode?.Replicated?.Replicas ?? props!.replicas } };
    },
    async update(id, olds, news) {
        const { connectDocker, engineMessage } = require(CLIENT);
        const self = require(SELF);
        const docker = connectDocker(news.dockerHost);
        const service = docker.getService(id);
        const info = await service.inspect();
        const placement = await findPlacement(docker, news);
        const spec = self.serviceSpec({ ...news, image: await taskImage(docker, news.image) }, placement);
        try {
            await service.update({ version: info.Version.Index, ...spec });
        } catch (err) {
            throw new Error(`service ${news.name}: ${engineMessage(err)}`);
        }
        const rolledSince = self.rollsTasks(olds, news) ? { startedAt: info.UpdateStatus?.StartedAt } : undefined;
        await settle(docker, id, news, spec.Mode.Replicated.Replicas, rolledSince);
        return { outs: { ...news, serviceId: id, ...(news.ingress ? { ingressAddresses: placement.addresses } : {}) } };
    },
    async delete(id, props) {
        const { connectDocker } = require(CLIENT);
        await require(PROVIDER).unlessGone(() => connectDocker(props.dockerHost).getService(id).remove());
    },
};

/** A process type's dynos as one Swarm service (`web.1` … `web.N` are its task slots). */
export class Service extends pulumi.dynamic.Resource {
    declare public readonly serviceId: pulumi.Output<string>;
    declare public readonly name: pulumi.Output<string>;
    declare public readonly ingressAddresses: pulumi.Output<string[] | undefined>;

    constructor(name: string, args: ServiceArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            serviceProvider,
            name,
            // Secret as an input too: additionalSecretOutputs alone leaves the inputs copy in plain text.
            { serviceId: undefined, ingressAddresses: undefined, ...args, env: pulumi.secret(args.env) },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["env"] }),
            "swarm",
            "Service",
        );
    }
}
