import * as pulumi from "@pulumi/pulumi";
import { defaultRouterHost, routerUrlHost } from "../infra/docker/client";
import { Dyno } from "../infra/docker/dyno";
import {
    ROUTER_CONF_DIR,
    ROUTER_CONF_FILE,
    ROUTER_LISTEN_PORT,
    ROUTER_SYNC,
    ROUTER_SYNC_SCRIPT,
    ROUTER_WATCH_LOOP,
    RouterConfig,
    Upstream,
} from "../infra/docker/router-config";
import { LABEL, dockerName, legacyDockerName, ownerLabels } from "../infra/docker/labels";
import { Volume } from "../infra/docker/volume";

/** Type token of {@link Router}. */
export const ROUTER_TYPE = "dynoform:index:Router";

/** Arguments of a {@link Router}. */
export interface RouterArgs {
    app: string;
    stack: string;
    /** The app network (where the web dynos are). */
    network: pulumi.Input<string>;
    /** The nginx image. */
    image: pulumi.Input<string>;
    /** Host port the router is published on. */
    port: number;
    /** Host address the router is published on (127.0.0.1 unless asked otherwise). */
    hostIp?: string;
    /** The web dynos to route to. */
    upstreams: pulumi.Input<pulumi.Input<Upstream>[]>;
    dockerHost?: pulumi.Input<string>;
    /** Resources the config must wait for (all web dynos of the release). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The router container's command: install the sync script, start with a 503 page until the
 * first config arrives, run nginx, and follow the dynos' addresses every second. SIGTERM/SIGQUIT go to
 * nginx (graceful stop).
 */
export const ROUTER_COMMAND = [
    `printf '%s' '${Buffer.from(ROUTER_SYNC_SCRIPT).toString("base64")}' | base64 -d > ${ROUTER_SYNC} && chmod 755 ${ROUTER_SYNC}`,
    `[ -s ${ROUTER_CONF_FILE} ] || printf 'server { listen ${ROUTER_LISTEN_PORT} default_server; return 503; }\\n' > ${ROUTER_CONF_FILE}`,
    `${ROUTER_SYNC} >/dev/null 2>&1`,
    "nginx -g 'daemon off;' & nginx=$!",
    "trap 'kill -QUIT $nginx' TERM QUIT INT",
    // Its changes and nginx's errors go to the router's log.
    ROUTER_WATCH_LOOP,
    "wait $nginx",
].join("; ");

/**
 * An app's HTTP router: an nginx container published on the host that spreads requests over
 * the web dynos. Scale changes and new releases reload its config (no restart, in-flight
 * requests finish); a new web dyno gets traffic only once it answers on `$PORT`.
 */
export class Router extends pulumi.ComponentResource {
    /** `http://127.0.0.1:<port>`. */
    public readonly url: pulumi.Output<string>;
    /** The router container's name. */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: RouterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ROUTER_TYPE, name, {}, opts);
        const hostIp = args.hostIp ?? defaultRouterHost();
        const conf = new Volume(
            `${name}-conf`,
            {
                dockerHost: args.dockerHost,
                name: dockerName.routerConf(args.app, args.stack),
                formerNames: [legacyDockerName.routerConf(args.app, args.stack)],
                labels: ownerLabels(args.app, args.stack),
                deleteOnDestroy: true,
            },
            { parent: this },
        );
        const container = new Dyno(
            `${name}-nginx`,
            {
                dockerHost: args.dockerHost,
                app: args.app,
                stack: args.stack,
                processType: "router",
                index: 1,
                image: args.image,
                command: ROUTER_COMMAND,
                memoryMb: 64,
                cpuShares: 1024,
                network: args.network,
                port: ROUTER_LISTEN_PORT,
                publish: { hostIp, hostPort: args.port },
                mounts: [pulumi.interpolate`${conf.name}:${ROUTER_CONF_DIR}`],
                // Only config in the volume: a new router (another port) starts before the old one
                // stops, so a port that turns out busy leaves the old router serving.
                shareMounts: true,
                stopGraceSeconds: 10,
                role: "router",
                // Kept beside the role label: routers made before it are found by this one.
                labels: { [LABEL.router]: "true" },
            },
            // Created after the web dynos: a first `up` whose dynos fail leaves no router answering.
            { parent: this, dependsOn: args.dependsOn },
        );
        new RouterConfig(
            `${name}-config`,
            { dockerHost: args.dockerHost, container: container.containerName, upstreams: args.upstreams, app: args.app, stack: args.stack },
            { parent: this, dependsOn: args.dependsOn },
        );
        const shownHost = routerUrlHost(hostIp);
        this.url = pulumi.output(`http://${shownHost}:${args.port}`);
        this.containerName = container.containerName;
        this.registerOutputs({ url: this.url, containerName: this.containerName });
    }
}
