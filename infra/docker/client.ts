import Module = require("module");
import type Docker = require("dockerode");

/**
 * dockerode, loaded on first use: it takes a quarter of a CPU-second to load, and `--help` or a
 * usage error never talks to Docker.
 */
function dockerode(): typeof Docker {
    deferBuildKitSession();
    return require("dockerode");
}

/**
 * dockerode requires its BuildKit session module when it is loaded, and with it gRPC and
 * protobufjs (118 modules, a tenth to a fifth of a CPU-second in every process that talks to
 * Docker: the CLI and the dynamic-provider host), though only a BuildKit build (`version: "2"`)
 * calls it, which Dynoform never asks for. A stand-in in the module cache loads the real module
 * on its first call.
 */
function deferBuildKitSession(): void {
    const file = require.resolve("dockerode/lib/session");
    if (require.cache[file]) return;
    let real: ((...args: unknown[]) => unknown) | undefined;
    const standIn = new Module(file);
    standIn.filename = file;
    standIn.loaded = true;
    standIn.exports = (...args: unknown[]) => {
        if (!real) {
            delete require.cache[file];
            real = require(file) as (...args: unknown[]) => unknown;
        }
        return real(...args);
    };
    require.cache[file] = standIn;
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

/**
 * Builds dockerode options for a Docker host: `unix:///path`, `tcp://host:port` (TLS when the
 * port is 2376 or DOCKER_TLS_VERIFY is set, client certificates from `?certPath=DIR`,
 * DOCKER_CERT_PATH or ~/.docker), or `ssh://user@host[:port]` (see ssh.ts).
 */
export function dockerOptions(host: string): Docker.DockerOptions {
    if (host.startsWith("unix://")) {
        return { socketPath: host.slice("unix://".length) };
    }
    if (host.startsWith("ssh://")) {
        const { parseSshHost, sshAgent, SshHostError } = require("./ssh") as typeof import("./ssh");
        try {
            // The host and port here only name the engine in docker-modem's requests: the agent dials.
            return { protocol: "http", host: "docker", port: 80, agent: sshAgent(parseSshHost(host)) } as Docker.DockerOptions;
        } catch (err) {
            if (err instanceof SshHostError) throw new DockerHostError(err.message);
            throw err;
        }
    }
    const match = /^(tcp|http|https):\/\/([^:/?]+)(?::(\d+))?\/?(?:\?certPath=([^&]+))?$/.exec(host);
    if (!match) {
        throw new DockerHostError(
            `Docker host "${host}" (from DOCKER_HOST or dockerHost) is not a unix://, tcp://host:port or ssh://user@host address`,
        );
    }
    const [, scheme, hostname, port, certPath] = match;
    const tls = scheme === "https" || (scheme === "tcp" && (port === "2376" || Boolean(process.env.DOCKER_TLS_VERIFY) || Boolean(certPath)));
    if (!tls) {
        return { host: hostname, port: port ? Number(port) : 2375, protocol: "http" };
    }
    const dir = certPath ? decodeURIComponent(certPath).replace(/^~(?=\/|$)/, require("os").homedir()) : process.env.DOCKER_CERT_PATH ?? require("path").join(require("os").homedir(), ".docker");
    const read = (f: string) => {
        const file = require("path").join(dir, f);
        try {
            return require("fs").readFileSync(file);
        } catch {
            throw new DockerHostError(`Docker host ${host} uses TLS, but its client certificate file ${file} cannot be read (give the folder with ca.pem, cert.pem and key.pem as ?certPath= or DOCKER_CERT_PATH)`);
        }
    };
    return { host: hostname, port: port ? Number(port) : 2376, protocol: "https", ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") };
}

/** True for a Docker host on another machine (ssh:// or tcp://), where no local dockerd is started. */
export function isRemoteDockerHost(host: string): boolean {
    return !host.startsWith("unix://");
}

/** The server's address in a remote Docker host (for URLs), or undefined for the local socket. */
export function dockerHostAddress(host: string): string | undefined {
    if (!isRemoteDockerHost(host)) return undefined;
    try {
        return new URL(host.replace(/^tcp:/, "http:")).hostname.replace(/^\[(.*)\]$/, "$1");
    } catch {
        return undefined;
    }
}

/**
 * Where the router listens when the stack does not say (`routerHost`): 127.0.0.1 on the local
 * engine; on a server, the server's address when DOCKER_HOST names it by IP, else all addresses.
 */
export function defaultRouterHost(host = resolveDockerEndpoint().host): string {
    const address = dockerHostAddress(host);
    if (address === undefined) return "127.0.0.1";
    return require("net").isIP(address) ? address : "0.0.0.0";
}

/** The host name a URL shows for a router listening on `hostIp`: the server's for a remote engine. */
export function routerUrlHost(hostIp: string, host = resolveDockerEndpoint().host): string {
    if (hostIp !== "0.0.0.0") return hostIp;
    return dockerHostAddress(host) ?? "127.0.0.1";
}

/**
 * The options docker-modem takes from the environment (DOCKER_HOST, DOCKER_CERT_PATH, …) under
 * any it is given: each is set here, so a client for one host never inherits another's. With
 * DOCKER_HOST=ssh://… a client for the local socket would otherwise keep that host and dial it
 * through docker-modem's own SSH agent, without the stack's key or known_hosts. Pure.
 */
export function modemOptions(host: string): Docker.DockerOptions {
    const none = { socketPath: undefined, host: undefined, port: undefined, protocol: undefined, username: undefined, ca: undefined, cert: undefined, key: undefined, sshOptions: undefined, timeout: undefined, pathPrefix: undefined };
    return { ...none, ...dockerOptions(host) } as Docker.DockerOptions;
}

/** A dockerode client for an endpoint. `host` defaults to DOCKER_HOST or the default socket. */
export function connectDocker(host?: string): Docker {
    const Dockerode = dockerode();
    return new Dockerode(modemOptions(resolveDockerEndpoint(host).host));
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
 * Removes a container (force: killed first if it runs) and returns once it is gone. The engine
 * can refuse while the container is between states: one whose command exits at once under a
 * restart policy flips between running and restarting, and `rm -f` may find it running and then
 * fail to kill it because it has just exited, or find another removal in progress (409); on a
 * loaded host the kill's exit event can come later than the engine waits for it ("did not
 * receive an exit event", 500). Any answer of the engine but 404 is tried again (every
 * `everyMs`) until `withinMs`, then thrown. A request that got no answer is tried three times in
 * all (over SSH one can fail on its own), so an engine that is gone fails the removal at once.
 */
export async function removeContainer(container: Docker.Container, withinMs = 30_000, everyMs = 250): Promise<void> {
    const deadline = Date.now() + withinMs;
    let unanswered = 0;
    for (;;) {
        try {
            await container.remove({ force: true, v: false });
            return;
        } catch (err) {
            if (isNotFound(err)) return;
            if ((err as DockerApiError).statusCode === undefined && ++unanswered === 3) throw err;
            if (Date.now() + everyMs > deadline) throw err;
        }
        await new Promise((r) => setTimeout(r, everyMs));
    }
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
    const docker = new Dockerode(modemOptions(endpoint.host));
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
    const fromStack = process.env.DYNOFORM_DOCKER_HOST_FROM;
    return endpoint.source === "DOCKER_HOST"
        ? fromStack ? `dynoform:dockerHost ${endpoint.host} (${fromStack})` : `DOCKER_HOST=${endpoint.host}`
        : endpoint.source === "argument"
          ? `dockerHost ${endpoint.host}`
          : `the default socket ${endpoint.host} (DOCKER_HOST is not set)`;
}

/** The error for an engine that does not answer, naming DOCKER_HOST or the socket. */
export function unreachable(endpoint: DockerEndpoint, err: unknown): DockerHostError {
    // An SSH failure (host key, refused key, no answer) is already one line naming the server.
    if ((err as Error)?.name === "SshHostError") return new DockerHostError((err as Error).message);
    const cause = (err as DockerApiError)?.code ?? engineMessage(err);
    return new DockerHostError(`Docker engine not reachable at ${describeEndpoint(endpoint)}: ${cause}`);
}
