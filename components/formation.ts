import * as pulumi from "@pulumi/pulumi";
import { Dyno } from "../infra/docker/dyno";
import { Upstream } from "../infra/docker/router-config";
import { dynoEnv } from "./config-vars";
import { DynoSize } from "./dyno-size";
import { DynoCheck } from "./healthchecks";
import { LABEL } from "../infra/docker/labels";

/** Type token of {@link Formation}. */
export const FORMATION_TYPE = "dynoform:index:Formation";

/** `$PORT` inside a web dyno: every container has its own network namespace, so one fixed port serves. */
export const WEB_PORT = 5000;

/** Arguments of a {@link Formation}: the dynos of one process type. */
export interface FormationArgs {
    app: string;
    stack: string;
    /** Process type from the Procfile (`web`, `worker`, ...). */
    processType: string;
    /** The Procfile command; undefined: the image's CMD. */
    command?: string;
    /** Number of dynos. */
    quantity: number;
    size: DynoSize;
    image: pulumi.Input<string>;
    /** Config vars (secret values allowed). */
    config: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Add-on attachment vars (`DATABASE_URL`, ...), secret. */
    attachments: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Code release id, a label on every dyno. */
    releaseId: pulumi.Input<string>;
    network: pulumi.Input<string>;
    dockerHost?: pulumi.Input<string>;
    bootTimeoutSeconds?: number;
    stopGraceSeconds?: number;
    /** Startup checks each new dyno passes before any old dyno of the type is stopped (app.json `healthchecks`). */
    checks?: DynoCheck[];
    /**
     * Restart tokens by `web` or `web.2`: a new token replaces those dynos one at a time
     * (`dynoform ps:restart`), new ones admitted by the router before the old ones stop.
     */
    restarts?: Record<string, string>;
    /** What every dyno waits for (the release phase, add-ons). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
    /**
     * How many dynos of this type the last deployment runs, when known (the CLI reads it from the
     * stack's outputs). Dynos past it are new: they start side by side instead of one after another.
     * Unknown (a plain `pulumi up`): every dyno waits for the one before it.
     */
    running?: number;
}

/** What dyno `index` (1-based) waits for: the one before it while both already run, else what the type waits for. Pure. */
export function dynoDependsOn<T>(index: number, running: number | undefined, previous: T | undefined, given: T[] | undefined): T[] | undefined {
    const chained = previous !== undefined && index <= (running ?? Infinity);
    return chained ? [previous] : given;
}

/** The restart label of one dyno, or undefined when it was never restarted. Pure. */
export function restartLabel(restarts: Record<string, string> | undefined, type: string, index: number) {
    const token = restarts?.[`${type}.${index}`] ?? restarts?.[type];
    return token === undefined ? undefined : { [LABEL.restart]: token };
}

/**
 * The dynos of one process type, `web.1` .. `web.N`, each a {@link Dyno}. Each dyno that already
 * runs depends on the one before it, so a new release rolls one dyno at a time and a scale-down
 * stops the highest numbers first; new dynos (past `running`) start side by side, so a first
 * deploy or a scale-up of 30 does not start them one after another.
 */
export class Formation extends pulumi.ComponentResource {
    /** `web.1`, `web.2`, ... */
    public readonly dynoNames: string[];
    /** The dyno resources, in index order. */
    public readonly dynos: Dyno[];
    /** Router upstreams (web only). */
    public readonly upstreams: pulumi.Output<Upstream>[];

    constructor(name: string, args: FormationArgs, opts?: pulumi.ComponentResourceOptions) {
        super(FORMATION_TYPE, name, {}, opts);
        const port = args.processType === "web" ? WEB_PORT : undefined;
        this.dynos = [];
        let previous: Dyno | undefined;
        for (let index = 1; index <= args.quantity; index++) {
            const env = pulumi
                .all([args.config, args.attachments])
                .apply(([config, attachments]) =>
                    dynoEnv({ config, attachments, processType: args.processType, index, port }),
                );
            const dyno: Dyno = new Dyno(
                `${name}-${index}`,
                {
                    dockerHost: args.dockerHost,
                    app: args.app,
                    stack: args.stack,
                    processType: args.processType,
                    index,
                    release: args.releaseId,
                    image: args.image,
                    command: args.command,
                    env,
                    size: args.size.name,
                    memoryMb: args.size.memoryMb,
                    cpuShares: args.size.cpuShares,
                    network: args.network,
                    port,
                    bootTimeoutSeconds: args.bootTimeoutSeconds,
                    stopGraceSeconds: args.stopGraceSeconds,
                    checks: args.checks?.length ? args.checks : undefined,
                    labels: restartLabel(args.restarts, args.processType, index),
                },
                { parent: this, dependsOn: dynoDependsOn(index, args.running, previous, args.dependsOn) },
            );
            this.dynos.push(dyno);
            previous = dyno;
        }
        this.dynoNames = this.dynos.map((_, i) => `${args.processType}.${i + 1}`);
        this.upstreams = port
            ? this.dynos.map((d) =>
                  pulumi.all([d.containerName, d.containerId]).apply(([host, containerId]) => ({ host, port, containerId })),
              )
            : [];
        this.registerOutputs({ dynoNames: this.dynoNames });
    }
}
