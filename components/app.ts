import * as crypto from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Image } from "../infra/docker/image";
import { dockerName, imageLabels, imageRepository, LABEL, legacyDockerName, ownerLabels, swarmName } from "../infra/docker/labels";
import { Network } from "../infra/docker/network";
import { ReleasePhase } from "../infra/docker/one-off";
import { RegistryImage } from "../infra/swarm/registry-image";
import { registryRepository } from "../infra/swarm/registry";
import { Service } from "../infra/swarm/service";
import { RandomSecret } from "../infra/random/secret";
import { FailedRelease, Release, ReleaseRecord } from "../infra/release";
import { BaseImageRefs, recordedBaseImages } from "../toolchain/base-image-refs";
import { AddOn } from "./addon";
import { ADDON_KINDS } from "./addon-plans";
import { AddOnRequest, AppDefinition, APP_TYPE, validateAppArgs } from "./app-definition";
import { dynoEnv } from "./config-vars";
import { Formation, WEB_PORT } from "./formation";
import { FormationSpec } from "./formation-plan";
import { ClusterRouter } from "./cluster-router";
import { Router } from "./router";
import { jobWhat, SchedulerJobRequest } from "./scheduler";
import { schedulerFor } from "./scheduler-resource";

// The checks made before any child exists are pure (app-definition.ts); they are part of App's API,
// as is the type token, which the CLI reads in a stack's state without loading the SDK.
export { APP_TYPE, validateAppArgs };

/** Arguments of an {@link App}. */
export interface AppArgs {
    /** App name (letters, digits, '-'); the resource name by default. */
    name?: string;
    /** Stack (environment) name; the current Pulumi stack by default. */
    stack?: string;
    /** Source folder to build: its Dockerfile, or a Node.js app (package.json) on the Node base image. */
    source?: string;
    /** A prebuilt image instead of `source` (a reference or an image ID, e.g. one promoted from staging). */
    image?: pulumi.Input<string>;
    /** Procfile path or text; `<source>/Procfile` by default. */
    procfile?: string;
    /** app.json path; `<source>/app.json` when present. */
    appJson?: string;
    /** Quantity and size per process type. Heroku's defaults: web 1, others 0. */
    formation?: FormationSpec;
    /** Config vars. Wrap values in `pulumi.secret()` to keep them secret everywhere. */
    config?: Record<string, pulumi.Input<string>>;
    /** Add-ons by name: `{ postgres: "postgres", cache: { plan: "redis", as: "CACHE" } }`. */
    addons?: Record<string, AddOnRequest>;
    /** Host port of the router (web traffic). Required when the app has web dynos. */
    routerPort?: number;
    /** Host address the router listens on; 127.0.0.1 by default. */
    routerHost?: string;
    /** Docker host; DOCKER_HOST or the default socket when unset. On a cluster: its manager. */
    dockerHost?: string;
    /**
     * Run on a Docker Swarm cluster whose manager is the Docker host: each process type is a
     * service, the image is pushed to the cluster's registry and run by digest, the router runs on the ingress
     * nodes, add-ons on the manager, and the scheduler and its job runs as containers on the manager
     * (scheduled backups are refused there by the loader).
     */
    cluster?: { workers: string[] };
    /** Base images (from `dynoform doctor` by default). */
    baseImages?: Partial<BaseImageRefs>;
    /** Seconds a dyno has to boot (60). */
    bootTimeoutSeconds?: number;
    /**
     * Seconds between SIGTERM and SIGKILL when a dyno stops (scale down, rollout, destroy): one
     * number for every process type, or a map by type (`{ worker: 120 }`); 30 for a type not named.
     */
    stopGraceSeconds?: number | Record<string, number | string>;
    /** Description recorded with the release (`Rollback to v3`); generated when unset. */
    releaseDescription?: string;
    /** A token new to this deploy records a release even when nothing the dynos run changed (`rollback`). */
    releaseRequest?: string;
    /** Restart tokens by process type or dyno (`web`, `web.2`): a new token rolls those dynos. */
    restarts?: Record<string, string>;
    /**
     * How many dynos of each type the last deployment runs, when the caller knows (the CLI reads
     * the stack's outputs): dynos past it start side by side. Unknown: each waits for the one before.
     */
    running?: Record<string, number>;
    /** The app as the caller's loader already validated it from these args (not validated again). */
    definition?: AppDefinition;
    /**
     * Startup checks per process type in app.json's `healthchecks` format (Dokku's), e.g.
     * `{ web: [{ path: "/health", attempts: 3 }] }`; they replace app.json's for the types named.
     */
    healthchecks?: Record<string, unknown>;
    /**
     * Puts the previous release back after a failed rollout: the dynos run exactly these config
     * vars (with `image` pinned to its image), and the failed release is recorded in the history.
     */
    revert?: { config: pulumi.Input<Record<string, string>>; failed: FailedRelease };
    /**
     * Delete add-on data volumes when the app is destroyed by `pulumi destroy`. Off by default;
     * the `dynoform` CLI never sets it (its `destroy --delete-addon-data` deletes them itself).
     */
    deleteAddonDataOnDestroy?: boolean;
    /** Scheduled jobs by name (Heroku Scheduler): `{ report: { schedule: "*\/10 * * * *", command: "npm run report" } }`. */
    scheduler?: Record<string, SchedulerJobRequest>;
}

/** A keyed hash naming a code release (image + env): equal inputs give the same id. Pure. */
export function releaseIdOf(salt: string, imageId: string, env: Record<string, string>): string {
    const canonical = JSON.stringify([imageId, Object.keys(env).sort().map((k) => [k, env[k]])]);
    return crypto.createHmac("sha256", salt).update(canonical).digest("hex").slice(0, 12);
}

/**
 * A Heroku-style app on a Docker host: an image built from source (or given), the Procfile's
 * process types as formations of dynos, add-ons attached through env vars, a release phase,
 * and a router for web traffic. Every change of image, config or add-ons is a new release;
 * scaling and resizing are not (as on Heroku).
 */
export class App extends pulumi.ComponentResource {
    /** The app's name: containers, networks and volumes are labelled with it. */
    public readonly appName: string;
    /** The stack (environment) name the app's Docker objects are labelled with. */
    public readonly stackName: string;
    /** Router URL (`http://127.0.0.1:<routerPort>`), or "" without web dynos. */
    public readonly url: pulumi.Output<string>;
    /** Release version number (v1 = 1). */
    public readonly releaseVersion: pulumi.Output<number>;
    /** Release history (no secrets). */
    public readonly releases: pulumi.Output<ReleaseRecord[]>;
    /** The image ID the dynos run: what `promote` copies. */
    public readonly imageDigest: pulumi.Output<string>;
    /** On a cluster: the image in the cluster's registry by digest, as every node runs it; "" on one host. */
    public readonly imageRef: pulumi.Output<string>;
    /** Dyno names per process type: `{ web: ["web.1", "web.2"], worker: [] }`. */
    public readonly dynos: pulumi.Output<Record<string, string[]>>;
    /** Add-on attachment env var names by add-on: `{ postgres: "DATABASE_URL" }`. */
    public readonly addonAttachments: pulumi.Output<Record<string, string>>;
    /** Add-on attachment URLs by env var (secret): `{ DATABASE_URL: "postgres://..." }`, what `run` and `addons:info` read. */
    public readonly attachments: pulumi.Output<Record<string, string>>;
    /** Config of recent releases by version (secret): what `rollback` restores. */
    public readonly configSnapshots: pulumi.Output<Record<string, Record<string, string>>>;
    /** The config vars the dynos run with (secret): what `preview` compares a new config against. */
    public readonly config: pulumi.Output<Record<string, string>>;
    /** Formation as planned: `{ web: { quantity: 2, size: "standard-1x" } }`. */
    /** Scheduled jobs (`dynoform:scheduler`) as deployed: what `preview` compares the stack file's against. */
    public readonly schedulerJobs: pulumi.Output<Array<{ name: string; schedule: string; what: string }>>;
    public readonly formation: pulumi.Output<Record<string, { quantity: number; size: string; memoryMb: number }>>;

    constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
        super(APP_TYPE, name, {}, opts);
        const { appName, definition } = args.definition ? { appName: args.name ?? name, definition: args.definition } : validateAppArgs(name, args);
        // Never dropped silently: say which of app.json's add-ons do not run, and what is lacking.
        for (const line of definition.skippedAddons) void pulumi.log.warn(line, this);
        const stack = args.stack ?? pulumi.getStack();
        if (stack.includes(".")) {
            throw new pulumi.InputPropertyError({ propertyPath: "stack", reason: `\`stack\` may not contain '.' (it separates app and stack in Docker names; got ${JSON.stringify(stack)})` });
        }
        this.appName = appName;
        this.stackName = stack;
        const images: BaseImageRefs = { ...safeRecordedImages(args.baseImages), ...(args.baseImages ?? {}) } as BaseImageRefs;
        const child = { parent: this };
        const dockerHost = args.dockerHost;

        const cluster = args.cluster;
        const network = new Network(`${name}-net`, {
            dockerHost,
            ...(cluster
                ? { name: swarmName.network(appName, stack), overlay: true }
                : { name: dockerName.network(appName, stack), formerNames: [legacyDockerName.network(appName, stack)] }),
            labels: ownerLabels(appName, stack),
        }, child);

        const image = args.source
            ? new Image(`${name}-image`, {
                  dockerHost,
                  context: path.resolve(args.source),
                  nodeBaseImage: images.node,
                  repository: imageRepository.app(appName),
                  labels: imageLabels(appName),
              }, child)
            : new Image(`${name}-image`, { dockerHost, ref: args.image }, child);

        const addons = definition.addons.map((a) => ({
            spec: a,
            resource: new AddOn(`${name}-${a.name}`, {
                app: appName,
                stack,
                plan: a.plan,
                addonName: a.name,
                network: network.name,
                image: images[ADDON_KINDS[a.plan].baseImage],
                dockerHost,
                deleteDataOnDestroy: args.deleteAddonDataOnDestroy,
                cluster: Boolean(cluster),
                probeImage: cluster ? images.node : undefined,
            }, child),
        }));
        const attachments = pulumi.secret(
            pulumi.all(Object.fromEntries(addons.map((a) => [a.spec.varName, a.resource.url]))),
        ) as pulumi.Output<Record<string, string>>;

        const generated = Object.fromEntries(
            definition.generatedSecrets.map((key) => [
                key,
                new RandomSecret(`${name}-config-${key.toLowerCase().replace(/_/g, "-")}`, { bytes: 32 }, child).value,
            ]),
        );
        // A revert runs the previous release's config as it was; generated secrets stay declared, so they are kept.
        const config = (args.revert
            ? pulumi.output(args.revert.config)
            : pulumi.all({ ...definition.configDefaults, ...generated, ...(args.config ?? {}) })) as pulumi.Output<Record<string, string>>;

        const salt = new RandomSecret(`${name}-release-salt`, { bytes: 16 }, child);
        const releaseId = pulumi.unsecret(
            pulumi.all([salt.value, image.imageId, config, attachments]).apply(([s, imageId, c, att]) =>
                releaseIdOf(s, imageId, { ...c, ...att }),
            ),
        );

        const releasePhase = definition.releaseCommand
            ? new ReleasePhase(`${name}-release-phase`, {
                  dockerHost,
                  app: appName,
                  stack,
                  release: releaseId,
                  image: image.imageId,
                  command: definition.releaseCommand,
                  env: pulumi.all([config, attachments]).apply(([c, att]) =>
                      dynoEnv({ config: c, attachments: att, processType: "release", index: 1 }),
                  ),
                  network: network.name,
                  memoryMb: 512,
              }, { parent: this, dependsOn: addons.map((a) => a.resource) })
            : undefined;

        // On a cluster the image is pushed once to the cluster's registry and run by digest everywhere.
        const pushed = cluster
            ? new RegistryImage(`${name}-image-registry`, { dockerHost, workers: cluster.workers, imageId: image.imageId, repository: registryRepository(appName) }, child)
            : undefined;
        const services = !cluster ? [] : definition.plan.map(
            (p) =>
                new Service(`${name}-${p.type}`, {
                    dockerHost,
                    name: swarmName.service(appName, stack, p.type),
                    image: pushed!.ref,
                    command: p.command,
                    env: pulumi.all([config, attachments]).apply(([c, att]) =>
                        dynoEnv({ config: c, attachments: att, processType: p.type, index: 1, port: p.type === "web" ? WEB_PORT : undefined }),
                    ),
                    processType: p.type,
                    replicas: p.quantity,
                    // As on one host, a web dyno counts as up once it accepts connections on $PORT.
                    listening: p.type === "web" ? { port: WEB_PORT, probeImage: images.node } : undefined,
                    memoryMb: p.size.memoryMb,
                    cpuShares: p.size.cpuShares,
                    network: network.name,
                    labels: pulumi.output(releaseId).apply((release) => ({ ...ownerLabels(appName, stack), [LABEL.processType]: p.type, [LABEL.role]: "dyno", [LABEL.release]: release, [LABEL.size]: p.size.name })),
                    stopGraceSeconds: definition.stopGraceSeconds[p.type],
                    bootTimeoutSeconds: args.bootTimeoutSeconds,
                }, { parent: this, dependsOn: [...(pushed ? [pushed] : []), ...addons.map((a) => a.resource), ...(releasePhase ? [releasePhase] : [])] }),
        );
        const formations = (cluster ? [] : definition.plan).map(
            (p) =>
                new Formation(`${name}-${p.type}`, {
                    app: appName,
                    stack,
                    processType: p.type,
                    command: p.command,
                    quantity: p.quantity,
                    size: p.size,
                    image: image.imageId,
                    config,
                    attachments,
                    releaseId,
                    network: network.name,
                    dockerHost,
                    bootTimeoutSeconds: args.bootTimeoutSeconds,
                    stopGraceSeconds: definition.stopGraceSeconds[p.type],
                    checks: definition.healthchecks[p.type],
                    restarts: args.restarts,
                    running: args.running && (args.running[p.type] ?? 0),
                    dependsOn: [...addons.map((a) => a.resource), ...(releasePhase ? [releasePhase] : [])],
                }, child),
        );

        this.schedulerJobs = pulumi.output((definition.scheduler ?? []).map((j) => ({ name: j.name, schedule: j.schedule, what: jobWhat(j) })));
        schedulerFor(`${name}-scheduler`, {
            app: appName,
            stack,
            jobs: definition.scheduler ?? [],
            addons: definition.addons,
            runtimeImage: images.node,
            postgresImage: images.postgres,
            image: image.imageId,
            config,
            attachments,
            network: network.name,
            dockerHost,
        }, { parent: this, dependsOn: [...addons.map((a) => a.resource), ...(releasePhase ? [releasePhase] : [])] });

        const web = formations.find((f) => f.dynoNames[0]?.startsWith("web."));
        const webService = services.find((_, i) => definition.plan[i].type === "web");
        const clusterRouter =
            args.routerPort !== undefined && cluster && webService
                ? new ClusterRouter(`${name}-router`, {
                      app: appName,
                      stack,
                      network: network.name,
                      image: images.nginx,
                      probeImage: images.node,
                      port: args.routerPort,
                      webPort: WEB_PORT,
                      dockerHost,
                      dependsOn: [webService],
                  }, child)
                : undefined;
        const router =
            args.routerPort !== undefined && !cluster
                ? new Router(`${name}-router`, {
                      app: appName,
                      stack,
                      network: network.name,
                      image: images.nginx,
                      port: args.routerPort,
                      hostIp: args.routerHost,
                      upstreams: web ? web.upstreams : [],
                      dockerHost,
                      dependsOn: web ? web.dynos : [],
                  }, child)
                : undefined;

        const formationSummary = Object.fromEntries(
            definition.plan.map((p) => [p.type, { quantity: p.quantity, size: p.size.name }]),
        );
        const release = new Release(`${name}-release`, {
            releaseId,
            imageId: image.imageId,
            imageRef: pushed?.ref,
            config,
            formation: formationSummary,
            description: args.releaseDescription,
            request: args.releaseRequest,
            failed: args.revert?.failed,
        }, { parent: this, dependsOn: [...formations.flatMap((f) => f.dynos), ...services] });

        this.url = router ? router.url : clusterRouter ? clusterRouter.url : pulumi.output("");
        this.releaseVersion = release.version;
        this.releases = release.history;
        this.imageDigest = image.imageId;
        this.imageRef = pushed ? pushed.ref : pulumi.output("");
        this.dynos = pulumi.output(Object.fromEntries(cluster
            ? definition.plan.map((p) => [p.type, Array.from({ length: p.quantity }, (_, i) => `${p.type}.${i + 1}`)])
            : formations.map((f, i) => [definition.plan[i].type, f.dynoNames])));
        this.addonAttachments = pulumi.output(Object.fromEntries(definition.addons.map((a) => [a.name, a.varName])));
        const planned: Record<string, { quantity: number; size: string; memoryMb: number }> = Object.fromEntries(
            definition.plan.map((p) => [p.type, { quantity: p.quantity, size: p.size.name, memoryMb: p.size.memoryMb }]),
        );
        this.formation = pulumi.output(planned);
        this.config = pulumi.secret(config);
        this.attachments = attachments;
        this.configSnapshots = pulumi.secret(release.snapshots);
        this.registerOutputs({
            // What `dynoform ps`, `logs` and `releases` read in the state of a stack made by any program.
            appName,
            stackName: stack,
            config: this.config,
            configSnapshots: this.configSnapshots,
            url: this.url,
            releaseVersion: this.releaseVersion,
            releases: this.releases,
            imageDigest: this.imageDigest,
            imageRef: this.imageRef,
            dynos: this.dynos,
            addonAttachments: this.addonAttachments,
            attachments: this.attachments,
            formation: this.formation,
            schedulerJobs: this.schedulerJobs,
        });
    }
}

function safeRecordedImages(given?: Partial<BaseImageRefs>): Partial<BaseImageRefs> {
    if (given && given.node && given.postgres && given.redis && given.nginx) return {};
    return recordedBaseImages();
}
