/** Label keys Dynoform puts on every Docker object it manages; `ps`, refresh and orphan checks read them. */
export const LABEL = {
    managed: "dev.dynoform.managed",
    app: "dev.dynoform.app",
    stack: "dev.dynoform.stack",
    processType: "dev.dynoform.process-type",
    index: "dev.dynoform.index",
    dyno: "dev.dynoform.dyno",
    release: "dev.dynoform.release",
    size: "dev.dynoform.size",
    role: "dev.dynoform.role",
    /** On the router container: its published port is an app's router port. */
    router: "dev.dynoform.router",
    /** On dynos: changes when `ps:restart` asks for a rolling restart. */
    restart: "dev.dynoform.restart",
    /** On add-on containers: the add-on's plan. */
    plan: "dev.dynoform.plan",
    /** On built images: the content hash they were built from. */
    contentHash: "dev.dynoform.content-hash",
    /** On locally built base images: which base image (node, postgres, redis, nginx). */
    baseImage: "dev.dynoform.base-image",
} as const;

/** Label on add-on containers and data volumes; its value is the add-on's name (`postgres`, `cache`). */
export const ADDON_LABEL = "dev.dynoform.addon";

/**
 * What a Dynoform container is for, its `dev.dynoform.role` label: a `dyno` of a Procfile process
 * type, an `addon` server, the app's `router`, a one-off (`run`, `release`), or a `pg-backups`
 * helper. Readers ask {@link containerRole}, never the label itself.
 */
export type ContainerRole = "dyno" | "addon" | "router" | "run" | "release" | "pg-backups";

/** The role label of a container made now. */
export function roleLabel(role: ContainerRole): Record<string, string> {
    return { [LABEL.role]: role };
}

/**
 * The role of a container from its labels, or undefined for one Dynoform did not make.
 * Add-on servers and routers made before they had roles of their own are labelled `role=dyno`
 * and keep that label until they are next replaced (Docker cannot relabel a container, and
 * replacing one for a label would stop a database): their add-on or router label tells. Pure.
 */
export function containerRole(labels: Record<string, string> | undefined): ContainerRole | undefined {
    const role = labels?.[LABEL.role] as ContainerRole | undefined;
    if (role !== undefined && role !== "dyno") return role;
    if (labels?.[ADDON_LABEL]) return "addon";
    if (labels?.[LABEL.router] === "true") return "router";
    return role;
}

/**
 * Docker label filters that find every container of `role` in one app's stack, those made
 * before roles were split included; narrow the answer with {@link containerRole} (a `dyno`
 * filter also finds older add-on servers and routers). Pure.
 */
export function roleFilter(role: ContainerRole, app?: string, stack?: string): string[] {
    const owner = [...(app === undefined ? [] : [`${LABEL.app}=${app}`]), ...(stack === undefined ? [] : [`${LABEL.stack}=${stack}`])];
    if (role === "addon") return [...owner, ADDON_LABEL];
    if (role === "router") return [...owner, `${LABEL.router}=true`];
    return [...owner, `${LABEL.role}=${role}`];
}

/** The labels that identify an object as belonging to one app in one stack. */
export function ownerLabels(app: string, stack: string): Record<string, string> {
    return { [LABEL.managed]: "true", [LABEL.app]: app, [LABEL.stack]: stack };
}

/** The labels of an app's built image: its app (images are shared by the app's stacks, as promotion copies them). */
export function imageLabels(app: string): Record<string, string> {
    return { [LABEL.app]: app };
}

/** Docker image repositories Dynoform builds into, spelled here and nowhere else. Pure. */
export const imageRepository = {
    /** An app's built images: `dynoform/hello` (tagged with the source's content hash). */
    app: (app: string) => `dynoform/${app}`,
    /** A base image built from Debian packages: `dynoform/postgres:<recipe hash>`. */
    base: (name: string, hash: string) => `dynoform/${name}:${hash}`,
    /** The root filesystem a base image is built from: `dynoform/rootfs-postgres:<hash>`. */
    rootfs: (name: string, hash: string) => `dynoform/rootfs-${name}:${hash}`,
    /** An app's images in a cluster's registry, which every node reaches at 127.0.0.1: `127.0.0.1:5000/hello`. */
    registry: (app: string, port: number) => `127.0.0.1:${port}/${app.toLowerCase()}`,
};

/**
 * Docker object names: `<app>.<stack>[.<part>...]`, built here and nowhere else. App names are
 * [a-z][a-z0-9-] and stack names may not contain '.', so the first two dots always split a name
 * back into its app and stack: two (app, stack) pairs never share a name. (The old scheme
 * `<app>-<stack>` gave app `a-b` on stack `c` and app `a` on stack `b-c` the same names.) Pure.
 */
export const dockerName = {
    /** The app's network: `hello.dev`. */
    network: (app: string, stack: string) => `${app}.${stack}`,
    /** An add-on's data volume: `hello.dev.postgres-data`. */
    dataVolume: (app: string, stack: string, addon: string) => `${app}.${stack}.${addon}-data`,
    /** The Postgres backups volume, kept by `destroy`: `hello.dev.pg-backups`. */
    backupsVolume: (app: string, stack: string) => `${app}.${stack}.pg-backups`,
    /** The router's config volume: `hello.dev.router-conf`. */
    routerConf: (app: string, stack: string) => `${app}.${stack}.router-conf`,
    /** A container: `hello.dev.web.1.3f9a1c` (dynos, add-ons, the router, one-offs). */
    container: (app: string, stack: string, ...parts: Array<string | number>) => [app, stack, ...parts].join("."),
};

/** Names on a Swarm cluster, where networks and services must be DNS name components (no dots). Pure. */
export const swarmName = {
    /** The app's overlay network: `hello-dev`. */
    network: (app: string, stack: string) => `${app}-${stack}`,
    /** A process type's service: `hello-dev-web`. */
    service: (app: string, stack: string, processType: string) => `${app}-${stack}-${processType.replace(/_/g, "-")}`,
    /** The cluster's registry (one per cluster, no app's): its service, forwarder service, overlay network and data volume. */
    registry: { service: "dynoform-registry", forwarder: "dynoform-registry-port", network: "dynoform-registry", volume: "dynoform-registry-data" },
};

/**
 * Names of the scheme before `dockerName` (`<app>-<stack>...`). A volume or network recorded in
 * state under such a name keeps it (no rename, no data moved), and an add-on's data volume kept
 * by an earlier `destroy` is adopted under it, both only when its owner labels are this app's. Pure.
 */
export const legacyDockerName = {
    network: (app: string, stack: string) => `${app}-${stack}`,
    dataVolume: (app: string, stack: string, addon: string) => `${app}-${stack}-${addon}-data`,
    routerConf: (app: string, stack: string) => `${app}-${stack}-router-conf`,
};

/**
 * Why a Docker object found under a name this app wants may not be adopted: undefined when its
 * labels say it belongs to the same app and stack, else one line naming the object and its
 * owner. `want` is the labels the object would be created with. Pure.
 */
export function notOwned(kind: string, name: string, found: Record<string, string> | null | undefined, want: Record<string, string> | undefined): string | undefined {
    const app = want?.[LABEL.app];
    const stack = want?.[LABEL.stack];
    const has = found ?? {};
    if (app !== undefined && has[LABEL.app] === app && has[LABEL.stack] === stack) return undefined;
    const owner = has[LABEL.app] !== undefined
        ? `app ${has[LABEL.app]} (stack ${has[LABEL.stack] ?? "?"})`
        : "no Dynoform app (it has no dev.dynoform.app label)";
    const us = app !== undefined ? `, not to app ${app} (stack ${stack})` : "";
    return `${kind} ${name} already exists and belongs to ${owner}${us}: nothing was changed; remove or rename it, or choose another app or stack name`;
}
