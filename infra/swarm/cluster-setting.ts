import * as path from "path";

// `dynoform:cluster`: the stack runs on a Docker Swarm cluster instead of one engine. Pure and
// free of the Pulumi SDK and dockerode: the stack-file loader checks it.
//
//   dynoform:cluster:
//     manager: ssh://root@10.0.0.5      # a Swarm manager: ssh://, tcp://, unix:// or `local`
//     workers:                          # the other nodes' engines (optional)
//       - ssh://root@10.0.0.6
//
// The manager is where the stack's services are declared (it replaces `dynoform:dockerHost`).
// `workers` are the engines the cluster registry's own image is copied to (once: it serves
// 127.0.0.1:5000 on each node, infra/swarm/registry.ts) and the hosts `doctor` joins to the
// manager's cluster when they are in none.

/** The stack's cluster, as the stack file gives it. */
export interface ClusterSetting {
    /** The manager's Docker host address, or `local` for this machine's engine. */
    manager: string;
    /** The other nodes' Docker host addresses. */
    workers?: string[];
}

const FIELDS = ["manager", "workers"];

const isDockerHost = (v: unknown) => typeof v === "string" && /^(unix|tcp|ssh):\/\/./.test(v);
const ADDRESS = "ssh://user@host[:port], tcp://host:port or unix:///path";

/** What is wrong with a `dynoform:cluster` value (the path below it and why), or undefined. Pure. */
export function clusterSettingProblem(value: Record<string, unknown>): { at: string[]; reason: string } | undefined {
    for (const key of Object.keys(value)) {
        if (!FIELDS.includes(key)) return { at: [key], reason: `unknown field; a cluster has ${FIELDS.join(" and ")}` };
    }
    const { manager, workers } = value;
    if (manager === undefined || manager === null || manager === "") {
        return { at: [], reason: `names no \`manager\` (a Swarm manager's Docker host, ${ADDRESS}, or local)` };
    }
    if (manager !== "local" && !isDockerHost(manager)) {
        return { at: ["manager"], reason: `expected local or ${ADDRESS}, got ${JSON.stringify(manager)}` };
    }
    if (workers === undefined || workers === null) return undefined;
    if (!Array.isArray(workers)) return { at: ["workers"], reason: `expected a list of Docker hosts, got ${JSON.stringify(workers)}` };
    const bad = workers.findIndex((w) => !isDockerHost(w));
    if (bad >= 0) return { at: ["workers", String(bad)], reason: `expected ${ADDRESS}, got ${JSON.stringify(workers[bad])}` };
    const twice = workers.findIndex((w, i) => workers.indexOf(w) !== i || w === manager);
    if (twice >= 0) return { at: ["workers", String(twice)], reason: `${workers[twice]} is named twice (as the manager or another worker)` };
    return undefined;
}

/** The manager's Docker host address, or undefined for this machine's engine (`local`). Pure. */
export function managerDockerHost(cluster: ClusterSetting): string | undefined {
    return cluster.manager === "local" ? undefined : cluster.manager;
}

/**
 * What a cluster stack cannot run yet, as one line, or undefined. Scheduled commands run there
 * (the scheduler and its runs are containers on the manager, as `run` is); scheduled backups do
 * not: `pg:backups` reads a backups volume on one Docker host, which no cluster test covers. Pure.
 */
export function clusterUnsupported(app: { backupJobs: string[] }): string | undefined {
    const [job] = app.backupJobs;
    return job === undefined
        ? undefined
        : `scheduled backups (\`dynoform:scheduler.${job}\`, as pg:backups:schedule writes it) do not run on a Swarm cluster yet: scheduled commands, process types, add-ons and the release phase do`;
}

/**
 * A worker's address with its `identityFile`, `knownHostsFile` or `certPath` made absolute
 * against the project folder (the providers run elsewhere), as the CLI does for the manager. Pure.
 */
export function resolveHostFiles(host: string, dir: string): string {
    if (!/^(ssh|tcp):\/\//.test(host)) return host;
    let url: URL;
    try {
        url = new URL(host);
    } catch {
        return host;
    }
    for (const key of ["identityFile", "knownHostsFile", "certPath"]) {
        const value = url.searchParams.get(key);
        if (value && !value.startsWith("~")) url.searchParams.set(key, path.resolve(dir, value));
    }
    return decodeURIComponent(url.toString());
}
