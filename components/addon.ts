import * as pulumi from "@pulumi/pulumi";
import { Dyno, SERVER_HEALTHCHECK } from "../infra/docker/dyno";
import { ADDON_LABEL, LABEL, dockerName, legacyDockerName, ownerLabels, swarmName } from "../infra/docker/labels";
import { Volume } from "../infra/docker/volume";
import { RandomSecret } from "../infra/random/secret";
import { Service } from "../infra/swarm/service";
import { ADDON_KINDS, AddOnPlan } from "./addon-plans";

/** Type token of {@link AddOn}. */
export const ADDON_TYPE = "dynoform:addon:AddOn";

/** The add-on plans Dynoform runs (their table is ADDON_KINDS in addon-plans.ts). */
export type { AddOnPlan };

/** Label that marks add-on containers (defined with the other labels; the CLI reads it without loading this module). */
export { ADDON_LABEL };

/** Arguments of an {@link AddOn}. */
export interface AddOnArgs {
    /** App the add-on belongs to (names and labels). */
    app: string;
    /** Stack (environment) name. */
    stack: string;
    /** `postgres` (PostgreSQL 15) or `redis` (Redis 7). */
    plan: AddOnPlan;
    /** Add-on name, unique in the app: its DNS name on the app network (`postgres`). */
    addonName: string;
    /** The app network the add-on joins. */
    network: pulumi.Input<string>;
    /** Image to run (the PostgreSQL or Redis base image). */
    image: pulumi.Input<string>;
    /** Docker host; DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** Memory limit in MiB (256 by default). */
    memoryMb?: number;
    /** Delete the data volume when the add-on is destroyed. Off by default: data is kept. */
    deleteDataOnDestroy?: boolean;
    /**
     * On a Swarm cluster whose manager is `dockerHost`: a one-replica service pinned to the
     * manager's node, where its volume is (replaced stop-first: one server per data folder).
     */
    cluster?: boolean;
    /**
     * On a cluster: an image with `node` on the manager, for the probe that waits until the
     * add-on accepts connections through the overlay's DNS there, as the release phase and the
     * dynos will reach it (Swarm calls the task running, even healthy, before the manager's DNS
     * knows it: a release phase then failed with `getaddrinfo EAI_AGAIN postgres`).
     */
    probeImage?: pulumi.Input<string>;
}

/** The attachment URL an app sees, e.g. `postgres://app:<password>@postgres:5432/app`. Pure. */
export function attachmentUrl(plan: AddOnPlan, host: string, password: string): string {
    return ADDON_KINDS[plan].url(host, password);
}

/**
 * A backing service (PostgreSQL or Redis) for an app: a container on the app's network with
 * its data on a volume that outlives it, and a password generated once and kept secret. The
 * attachment URL (`url`) is a secret output; dynos that depend on the add-on start only after
 * it answers (its health check passes).
 */
export class AddOn extends pulumi.ComponentResource {
    /** The plan (`postgres`, `redis`). */
    public readonly plan: AddOnPlan;
    /** Connection URL (secret). */
    public readonly url: pulumi.Output<string>;
    /** Host name of the add-on on the app network. */
    public readonly host: pulumi.Output<string>;
    /** The data volume's name. */
    public readonly volumeName: pulumi.Output<string>;
    /** The add-on container's name. */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: AddOnArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ADDON_TYPE, name, {}, opts);
        this.plan = args.plan;
        const kind = ADDON_KINDS[args.plan];
        const labels = { [ADDON_LABEL]: args.addonName, [LABEL.plan]: args.plan };
        const password = new RandomSecret(`${name}-password`, { bytes: 24 }, { parent: this });
        const volume = new Volume(
            `${name}-data`,
            {
                dockerHost: args.dockerHost,
                name: dockerName.dataVolume(args.app, args.stack, args.addonName),
                // Data of a deployment made before the naming scheme changed stays where it is.
                formerNames: [legacyDockerName.dataVolume(args.app, args.stack, args.addonName)],
                labels: { ...ownerLabels(args.app, args.stack), ...labels },
                deleteOnDestroy: args.deleteDataOnDestroy ?? false,
            },
            { parent: this },
        );
        const container = args.cluster
            ? new Service(`${name}-service`, {
                  dockerHost: args.dockerHost,
                  name: swarmName.service(args.app, args.stack, args.addonName),
                  image: args.image,
                  command: kind.command,
                  env: kind.env(password.value) as Record<string, pulumi.Input<string>>,
                  processType: args.addonName,
                  replicas: 1,
                  memoryMb: args.memoryMb ?? 256,
                  cpuShares: 1024,
                  network: args.network,
                  labels: { ...ownerLabels(args.app, args.stack), ...labels, [LABEL.role]: "addon" },
                  stopGraceSeconds: 30,
                  bootTimeoutSeconds: 120,
                  pinned: true,
                  mounts: volume.name.apply((source) => [{ source, target: kind.dataPath }]),
                  healthcheck: kind.ready,
                  user: kind.user,
                  listening: args.probeImage ? pulumi.output(args.probeImage).apply((probeImage) => ({ port: kind.port, probeImage })) : undefined,
              }, { parent: this })
            : new Dyno(
            `${name}-server`,
            {
                dockerHost: args.dockerHost,
                app: args.app,
                stack: args.stack,
                processType: args.addonName,
                index: 1,
                image: args.image,
                command: kind.command,
                env: kind.env(password.value),
                memoryMb: args.memoryMb ?? 256,
                cpuShares: 1024,
                network: args.network,
                aliases: [args.addonName],
                port: kind.port,
                user: kind.user,
                mounts: [pulumi.interpolate`${volume.name}:${kind.dataPath}`],
                healthcheck: { command: kind.ready, ...SERVER_HEALTHCHECK },
                bootTimeoutSeconds: 120,
                stopGraceSeconds: 30,
                role: "addon",
                labels,
            },
            { parent: this },
        );
        this.host = pulumi.output(args.addonName);
        this.url = pulumi.secret(password.value.apply((pw) => attachmentUrl(args.plan, args.addonName, pw)));
        this.volumeName = volume.name;
        this.containerName = container instanceof Service ? container.name : container.containerName;
        this.registerOutputs({
            url: this.url,
            host: this.host,
            volumeName: this.volumeName,
            containerName: this.containerName,
        });
    }
}
