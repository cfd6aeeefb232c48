import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "../dynamic-resource";

/** A one-off dyno: the release phase, or `dynoform run`. */
export interface OneOffSpec {
    dockerHost?: string;
    app: string;
    stack: string;
    /** `release` or `run`. */
    kind: "release" | "run";
    image: string;
    command: string;
    env: Record<string, string>;
    network?: string;
    memoryMb: number;
    /** Seconds before the one-off is killed (release phase: 1 hour, as Heroku). */
    timeoutSeconds?: number;
    /** Release id, for labels. */
    release?: string;
}

/** Runs a one-off container to completion and removes it; resolves to its exit code and output. */
export async function runOneOff(spec: OneOffSpec): Promise<{ exitCode: number; output: string; name: string }> {
    const crypto = require("crypto");
    const { connectDocker, removeContainer } = require(CLIENT);
    const { LABEL, ownerLabels, dockerName, roleLabel } = require(LABELS);
    const { demuxLogs } = require(LOGS);
    const docker = connectDocker(spec.dockerHost);
    const name = dockerName.container(spec.app, spec.stack, spec.kind, crypto.randomBytes(3).toString("hex"));
    const container = await docker.createContainer({
        name,
        Image: spec.image,
        Cmd: ["/bin/sh", "-c", spec.command],
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Labels: {
            ...ownerLabels(spec.app, spec.stack),
            ...roleLabel(spec.kind),
            [LABEL.dyno]: `${spec.kind}.1`,
            [LABEL.release]: spec.release ?? "",
        },
        HostConfig: {
            Memory: spec.memoryMb * 1024 * 1024,
            MemorySwap: spec.memoryMb * 1024 * 1024,
            NetworkMode: spec.network,
            Init: true,
            AutoRemove: false,
        },
    });
    try {
        await container.start();
        const timeoutMs = (spec.timeoutSeconds ?? 3600) * 1000;
        const timer = setTimeout(() => container.kill().catch(() => undefined), timeoutMs);
        const result = (await container.wait()) as { StatusCode: number };
        clearTimeout(timer);
        const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
        return { exitCode: result.StatusCode, output: demuxLogs(logs), name };
    } finally {
        // removeContainer tries again what can fail on its own (over SSH, or a container between
        // states). One still left is removed by the next command that opens the stack
        // (infra/engine/pending.ts `unrecordedContainers`); the run's own result stands.
        await removeContainer(container).catch(() => undefined);
    }
}

const CLIENT = require.resolve("./client");
const LABELS = require.resolve("./labels");
const LOGS = require.resolve("./logs");
const SELF = __filename;
const PROVIDER = require.resolve("../provider");

/** Fields of a release phase by what a change does: a new release (or image, command, env) runs the command again. */
export const RELEASE_PHASE_FIELDS = {
    replace: ["release", "image", "command", "env", "network", "dockerHost", "app", "stack"],
    meta: ["memoryMb", "timeoutSeconds"],
} as const;

/** Arguments of a {@link ReleasePhase}. */
export interface ReleasePhaseArgs {
    dockerHost?: pulumi.Input<string>;
    app: pulumi.Input<string>;
    stack: pulumi.Input<string>;
    /** The release's id: a new id runs the command again. */
    release: pulumi.Input<string>;
    image: pulumi.Input<string>;
    /** The Procfile's `release` command. */
    command: pulumi.Input<string>;
    env: pulumi.Input<Record<string, pulumi.Input<string>>>;
    network?: pulumi.Input<string>;
    memoryMb: pulumi.Input<number>;
    timeoutSeconds?: pulumi.Input<number>;
}

type ReleasePhaseInputs = Omit<OneOffSpec, "kind">;

interface ReleasePhaseOutputs extends ReleasePhaseInputs {
    exitCode: number;
    finishedAt: string;
}

/** Runs the release command once per release; a non-zero exit fails the deployment before any dyno rolls. */
export const releasePhaseProvider: pulumi.dynamic.ResourceProvider<ReleasePhaseInputs, ReleasePhaseOutputs> = {
    async diff(_id, olds, news) {
        return require(PROVIDER).diffByFields(olds, news, RELEASE_PHASE_FIELDS);
    },
    async create(inputs) {
        const { runOneOff } = require(SELF);
        const r = await runOneOff({ ...inputs, kind: "release" });
        if (r.exitCode !== 0) {
            const tail = r.output.trimEnd().split("\n").slice(-20).join("\n");
            throw new Error(
                `release command \`${inputs.command}\` failed with exit code ${r.exitCode}; ` +
                    `the new release was not deployed and the running dynos were left as they were.\n` +
                    `output of ${r.name}:\n${tail}`,
            );
        }
        return { id: r.name, outs: { ...inputs, exitCode: r.exitCode, finishedAt: new Date().toISOString() } };
    },
    async update(_id, olds, news) {
        return { outs: { ...olds, ...news } };
    },
};

/**
 * The release phase: the Procfile's `release` command, run once per release in a one-off
 * container with the new image and config, before any dyno of that release starts.
 */
export class ReleasePhase extends DynamicResource {
    public readonly exitCode!: pulumi.Output<number>;
    public readonly finishedAt!: pulumi.Output<string>;

    constructor(name: string, args: ReleasePhaseArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            releasePhaseProvider,
            name,
            { exitCode: undefined, finishedAt: undefined, ...args },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["env"] }),
            "docker",
            "ReleasePhase",
        );
    }
}
