import * as fs from "fs";
import * as path from "path";
import { DEFAULT_DOCKER_HOST } from "../infra/docker/client";
import { UsageError } from "./errors";
import { stackFile } from "./project";
import { readStackFile } from "./stack-settings";
import { managerDockerHost } from "../infra/swarm/cluster-setting";

// A stack's Docker host (`dynoform:dockerHost`) reaches every dockerode client through
// DOCKER_HOST: the CLI's own and, inherited through the Pulumi engine, the providers'. Only the
// address and file paths travel (never a key or passphrase), so nothing secret is in state.

/** DOCKER_HOST as the user's shell gave it, before a stack's setting is applied. */
const userDockerHost = process.env.DOCKER_HOST;

/**
 * The stack's `dynoform:dockerHost`, its file paths made absolute (the providers run in another
 * folder), or undefined when the stack names none. A malformed one is a usage error naming the file.
 */
export function stackDockerHost(dir: string, stack: string, hold = false): string | undefined {
    const file = stackFile(dir, stack);
    if (!fs.existsSync(file)) return undefined;
    const { dockerHost, cluster } = readStackFile(dir, stack, hold).settings;
    // On a cluster the stack's host is its manager (the loader refuses both settings at once).
    const host = cluster ? managerDockerHost(cluster) : dockerHost;
    if (host === undefined || host === "") return undefined;
    const shown = path.relative(process.cwd(), file) || file;
    const field = cluster ? "dynoform:cluster.manager" : "dynoform:dockerHost";
    return normalizeDockerHost(host, dir, (reason) => new UsageError(`${shown}: \`${field}\`: ${reason}`));
}

/** The stack's `dynoform:cluster` with its addresses' file paths made absolute, or undefined when it names none. */
export function stackCluster(dir: string, stack: string): { manager?: string; workers: string[] } | undefined {
    const file = stackFile(dir, stack);
    if (!fs.existsSync(file)) return undefined;
    const cluster = readStackFile(dir, stack).settings.cluster;
    if (!cluster) return undefined;
    const shown = path.relative(process.cwd(), file) || file;
    const workers = (cluster.workers ?? []).map((w, i) =>
        normalizeDockerHost(w, dir, (reason) => new UsageError(`${shown}: \`dynoform:cluster.workers.${i}\`: ${reason}`)),
    );
    return { manager: stackDockerHost(dir, stack), workers };
}

/** Checks a Docker host address and resolves its `identityFile`/`knownHostsFile`/`certPath` against `dir`. Pure. */
export function normalizeDockerHost(host: string, dir: string, fail: (reason: string) => Error): string {
    const scheme = /^(unix|tcp|ssh):\/\//.exec(host)?.[1];
    if (!scheme) throw fail(`"${host}" is not ssh://user@host[:port], tcp://host:port or unix:///path`);
    if (scheme === "unix") return host;
    let url: URL;
    try {
        url = new URL(host);
    } catch {
        throw fail(`"${host}" is not a valid address`);
    }
    const allowed = scheme === "ssh" ? ["identityFile", "knownHostsFile"] : ["certPath"];
    for (const [key, value] of [...url.searchParams]) {
        if (!allowed.includes(key)) throw fail(`unknown option "${key}" in "${host}" (allowed: ${allowed.join(", ")})`);
        if (!value.startsWith("~")) url.searchParams.set(key, path.resolve(dir, value));
    }
    if (!url.hostname) throw fail(`"${host}" names no host`);
    return decodeURIComponent(url.toString());
}

/**
 * Points this process (and the Pulumi engine it starts) at the stack's Docker host. A DOCKER_HOST
 * the user set wins: it is the one-off override, as for the docker CLI.
 */
export function useStackDockerHost(dir: string, stack: string): void {
    if (userDockerHost) return;
    // Read before the command runs: the text is held for the command's own load of the file.
    const host = stackDockerHost(dir, stack, true);
    if (host) {
        process.env.DOCKER_HOST = host;
        process.env.DYNOFORM_DOCKER_HOST_FROM = path.relative(process.cwd(), stackFile(dir, stack)) || stackFile(dir, stack);
    } else {
        delete process.env.DOCKER_HOST;
        delete process.env.DYNOFORM_DOCKER_HOST_FROM;
    }
}

/** The Docker host another stack of the project runs on (promote's source): as {@link useStackDockerHost} would choose. */
export function dockerHostOf(dir: string, stack: string): string {
    return userDockerHost || stackDockerHost(dir, stack) || DEFAULT_DOCKER_HOST;
}
