import * as pulumi from "@pulumi/pulumi";
import { LABEL, ownerLabels, swarmName } from "../infra/docker/labels";
import { ROUTER_LISTEN_PORT, ROUTER_TEMPLATE_FILE, renderRouterConfig } from "../infra/docker/router-config";
import { Service } from "../infra/swarm/service";
import { ROUTER_COMMAND } from "./router";

/** Type token of {@link ClusterRouter}. */
export const CLUSTER_ROUTER_TYPE = "dynoform:index:ClusterRouter";

/** Arguments of a {@link ClusterRouter}. */
export interface ClusterRouterArgs {
    app: string;
    stack: string;
    /** The app's overlay network. */
    network: pulumi.Input<string>;
    /** The nginx image, present on the ingress nodes. */
    image: pulumi.Input<string>;
    /** Port published (host mode) on each ingress node. */
    port: number;
    /** The web service's port. */
    webPort: number;
    /** The Swarm manager. */
    dockerHost?: pulumi.Input<string>;
    /** Created after these (the web service). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The router's command on a cluster: write the config template, whose one upstream line stands
 * for every task of the web service (`tasks.<service>`, which the sync script expands to one
 * server per task address), then run nginx with the once-a-second sync loop, as on one host. A
 * task Swarm starts is routed to within a second of its name resolving; one it stops leaves DNS
 * before its SIGTERM, and a request that still reaches it is retried on another (proxy_next_upstream). Pure.
 */
export function clusterRouterCommand(app: string, webService: string, webPort: number): string {
    const template = renderRouterConfig(app, [{ host: `tasks.${webService}`, port: webPort }]);
    return [`printf '%s' '${Buffer.from(template).toString("base64")}' | base64 -d > ${ROUTER_TEMPLATE_FILE}`, ROUTER_COMMAND].join("; ");
}

/**
 * An app's router on a Swarm cluster: nginx as a service with one task on each node labelled
 * `dynoform.ingress=true` (the manager when none is), its port published in host mode there (no
 * routing mesh: this kernel has no IPVS), spreading requests over every web task.
 */
export class ClusterRouter extends pulumi.ComponentResource {
    /** `http://<first ingress node's address>:<port>`. */
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: ClusterRouterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(CLUSTER_ROUTER_TYPE, name, {}, opts);
        const service = new Service(`${name}-nginx`, {
            dockerHost: args.dockerHost,
            name: swarmName.service(args.app, args.stack, "router"),
            image: args.image,
            command: clusterRouterCommand(args.app, swarmName.service(args.app, args.stack, "web"), args.webPort),
            env: {},
            processType: "router",
            replicas: 1,
            memoryMb: 64,
            cpuShares: 1024,
            network: args.network,
            labels: { ...ownerLabels(args.app, args.stack), [LABEL.role]: "router", [LABEL.router]: "true" },
            stopGraceSeconds: 10,
            ingress: { port: args.port, targetPort: ROUTER_LISTEN_PORT },
        }, { parent: this, dependsOn: args.dependsOn });
        this.url = service.ingressAddresses.apply((a) => `http://${a?.[0] ?? "127.0.0.1"}:${args.port}`);
        this.registerOutputs({ url: this.url });
    }
}
