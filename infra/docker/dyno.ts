import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "../dynamic-resource";
import type { DynoCheck } from "../../components/healthchecks";
import { canonicalJson, changedFields, isUnknown } from "../provider";
import { ContainerRole, dockerName } from "./labels";

/** An HTTP or command health check, run by Docker inside the dyno. */
export interface HealthCheck {
    /** A shell command that exits 0 when the dyno is healthy. */
    command: string;
    intervalSeconds?: number;
    timeoutSeconds?: number;
    retries?: number;
}

/**
 * How often a server's own readiness command runs as its Docker health check, and how many
 * failures in a row make it unhealthy (30 s): add-on servers, on one host and on a cluster. Each
 * check is a `docker exec`, 57 to 96 ms of the engine's CPU (dockerd, containerd, runc) on the
 * 2-core test machines; at 1 s that was 6 to 10 % of a core per add-on for its whole life.
 * Docker 20.10 runs the first check one interval after the start and has no faster interval
 * while booting (Docker 25's StartInterval), so 3 s is also the longest an add-on's `up` waits
 * for a server that is ready.
 */
export const SERVER_HEALTHCHECK = { intervalSeconds: 3, retries: 10 } as const;

/** Docker restart policies a dyno may use. */
export type RestartPolicy = "always" | "unless-stopped" | "on-failure" | "no";

/** Where a dyno's port is published on the host (web dynos without a router, add-ons for debugging). */
export interface PortPublish {
    /** Host address; 127.0.0.1 unless the user asks for another. */
    hostIp?: string;
    hostPort: number;
}

/** Arguments of a {@link Dyno}: one container running one process type. */
export interface DynoArgs {
    /** Docker host (`unix:///var/run/docker.sock`, `tcp://...`); DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** App name, e.g. `hello`. */
    app: pulumi.Input<string>;
    /** Stack (environment) name, e.g. `dev`. */
    stack: pulumi.Input<string>;
    /** Process type from the Procfile, e.g. `web`. */
    processType: pulumi.Input<string>;
    /** Dyno index, 1-based: `web.1`. */
    index: pulumi.Input<number>;
    /**
     * What the container is for: a `dyno` (the default), an add-on server or the router. Its role
     * label is set when the container is created; a change is recorded without replacing it.
     */
    role?: DynoRole;
    /** Release the dyno runs, e.g. `v3` (a label; a new release comes with a new image or env). */
    release?: pulumi.Input<string>;
    /** Image reference or ID. Changing it replaces the container (new one first). */
    image: pulumi.Input<string>;
    /** Shell command (a Procfile line's command), run with `/bin/sh -c`; the image's CMD when unset. */
    command?: pulumi.Input<string>;
    /** Environment variables. Kept secret in state. Changing them replaces the container. */
    env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Dyno size name, for labels and `ps` (`standard-1x`). */
    size?: pulumi.Input<string>;
    /** Memory limit in MiB. Updated in place. */
    memoryMb: pulumi.Input<number>;
    /** CPU share (Docker's relative weight, 1024 = one share). Updated in place. */
    cpuShares: pulumi.Input<number>;
    /** Restart policy; `always` by default. Updated in place. */
    restartPolicy?: pulumi.Input<RestartPolicy>;
    /** Network to join. */
    network?: pulumi.Input<string>;
    /** DNS aliases on that network. */
    aliases?: pulumi.Input<pulumi.Input<string>[]>;
    /** Port the process listens on (`$PORT` for web dynos); create waits until it accepts connections. */
    port?: pulumi.Input<number>;
    /**
     * Publishes `port` on the host. Two containers cannot hold one host port, so a published
     * dyno is replaced old-first (a short gap); dynos behind the router are replaced new-first.
     */
    publish?: pulumi.Input<PortPublish>;
    /** Docker health check; create waits until healthy. */
    healthcheck?: pulumi.Input<HealthCheck>;
    /**
     * Startup checks (app.json `healthchecks`) run by Dynoform once the dyno is ready: a new dyno
     * that fails one is removed and the deploy fails, before any old dyno is stopped.
     */
    checks?: DynoCheck[];
    /** Seconds a dyno has to boot before create fails (60, as Heroku). */
    bootTimeoutSeconds?: pulumi.Input<number>;
    /** Seconds between SIGTERM and SIGKILL on delete (30, as Heroku). */
    stopGraceSeconds?: pulumi.Input<number>;
    /** User to run as (`uid[:gid]` or name); the image's user when unset. */
    user?: pulumi.Input<string>;
    /** Extra volume mounts `volume:/path`. */
    mounts?: pulumi.Input<pulumi.Input<string>[]>;
    /** Extra labels. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * The mounts hold nothing an old and a new container could harm by running at once (the
     * router's config), so a replacement starts before the old container stops. Off by default:
     * two containers on one data volume (an add-on's database) must never run at once.
     */
    shareMounts?: pulumi.Input<boolean>;
}

/** {@link DynoArgs} resolved: what the provider receives. */
export interface DynoInputs {
    dockerHost?: string;
    app: string;
    stack: string;
    processType: string;
    index: number;
    role?: DynoRole;
    release?: string;
    image: string;
    command?: string;
    env?: Record<string, string>;
    size?: string;
    memoryMb: number;
    cpuShares: number;
    restartPolicy?: RestartPolicy;
    network?: string;
    aliases?: string[];
    port?: number;
    publish?: PortPublish;
    healthcheck?: HealthCheck;
    checks?: DynoCheck[];
    bootTimeoutSeconds?: number;
    stopGraceSeconds?: number;
    user?: string;
    mounts?: string[];
    labels?: Record<string, string>;
    shareMounts?: boolean;
}

/** The roles of containers the Dyno provider runs. */
export type DynoRole = Extract<ContainerRole, "dyno" | "addon" | "router">;

/** What Docker says about a dyno's container. */
export type DynoState = "running" | "restarting" | "exited" | "oom-killed" | "missing" | "created" | "paused" | "dead";

/** Provider outputs: the inputs plus what Docker reports. */
export interface DynoOutputs extends DynoInputs {
    containerName: string;
    containerId: string;
    startedAt: string;
    state: DynoState;
    exitCode: number;
    restartCount: number;
    ipAddress: string;
}

/** Fields whose change needs a new container (created before the old one is removed). */
export const DYNO_REPLACE_FIELDS = [
    "dockerHost", "app", "stack", "processType", "index", "release", "image", "command", "env",
    "network", "aliases", "port", "publish", "healthcheck", "user", "mounts", "labels",
] as const;

/** Fields Docker's container update API changes on a running container. */
export const DYNO_UPDATE_FIELDS = ["memoryMb", "cpuShares", "restartPolicy"] as const;

/**
 * Fields only Dynoform reads (no Docker call needed to change them). `role` is one: it is a
 * label from the container's creation on, and an add-on server made before roles were split
 * (labelled `dyno`) must not be stopped just to relabel it; readers use `containerRole`.
 */
export const DYNO_META_FIELDS = ["bootTimeoutSeconds", "stopGraceSeconds", "size", "shareMounts", "role", "checks"] as const;

const NAME_PART = /^[a-z0-9][a-z0-9_-]*$/i;

// The provider convention's helpers; re-exported because tests and callers knew them here.
export { canonicalJson, isUnknown };

/**
 * Validates dyno inputs; each failure names the property. Values not known yet are not judged:
 * check runs again with the real values during `up`. Pure, so it is tested without Docker.
 */
export function checkDynoInputs(news: DynoInputs): pulumi.dynamic.CheckFailure[] {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    const known = (key: keyof DynoInputs) => !isUnknown(news[key]);
    for (const key of ["app", "stack", "processType"] as const) {
        if (known(key) && (typeof news[key] !== "string" || !NAME_PART.test(news[key]))) {
            fail(key, `\`${key}\` must be letters, digits, '_' or '-' (got ${JSON.stringify(news[key])})`);
        }
    }
    if (known("index") && (!Number.isInteger(news.index) || news.index < 1)) {
        fail("index", `\`index\` must be a whole number from 1 (got ${JSON.stringify(news.index)})`);
    }
    const roles: DynoRole[] = ["dyno", "addon", "router"];
    if (news.role !== undefined && known("role") && !roles.includes(news.role)) {
        fail("role", `\`role\` must be one of ${roles.join(", ")} (got ${JSON.stringify(news.role)})`);
    }
    if (known("image") && (typeof news.image !== "string" || news.image.length === 0)) {
        fail("image", "`image` must name an image");
    }
    if (news.dockerHost !== undefined && known("dockerHost") && !/^(unix|tcp|http|https):\/\/./.test(news.dockerHost)) {
        fail("dockerHost", `\`dockerHost\` must be unix:///path/to/docker.sock or tcp://host:port (got ${JSON.stringify(news.dockerHost)})`);
    }
    if (known("memoryMb") && (!Number.isInteger(news.memoryMb) || news.memoryMb < 6)) {
        fail("memoryMb", `\`memoryMb\` must be a whole number of MiB, at least 6 (got ${JSON.stringify(news.memoryMb)})`);
    }
    if (known("cpuShares") && (!Number.isInteger(news.cpuShares) || news.cpuShares < 2 || news.cpuShares > 262144)) {
        fail("cpuShares", `\`cpuShares\` must be a whole number from 2 to 262144 (got ${JSON.stringify(news.cpuShares)})`);
    }
    const policies: RestartPolicy[] = ["always", "unless-stopped", "on-failure", "no"];
    if (news.restartPolicy !== undefined && known("restartPolicy") && !policies.includes(news.restartPolicy)) {
        fail("restartPolicy", `\`restartPolicy\` must be one of ${policies.join(", ")} (got ${JSON.stringify(news.restartPolicy)})`);
    }
    for (const key of ["port", "bootTimeoutSeconds", "stopGraceSeconds"] as const) {
        const v = news[key];
        if (v !== undefined && known(key) && (!Number.isInteger(v) || v < 0 || (key === "port" && (v < 1 || v > 65535)))) {
            fail(key, `\`${key}\` must be a whole number${key === "port" ? " from 1 to 65535" : " of seconds"} (got ${JSON.stringify(v)})`);
        }
    }
    if (news.publish !== undefined && known("publish")) {
        if (news.port === undefined) fail("publish", "`publish` needs `port`, the container port to publish");
        const hp = news.publish.hostPort;
        if (!isUnknown(hp) && (!Number.isInteger(hp) || hp < 1 || hp > 65535)) {
            fail("publish.hostPort", `\`publish.hostPort\` must be a port from 1 to 65535 (got ${JSON.stringify(hp)})`);
        }
    }
    if (news.env !== undefined && known("env")) {
        for (const [k, v] of Object.entries(news.env)) {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) fail(`env.${k}`, `env var name \`${k}\` must be letters, digits and '_', not starting with a digit`);
            if (typeof v !== "string") fail(`env.${k}`, `env var \`${k}\` must be a string`);
        }
    }
    return failures;
}

/** The input fields whose value differs between state and desired inputs, in declaration order. */
export function changedDynoFields(olds: Partial<DynoInputs>, news: Partial<DynoInputs>): (keyof DynoInputs)[] {
    return changedFields(olds, news, [...DYNO_REPLACE_FIELDS, ...DYNO_UPDATE_FIELDS, ...DYNO_META_FIELDS]);
}

/**
 * Compares state to desired inputs: which fields changed and whether that needs a new container.
 *
 * When inputs changed, `changes` is left unknown on purpose: the dynamic-provider protocol has no
 * field for changed keys, and on an unknown answer the engine diffs old against new inputs itself,
 * so previews and engine events name each changed field (`diffs`, `detailedDiff`) while
 * `replaces` still decides update versus replace. A dyno that refresh found missing, exited or
 * OOM-killed (state other than running) has a change even with equal inputs: `up` heals it.
 */
export function diffDyno(olds: DynoOutputs, news: DynoInputs): pulumi.dynamic.DiffResult {
    const changed = changedDynoFields(olds, news);
    // A health check whose command stays and whose timing changed (Dynoform's add-on servers, when
    // SERVER_HEALTHCHECK changed) is not worth a restart of a database: the running container keeps
    // the timing it was made with until something else replaces it.
    const timingOnly = olds.healthcheck !== undefined && news.healthcheck !== undefined && olds.healthcheck.command === news.healthcheck.command;
    const replaces = DYNO_REPLACE_FIELDS.filter((k) => changed.includes(k) && !(k === "healthcheck" && timingOnly));
    const drifted = olds.state !== undefined && olds.state !== "running";
    // Two containers cannot publish one host port, so such a dyno is replaced old-first.
    const samePublishedPort =
        olds.publish !== undefined && news.publish !== undefined && olds.publish.hostPort === news.publish.hostPort;
    // Two containers on one data volume (an add-on's database files) must never run at once.
    const sharedVolume = !news.shareMounts && (olds.mounts ?? []).some((m) => (news.mounts ?? []).includes(m));
    return {
        changes: changed.length > 0 ? undefined : drifted,
        replaces: [...replaces],
        deleteBeforeReplace: replaces.length > 0 && (samePublishedPort || sharedVolume),
        stables: ["containerName"],
    };
}

/** Docker container name for one generation of a dyno: `<app>.<stack>.web.1.<6 hex>`. */
export function containerNameFor(inputs: Pick<DynoInputs, "app" | "stack" | "processType" | "index">, suffix: string): string {
    return dockerName.container(inputs.app, inputs.stack, inputs.processType, inputs.index, suffix);
}

const SELF = __filename;
const OPS = require.resolve("./dyno-ops");

/** The provider. Its methods `require` this file by path, so the copy stored in state stays small. */
export const dynoProvider: pulumi.dynamic.ResourceProvider<DynoInputs, DynoOutputs> = {
    async check(_olds, news) {
        const failures = require(SELF).checkDynoInputs(news);
        return { inputs: news, failures };
    },
    async diff(_id, olds, news) {
        return require(SELF).diffDyno(olds, news);
    },
    async create(inputs) {
        return require(OPS).createDyno(inputs);
    },
    async read(id, props) {
        return require(OPS).readDyno(id, props!);
    },
    async update(id, olds, news) {
        return require(OPS).updateDyno(id, olds, news);
    },
    async delete(id, props) {
        await require(OPS).deleteDyno(id, props);
    },
};

/**
 * One dyno: a container running one process type of an app, with its size as Docker memory
 * and CPU limits. Memory, CPU and restart policy change in place; image, command and env
 * replace the container, the new one started (and answering) before the old one stops.
 */
export class Dyno extends DynamicResource {
    // `declare`, not `!`: with ES2022 class fields a `!` field is re-initialised to undefined
    // after `super()` has set it, and every output would read as undefined.
    declare public readonly containerName: pulumi.Output<string>;
    declare public readonly containerId: pulumi.Output<string>;
    declare public readonly startedAt: pulumi.Output<string>;
    declare public readonly state: pulumi.Output<DynoState>;
    declare public readonly exitCode: pulumi.Output<number>;
    declare public readonly restartCount: pulumi.Output<number>;
    declare public readonly ipAddress: pulumi.Output<string>;
    declare public readonly memoryMb: pulumi.Output<number>;
    declare public readonly cpuShares: pulumi.Output<number>;
    declare public readonly env: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: DynoArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dynoProvider,
            name,
            {
                containerName: undefined, containerId: undefined, startedAt: undefined, state: undefined,
                exitCode: undefined, restartCount: undefined, ipAddress: undefined,
                ...args,
                // Secret as an input too: additionalSecretOutputs alone leaves the inputs copy
                // of the env in plaintext in state and engine events.
                env: args.env === undefined ? undefined : pulumi.secret(args.env),
            },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["env"] }),
            "docker",
            "Dyno",
        );
    }
}
