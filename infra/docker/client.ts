import type Docker = require("dockerode");

/**
 * dockerode, loaded on first use: it takes a quarter of a CPU-second to load, and `--help` or a
 * usage error never talks to Docker.
 */
function dockerode(): typeof Docker {
    return require("dockerode");
}

/** Where the Docker Engine API is reached, and what told us so (for error messages). */
export interface DockerEndpoint {
    /** `unix:///var/run/docker.sock` or `tcp://host:port`. */
    host: string;
    /** `DOCKER_HOST` when the environment chose it, `default` otherwise. */
    source: "DOCKER_HOST" | "default" | "argument";
}

export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** The endpoint that `docker` itself would use: DOCKER_HOST, else the default socket. */
export function resolveDockerEndpoint(host?: string): DockerEndpoint {
    if (host) {
        return { host, source: "argument" };
    }
    const fromEnv = process.env.DOCKER_HOST;
    if (fromEnv) {
        return { host: fromEnv, source: "DOCKER_HOST" };
    }
    return { host: DEFAULT_DOCKER_HOST, source: "default" };
}

/** Builds dockerode options for a `unix://` or `tcp://` DOCKER_HOST value. */
export function dockerOptions(host: string): Docker.DockerOptions {
    if (host.startsWith("unix://")) {
        return { socketPath: host.slice("unix://".length) };
    }
    const match = /^(tcp|http|https):\/\/([^:/]+)(?::(\d+))?\/?$/.exec(host);
    if (!match) {
        throw new DockerHostError(
            `Docker host "${host}" (from DOCKER_HOST or dockerHost) is not a unix:// or tcp://host:port address`,
        );
    }
    const [, scheme, hostname, port] = match;
    return {
        host: hostname,
        port: port ? Number(port) : 2375,
        protocol: scheme === "https" ? "https" : "http",
    };
}

/** A dockerode client for an endpoint. `host` defaults to DOCKER_HOST or the default socket. */
export function connectDocker(host?: string): Docker {
    const Dockerode = dockerode();
    return new Dockerode(dockerOptions(resolveDockerEndpoint(host).host));
}

/** A Docker endpoint that does not answer or is malformed. */
export class DockerHostError extends Error {
    override readonly name: string = "DockerHostError";
}

/** The shape of errors thrown by docker-modem: an HTTP status and the engine's JSON reason. */
export interface DockerApiError extends Error {
    statusCode?: number;
    reason?: string;
    json?: { message?: string } | null;
    code?: string;
}

/** True when a Docker API error means "no such object" (HTTP 404). */
export function isNotFound(err: unknown): boolean {
    return (err as DockerApiError | undefined)?.statusCode === 404;
}

/** The engine's own message for an API error, without docker-modem's "(HTTP code 409) ..." prefix. */
export function engineMessage(err: unknown): string {
    const e = err as DockerApiError;
    return e?.json?.message ?? e?.message ?? String(err);
}

/**
 * Pings the engine with a deadline. Resolves to the engine version, or rejects with a
 * one-line {@link DockerHostError} that names where the address came from: a
 * {@link DockerSlowError} when something listens but did not answer in time (a busy engine),
 * a plain one when nothing answers at all.
 */
export async function pingDocker(
    endpoint: DockerEndpoint = resolveDockerEndpoint(),
    timeoutMs = 5000,
): Promise<{ version: string; apiVersion: string }> {
    const Dockerode = dockerode();
    const docker = new Dockerode(dockerOptions(endpoint.host));
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
        // dockerode 4 takes `abortSignal` on every call; its type declarations leave it out here.
        const version = docker.version.bind(docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<Docker.DockerVersion>;
        const v = await version({ abortSignal: deadline });
        return { version: v.Version, apiVersion: v.ApiVersion };
    } catch (err) {
        if (deadline.aborted) {
            throw new DockerSlowError(`Docker engine at ${describeEndpoint(endpoint)} did not answer within ${timeoutMs / 1000} s`);
        }
        throw unreachable(endpoint, err);
    }
}

/** An engine that accepted the connection (or may have) but did not answer before the deadline. */
export class DockerSlowError extends DockerHostError {
    override readonly name = "DockerSlowError";
}

/** Where an endpoint came from, for messages: `DOCKER_HOST=tcp://…`, or the default socket. */
function describeEndpoint(endpoint: DockerEndpoint): string {
    return endpoint.source === "DOCKER_HOST"
        ? `DOCKER_HOST=${endpoint.host}`
        : endpoint.source === "argument"
          ? `dockerHost ${endpoint.host}`
          : `the default socket ${endpoint.host} (DOCKER_HOST is not set)`;
}

/** The error for an engine that does not answer, naming DOCKER_HOST or the socket. */
export function unreachable(endpoint: DockerEndpoint, err: unknown): DockerHostError {
    const cause = (err as DockerApiError)?.code ?? engineMessage(err);
    return new DockerHostError(`Docker engine not reachable at ${describeEndpoint(endpoint)}: ${cause}`);
}
