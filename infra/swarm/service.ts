import * as pulumi from "@pulumi/pulumi";
import { runningTasks } from "./tasks";

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
    /** Image ID or reference present on every node (no registry yet: the image is copied to each). */
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
}

/** Provider outputs. */
export interface ServiceOutputs extends ServiceInputs {
    serviceId: string;
}

const CLIENT = require.resolve("../docker/client");
const PROVIDER = require.resolve("../provider");
const SELF = __filename;
const MIB = 1024 * 1024;

/** Fields by what a change does: `replicas` alone is a scale (no task restarted); the rest roll the tasks. */
export const SERVICE_FIELDS = {
    replace: ["dockerHost", "name"],
    update: ["image", "command", "env", "processType", "replicas", "memoryMb", "cpuShares", "network", "labels", "stopGraceSeconds"],
    meta: ["bootTimeoutSeconds"],
} as const;

export function diffService(olds: ServiceOutputs, news: ServiceInputs): pulumi.dynamic.DiffResult {
    const { diffByFields } = require(PROVIDER);
    return diffByFields(olds, news, SERVICE_FIELDS, { deleteBeforeReplace: true, defaults: { stopGraceSeconds: 30, bootTimeoutSeconds: 120 } });
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

/** The Swarm service spec for `inputs`: equal inputs give an equal task template. Pure. */
export function serviceSpec(inputs: ServiceInputs, smallestNodeNanoCpus: number) {
    const env = { ...inputs.env, DYNO: `${inputs.processType}.{{.Task.Slot}}` };
    const grace = inputs.stopGraceSeconds ?? 30;
    return {
        Name: inputs.name,
        Labels: inputs.labels,
        TaskTemplate: {
            ContainerSpec: {
                Image: inputs.image,
                ...(inputs.command ? { Command: ["sh", "-c", inputs.command] } : {}),
                Env: Object.keys(env).sort().map((k) => `${k}=${env[k as keyof typeof env]}`),
                Labels: inputs.labels,
                StopGracePeriod: grace * 1e9,
                StopSignal: "SIGTERM",
            },
            Resources: serviceResources(inputs.memoryMb, inputs.cpuShares, smallestNodeNanoCpus),
            // A crashed dyno is restarted after 5 s, then Swarm's own back-off between failures.
            RestartPolicy: { Condition: "any", Delay: 5e9, MaxAttempts: 0, Window: 0 },
            Networks: [{ Target: inputs.network, Aliases: [inputs.processType] }],
            Placement: { MaxReplicas: 0 },
        },
        Mode: { Replicated: { Replicas: inputs.replicas } },
        UpdateConfig: { Parallelism: 1, Delay: 0, FailureAction: "rollback", Monitor: 5e9, MaxFailureRatio: 0, Order: "start-first" },
        RollbackConfig: { Parallelism: 1, Delay: 0, FailureAction: "pause", Monitor: 5e9, MaxFailureRatio: 0, Order: "start-first" },
        EndpointSpec: { Mode: "dnsrr" },
    };
}

/** The task of a service as `ps` shows it. */
async function smallestNodeCpus(docker: import("dockerode")): Promise<number> {
    const nodes = (await docker.listNodes()) as Array<{ Description?: { Resources?: { NanoCPUs?: number } } }>;
    return Math.min(...nodes.map((n) => n.Description?.Resources?.NanoCPUs ?? 1e9));
}

/** Waits until the service's update is over and `replicas` tasks run; a rolled-back update fails. */
async function settle(docker: import("dockerode"), id: string, inputs: ServiceInputs): Promise<void> {
    const timeoutMs = (inputs.bootTimeoutSeconds ?? 120) * 1000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const info = await docker.getService(id).inspect();
        const update = info.UpdateStatus?.State as string | undefined;
        if (update === "rollback_completed" || update === "rollback_paused" || update === "paused") {
            throw new Error(`service ${inputs.name}: the rollout failed and was rolled back (${update}): ${info.UpdateStatus?.Message ?? ""}`);
        }
        const tasks = await runningTasks(docker, id);
        const running = tasks.filter((t) => t.state === "running").length;
        if ((update === undefined || update === "completed") && running === inputs.replicas && tasks.length === inputs.replicas) return;
        if (Date.now() > deadline) {
            const errors = [...new Set(tasks.map((t) => t.error).filter(Boolean))].join("; ");
            throw new Error(`service ${inputs.name}: ${running} of ${inputs.replicas} tasks running after ${timeoutMs / 1000} s${errors ? ` (${errors})` : ""}`);
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
        try {
            id = (await docker.createService(self.serviceSpec(inputs, await smallestNodeCpus(docker)))).id;
        } catch (err) {
            throw new Error(`service ${inputs.name}: ${engineMessage(err)}`);
        }
        await settle(docker, id, inputs);
        return { id, outs: { ...inputs, serviceId: id } };
    },
    async read(id, props) {
        const { connectDocker } = require(CLIENT);
        const { unlessGone } = require(PROVIDER);
        const info = await unlessGone(() => connectDocker(props?.dockerHost).getService(id).inspect());
        if (!info) return {};
        return { id, props: { ...props!, replicas: info.Spec?.Mode?.Replicated?.Replicas ?? props!.replicas } };
    },
    async update(id, _olds, news) {
        const { connectDocker, engineMessage } = require(CLIENT);
        const self = require(SELF);
        const docker = connectDocker(news.dockerHost);
        const service = docker.getService(id);
        const info = await service.inspect();
        try {
            await service.update({ version: info.Version.Index, ...self.serviceSpec(news, await smallestNodeCpus(docker)) });
        } catch (err) {
            throw new Error(`service ${news.name}: ${engineMessage(err)}`);
        }
        await settle(docker, id, news);
        return { outs: { ...news, serviceId: id } };
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

    constructor(name: string, args: ServiceArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            serviceProvider,
            name,
            // Secret as an input too: additionalSecretOutputs alone leaves the inputs copy in plain text.
            { serviceId: undefined, ...args, env: pulumi.secret(args.env) },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["env"] }),
            "swarm",
            "Service",
        );
    }
}
