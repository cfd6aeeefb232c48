import * as pulumi from "@pulumi/pulumi";
import { LABEL, ownerLabels, swarmName } from "../infra/docker/labels";
import { ROUTER_LISTEN_PORT, ROUTER_TEMPLATE_FILE } from "../infra/docker/router-config";
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
    /** An image with `node` on the manager, to ask whether the router listens (infra/swarm/tasks.ts). */
    probeImage: pulumi.Input<string>;
    /** Port published (host mode) on each ingress node. */
    port: number;
    /** The web service's port. */
    webPort: number;
    /** The Swarm manager. */
    dockerHost?: pulumi.Input<string>;
    /** Created after these (the web service). */
    dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Docker's DNS server inside a container on a user-defined or overlay network. */
const DOCKER_DNS = "127.0.0.11";

/**
 * The router's nginx configuration on a cluster: nginx itself resolves `tasks.<web service>`
 * (every task's address, dnsrr) through Docker's DNS, at most a second old, and spreads requests
 * over all of them, so a rollout or a node fault needs no reload (a reload closes idle client
 * connections, which races with requests sent on them). A task Swarm stops leaves DNS before its
 * SIGTERM; a request that still reaches it, or a task not listening yet, or one on a dead node
 * (after a 1 s connect timeout: the overlay answers in milliseconds) is retried on the next. Pure.
 */
export function renderClusterRouterConfig(webService: string, webPort: number): string {
    const proxy = (name: string) => [
        `        set $dynos ${name};`,
        `        proxy_pass http://$dynos:${webPort};`,
        "        proxy_http_version 1.1;",
        "        proxy_set_header Host $http_host;",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "        proxy_set_header X-Forwarded-Proto $scheme;",
        '        proxy_set_header X-Request-Start "t=${msec}";',
        "        proxy_next_upstream error timeout http_502 http_503;",
        "        proxy_connect_timeout 1s;",
        // Heroku's router gives a request 30 s to start answering.
        "        proxy_read_timeout 30s;",
    ];
    return [
        "server {",
        `    listen ${ROUTER_LISTEN_PORT} default_server;`,
        "    client_max_body_size 100m;",
        // nginx closes a client's keep-alive connection after its 1000th request by default; a
        // client that sent its next request meanwhile gets a reset (11 in 30 s at 850 requests/s
        // with no change at all, measured through this router): keep the connection.
        "    keepalive_requests 1000000;",
        `    resolver ${DOCKER_DNS} valid=1s ipv6=off;`,
        "    resolver_timeout 2s;",
        "    location / {",
        ...proxy(`tasks.${webService}`),
        // A failed lookup (Docker's DNS missed one under a rollout: 23 requests of 5,805 got a
        // 502 at once) or every address refusing: once more, by the service's own name, which
        // dnsrr resolves to the same tasks and nginx caches apart. Only where a resend is safe.
        "        error_page 502 504 = @again;",
        "    }",
        "    location @again {",
        "        if ($request_method !~ ^(GET|HEAD|OPTIONS)$) { return 502; }",
        ...proxy(webService),
        "    }",
        "}",
        "",
    ].join("\n");
}

/**
 * The router's command on a cluster: write its configuration as the template (it names no
 * container, so the sync script renders it as it is), then run nginx as on one host. Pure.
 */
export function clusterRouterCommand(webService: string, webPort: number): string {
    const conf = renderClusterRouterConfig(webService, webPort);
    return [`printf '%s' '${Buffer.from(conf).toString("base64")}' | base64 -d > ${ROUTER_TEMPLATE_FILE}`, ROUTER_COMMAND].join("; ");
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
            command: clusterRouterCommand(swarmName.service(args.app, args.stack, "web"), args.webPort),
            env: {},
            processType: "router",
            replicas: 1,
            memoryMb: 64,
            cpuShares: 1024,
            network: args.network,
            labels: { ...ownerLabels(args.app, args.stack), [LABEL.role]: "router", [LABEL.router]: "true" },
            stopGraceSeconds: 10,
            ingress: { port: args.port, targetPort: ROUTER_LISTEN_PORT },
            // `up` returns once the router takes requests, as on one host.
            listening: pulumi.output(args.probeImage).apply((probeImage) => ({ port: ROUTER_LISTEN_PORT, probeImage })),
        }, { parent: this, dependsOn: args.dependsOn });
        this.url = service.ingressAddresses.apply((a) => `http://${a?.[0] ?? "127.0.0.1"}:${args.port}`);
        this.registerOutputs({ url: this.url });
    }
}
