import * as pulumi from "@pulumi/pulumi";

/** An HTTP or command health check, run by Docker inside the dyno. */
export interface HealthCheck {
    /** A shell command that exits 0 when the dyno is healthy. */
    command: string;
    intervalSeconds?: number;
    timeoutSeconds?: number;
    retries?: number;
}

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
    /** Publishes `port` on the host. */
    publish?: pulumi.Input<PortPublish>;
    /** Docker health check; create waits until healthy. */
    healthcheck?: pulumi.Input<HealthCheck>;
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
}

/** {@link DynoArgs} resolved: what the provider receives. */
export interface DynoInputs {
    dockerHost?: string;
    app: string;
    stack: string;
    processType: string;
    index: number;
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
    bootTimeoutSeconds?: number;
    stopGraceSeconds?: number;
    user?: string;
    mounts?: string[];
    labels?: Record<string, string>;
}

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

/** Fields only Dynoform reads (no Docker call needed to change them). */
export const DYNO_META_FIELDS = ["bootTimeoutSeconds", "stopGraceSeconds", "size"] as const;

const NAME_PART = /^[a-z0-9][a-z0-9_-]*$/i;

/** Validates dyno inputs; each failure names the property. Pure, so it is tested without Docker. */
export function checkDynoInputs(news: DynoInputs): pulumi.dynamic.CheckFailure[] {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    const fail = (property: string, reason: string) => failures.push({ property, reason });
    for (const key of ["app", "stack", "processType"] as const) {
        if (typeof news[key] !== "string" || !NAME_PART.test(news[key])) {
            fail(key, `\`${key}\` must be letters, digits, '_' or '-' (got ${JSON.stringify(news[key])})`);
        }
    }
    if (!Number.isInteger(news.index) || news.index < 1) {
        fail("index", `\`index\` must be a whole number from 1 (got ${JSON.stringify(news.index)})`);
    }
    if (typeof news.image !== "string" || news.image.length === 0) {
        fail("image", "`image` must name an image");
    }
    if (!Number.isInteger(news.memoryMb) || news.memoryMb < 6) {
        fail("memoryMb", `\`memoryMb\` must be a whole number of MiB, at least 6 (got ${JSON.stringify(news.memoryMb)})`);
    }
    if (!Number.isInteger(news.cpuShares) || news.cpuShares < 2 || news.cpuShares > 262144) {
        fail("cpuShares", `\`cpuShares\` must be a whole number from 2 to 262144 (got ${JSON.stringify(news.cpuShares)})`);
    }
    const policies: RestartPolicy[] = ["always", "unless-stopped", "on-failure", "no"];
    if (news.restartPolicy !== undefined && !policies.includes(news.restartPolicy)) {
        fail("restartPolicy", `\`restartPolicy\` must be one of ${policies.join(", ")} (got ${JSON.stringify(news.restartPolicy)})`);
    }
    for (const key of ["port", "bootTimeoutSeconds", "stopGraceSeconds"] as const) {
        const v = news[key];
        if (v !== undefined && (!Number.isInteger(v) || v < 0 || (key === "port" && (v < 1 || v > 65535)))) {
            fail(key, `\`${key}\` must be a whole number${key === "port" ? " from 1 to 65535" : " of seconds"} (got ${JSON.stringify(v)})`);
        }
    }
    if (news.publish !== undefined) {
        if (news.port === undefined) fail("publish", "`publish` needs `port`, the container port to publish");
        const hp = news.publish.hostPort;
        if (!Number.isInteger(hp) || hp < 1 || hp > 65535) {
            fail("publish.hostPort", `\`publish.hostPort\` must be a port from 1 to 65535 (got ${JSON.stringify(hp)})`);
        }
    }
    for (const [k, v] of Object.entries(news.env ?? {})) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) fail(`env.${k}`, `env var name \`${k}\` must be letters, digits and '_', not starting with a digit`);
        if (typeof v !== "string") fail(`env.${k}`, `env var \`${k}\` must be a string`);
    }
    return failures;
}

/** Compares state to desired inputs: which fields changed and whether that needs a new container. */
export function diffDyno(olds: DynoOutputs, news: DynoInputs): pulumi.dynamic.DiffResult {
    const changed = (k: keyof DynoInputs) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null);
    const replaces = DYNO_REPLACE_FIELDS.filter(changed);
    const updates = [...DYNO_UPDATE_FIELDS, ...DYNO_META_FIELDS].filter(changed);
    // A dyno found missing, exited or OOM-killed by refresh is healed by an in-place update.
    const drifted = olds.state !== undefined && olds.state !== "running";
    return {
        changes: replaces.length > 0 || updates.length > 0 || drifted,
        replaces: [...replaces],
        deleteBeforeReplace: false,
        stables: ["containerName"],
    };
}

/** Docker container name for one generation of a dyno: `<app>-<stack>.web.1.<6 hex>`. */
export function containerNameFor(inputs: Pick<DynoInputs, "app" | "stack" | "processType" | "index">, suffix: string): string {
    return `${inputs.app}-${inputs.stack}.${inputs.processType}.${inputs.index}.${suffix}`;
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
export class Dyno extends pulumi.dynamic.Resource {
    public readonly containerName!: pulumi.Output<string>;
    public readonly containerId!: pulumi.Output<string>;
    public readonly startedAt!: pulumi.Output<string>;
    public readonly state!: pulumi.Output<DynoState>;
    public readonly restartCount!: pulumi.Output<number>;
    public readonly ipAddress!: pulumi.Output<string>;
    public readonly memoryMb!: pulumi.Output<number>;
    public readonly cpuShares!: pulumi.Output<number>;
    public readonly env!: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: DynoArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            dynoProvider,
            name,
            {
                containerName: undefined, containerId: undefined, startedAt: undefined, state: undefined,
                exitCode: undefined, restartCount: undefined, ipAddress: undefined,
                ...args,
            },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["env"] }),
            "docker",
            "Dyno",
        );
    }
}
