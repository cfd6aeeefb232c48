import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "../dynamic-resource";
import type Docker = require("dockerode");
import { jobDyno, SCHEDULER_JOB_ROLE, SCHEDULER_ROLE } from "../../components/scheduler";
import type { LoopJob, LoopSpec } from "./scheduler-loop";

// Who fires Heroku Scheduler's jobs: one small container per app and stack, on the Node base
// image the toolchain already builds, running the cron loop of scheduler-loop.ts. It starts each
// run as a one-off container through the Docker Engine API on the mounted socket, so a run is an
// ordinary container: release image, config vars, add-on URLs, the app's network, a dyno's limits,
// and Docker keeps its logs and exit code after it ends. The jobs themselves never see the socket.
//
// On a Swarm cluster (`dynoform:cluster`) the same container runs on the manager, the stack's
// Docker host, on the app's attachable overlay network, and so do its runs: a run is a one-off,
// which on a cluster is already a container on the manager on that network (`run`, the release
// phase). It reaches every dyno and add-on by name there, runs the image the manager built (its
// ID), and Docker's wait, logs and exit code serve `scheduler` and `logs` as on one host, with one
// loop for both. A Swarm job service (`ReplicatedJob`) per run would spread runs over the nodes
// but needs the registry's reference, a poll of its task for the exit code, and the service's
// removal after it: a second way to do the same thing. The loop's container restarts with the
// manager's engine (`unless-stopped`); a one-replica service pinned to the manager would add
// nothing to that, as the add-ons and the cluster's registry are pinned there too.

/** What the scheduler container is made from. */
export interface SchedulerInputs {
    dockerHost?: string;
    app: string;
    stack: string;
    /** The image the loop runs on (the Node base image). */
    runtimeImage: string;
    /** The release's image ID, config vars and add-on URLs (secret), network. */
    image: string;
    env: Record<string, string>;
    network: string;
    memoryMb: number;
    cpuShares: number;
    jobs: LoopJob[];
}

interface SchedulerOutputs extends SchedulerInputs {
    containerName: string;
    /** `running`, or Docker's state, or `missing`: anything but running is healed by the next `up`. */
    state: string;
}

/**
 * A test's clock (`DYNOFORM_SCHEDULER_TICK_SECONDS`, tests only): the real seconds a cron minute
 * lasts, a divisor of 60; unset is the wall clock. Anything else is refused, naming the variable. Pure.
 */
export function tickSecondsFrom(env: NodeJS.ProcessEnv): number | undefined {
    const raw = env.DYNOFORM_SCHEDULER_TICK_SECONDS;
    if (raw === undefined || raw === "") return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || 60 % n !== 0) throw new Error(`DYNOFORM_SCHEDULER_TICK_SECONDS: expected a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60), got ${JSON.stringify(raw)}`);
    return n === 60 ? undefined : n;
}

const CLIENT = require.resolve("./client");
const LABELS = require.resolve("./labels");
const LOOP = require.resolve("./scheduler-loop");
const CRON = require.resolve("../../components/cron");
const SELF = __filename;

/** The loop and its cron parser as one `node -e` program (the container has no node_modules). */
export function loopProgram(): string {
    const fs = require("fs");
    const cron = fs.readFileSync(CRON, "utf8");
    const loop = fs.readFileSync(LOOP, "utf8");
    return [
        '"use strict";',
        "const __cron = { exports: {} };",
        `(function (exports, module) {\n${cron}\n})(__cron.exports, __cron);`,
        "const __loop = { exports: {} };",
        `(function (exports, module, require) {\n${loop}\n})(__loop.exports, __loop, (id) => (/\\/cron$/.test(id) ? __cron.exports : require(id)));`,
        "__loop.exports.main();",
    ].join("\n");
}

/** How the loop reaches the Engine: the host's socket mounted at the default path, or tcp. Pure. */
export function engineAccess(dockerHost: string): { docker: LoopSpec["docker"]; mounts: Docker.MountSettings[] } {
    const socket = (path: string) => ({ docker: { socketPath: "/var/run/docker.sock" }, mounts: [{ Type: "bind" as const, Source: path, Target: "/var/run/docker.sock" }] });
    if (dockerHost.startsWith("unix://")) return socket(dockerHost.slice("unix://".length));
    // Over SSH the engine is the one `docker system dial-stdio` reaches on the server: its default socket.
    if (dockerHost.startsWith("ssh://")) return socket("/var/run/docker.sock");
    const m = /^(?:tcp|http):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(dockerHost);
    if (!m) throw new Error(`the scheduler cannot reach Docker host ${dockerHost}: only unix://, ssh:// and tcp:// hosts are supported`);
    return { docker: { host: m[1], port: Number(m[2] ?? 2375) }, mounts: [] };
}

/** Creates and starts the scheduler container (one of that name already there is replaced). */
export async function startScheduler(i: SchedulerInputs): Promise<SchedulerOutputs> {
    const { connectDocker, resolveDockerEndpoint, removeContainer } = require(CLIENT);
    const { dockerName, LABEL, ownerLabels } = require(LABELS);
    const docker: Docker = connectDocker(i.dockerHost);
    const name = dockerName.container(i.app, i.stack, SCHEDULER_ROLE);
    await removeContainer(docker.getContainer(name));
    const access = engineAccess(resolveDockerEndpoint(i.dockerHost).host);
    const spec: LoopSpec = {
        docker: access.docker,
        labels: { ...ownerLabels(i.app, i.stack), [LABEL.role]: SCHEDULER_JOB_ROLE, [LABEL.processType]: "scheduler" },
        jobLabel: LABEL.dyno,
        namePrefix: dockerName.container(i.app, i.stack, SCHEDULER_ROLE),
        image: i.image,
        env: i.env,
        network: i.network,
        memoryMb: i.memoryMb,
        cpuShares: i.cpuShares,
        jobs: i.jobs,
        tickSeconds: require(SELF).tickSecondsFrom(process.env),
    };
    const container: Docker.Container = await docker.createContainer({
        name,
        Image: i.runtimeImage,
        Cmd: ["node", "-e", require(SELF).loopProgram()],
        Env: [`DYNOFORM_SCHEDULER=${JSON.stringify(spec)}`],
        Labels: { ...ownerLabels(i.app, i.stack), [LABEL.role]: SCHEDULER_ROLE, [LABEL.processType]: SCHEDULER_ROLE },
        HostConfig: { Memory: 128 * 2 ** 20, Init: true, RestartPolicy: { Name: "unless-stopped" }, Mounts: access.mounts, NetworkMode: i.network },
    });
    await container.start();
    return { ...i, containerName: name, state: "running" };
}

/** Removes the containers of job runs: all of them, or those of jobs not in `keep`. */
export async function removeJobContainers(i: Pick<SchedulerInputs, "dockerHost" | "app" | "stack">, keep?: string[]): Promise<void> {
    const { connectDocker, removeContainer } = require(CLIENT);
    const { LABEL, ownerLabels } = require(LABELS);
    const docker: Docker = connectDocker(i.dockerHost);
    const labels = { ...ownerLabels(i.app, i.stack), [LABEL.role]: SCHEDULER_JOB_ROLE };
    const list = await docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
    for (const c of list) {
        if (keep?.some((job) => c.Labels[LABEL.dyno] === jobDyno(job))) continue;
        await removeContainer(docker.getContainer(c.Id));
    }
}

/** The scheduler container: replaced when anything it runs changes; its job runs go with it on delete. */
export const schedulerProvider: pulumi.dynamic.ResourceProvider<SchedulerInputs, SchedulerOutputs> = {
    async diff(_id, olds, news) {
        const replaces = (["app", "stack", "dockerHost"] as const).filter((k) => (olds[k] ?? null) !== (news[k] ?? null));
        const fields = ["runtimeImage", "image", "env", "network", "memoryMb", "cpuShares", "jobs"] as const;
        const changes = replaces.length > 0 || olds.state !== "running" || fields.some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
        return { changes, replaces, deleteBeforeReplace: true };
    },
    async create(inputs) {
        const outs = await require(SELF).startScheduler(inputs);
        return { id: outs.containerName, outs };
    },
    async read(id, props) {
        const { connectDocker } = require(CLIENT);
        const info = await connectDocker(props?.dockerHost).getContainer(id).inspect().catch(() => undefined);
        return { id, props: { ...props!, state: info ? (info.State.Running ? "running" : info.State.Status) : "missing" } };
    },
    async update(_id, _olds, news) {
        const self = require(SELF);
        const outs = await self.startScheduler(news);
        await self.removeJobContainers(news, news.jobs.map((j: LoopJob) => j.name));
        return { outs };
    },
    async delete(id, props) {
        // Not in silence: a scheduler left behind would go on running the app's jobs after a destroy.
        const { connectDocker, removeContainer } = require(CLIENT);
        await removeContainer(connectDocker(props.dockerHost).getContainer(id));
        await require(SELF).removeJobContainers(props);
    },
};

/** Arguments of a {@link Scheduler}. */
export interface SchedulerArgs {
    dockerHost?: pulumi.Input<string>;
    app: pulumi.Input<string>;
    stack: pulumi.Input<string>;
    /** The image the cron loop runs on: the Node base image. */
    runtimeImage: pulumi.Input<string>;
    /** The release's image ID. */
    image: pulumi.Input<string>;
    /** Config vars and add-on URLs the runs get (kept secret in state). */
    env: pulumi.Input<Record<string, pulumi.Input<string>>>;
    network: pulumi.Input<string>;
    /** A run's limits: its dyno size. */
    memoryMb: pulumi.Input<number>;
    cpuShares: pulumi.Input<number>;
    /** The jobs: their names, schedules (UTC) and commands, shown in the preview's diff. */
    jobs: pulumi.Input<LoopJob[]>;
}

/**
 * Heroku Scheduler for one app and stack: the scheduler container (`<app>.<stack>.scheduler`)
 * that runs each job on its cron schedule as a one-off container (`scheduler[<job>]` in logs).
 */
export class Scheduler extends DynamicResource {
    declare public readonly containerName: pulumi.Output<string>;
    declare public readonly state: pulumi.Output<string>;

    constructor(name: string, args: SchedulerArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            schedulerProvider,
            name,
            { containerName: undefined, state: undefined, ...args, env: pulumi.secret(args.env) },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["env"] }),
            "docker",
            "Scheduler",
        );
    }
}
