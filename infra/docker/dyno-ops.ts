import * as crypto from "crypto";
import * as net from "net";
import Docker = require("dockerode");
import { connectDocker, engineMessage, isNotFound, removeContainer, resolveDockerEndpoint, unreachable } from "./client";
import { containerNameFor, DynoInputs, DynoOutputs, DynoState } from "./dyno";
import { LABEL, ownerLabels, roleLabel } from "./labels";
import { attempt, CheckTarget } from "./dyno-checks";
import { lastLogLines } from "./logs";
import { hostMemory, MIB } from "./memory";

/** Labels that tell `ps`, refresh and orphan checks what a container is. */
export function dynoLabels(inputs: DynoInputs): Record<string, string> {
    return {
        ...(inputs.labels ?? {}),
        ...ownerLabels(inputs.app, inputs.stack),
        ...roleLabel(inputs.role ?? "dyno"),
        [LABEL.processType]: inputs.processType,
        [LABEL.index]: String(inputs.index),
        [LABEL.dyno]: `${inputs.processType}.${inputs.index}`,
        [LABEL.release]: inputs.release ?? "",
        [LABEL.size]: inputs.size ?? "",
    };
}

// Shell words that are not programs: `exec` cannot run them.
const SHELL_WORDS = new Set(["if", "for", "while", "until", "case", "{", "!", "cd", "trap", "export", "set", "unset", "exec", ".", "source", "eval", "ulimit", "umask", "wait", "read", "exit"]);

/**
 * The command line a dyno's shell runs: a single command is `exec`'d, so the app itself is the
 * process Docker's init sends SIGTERM to (Debian's `sh -c` keeps itself in between, and a shell
 * dies of SIGTERM at once, taking the app down without its grace period). Anything with shell
 * syntax (`;`, `&&`, pipes, a leading `VAR=value`, a builtin) is left as written. Pure.
 */
export function execForm(command: string): string {
    const line = command.trim();
    const first = line.split(/\s+/)[0];
    if (/[;&|()`\n]/.test(line) || /^\w+=/.test(first) || SHELL_WORDS.has(first)) return command;
    return `exec ${line}`;
}

/** The Engine API create body for a dyno. Pure: tested without Docker. */
export function containerSpec(inputs: DynoInputs, name: string): Docker.ContainerCreateOptions {
    const env = Object.entries(inputs.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const portKey = inputs.port ? `${inputs.port}/tcp` : undefined;
    const hc = inputs.healthcheck;
    return {
        name,
        Image: inputs.image,
        Cmd: inputs.command ? ["/bin/sh", "-c", execForm(inputs.command)] : undefined,
        Env: env,
        User: inputs.user,
        Labels: dynoLabels(inputs),
        ExposedPorts: portKey ? { [portKey]: {} } : undefined,
        Healthcheck: hc
            ? {
                  Test: ["CMD-SHELL", hc.command],
                  Interval: (hc.intervalSeconds ?? 2) * 1e9,
                  Timeout: (hc.timeoutSeconds ?? 5) * 1e9,
                  Retries: hc.retries ?? 3,
              }
            : undefined,
        StopTimeout: inputs.stopGraceSeconds ?? 30,
        HostConfig: {
            Memory: inputs.memoryMb * MIB,
            MemorySwap: inputs.memoryMb * MIB,
            CpuShares: inputs.cpuShares,
            RestartPolicy: { Name: inputs.restartPolicy ?? "always" },
            NetworkMode: inputs.network,
            Binds: inputs.mounts,
            Privileged: false,
            Init: true,
            PortBindings:
                portKey && inputs.publish
                    ? { [portKey]: [{ HostIp: inputs.publish.hostIp ?? "127.0.0.1", HostPort: String(inputs.publish.hostPort) }] }
                    : undefined,
        },
        NetworkingConfig:
            inputs.network && inputs.aliases?.length
                ? { EndpointsConfig: { [inputs.network]: { Aliases: inputs.aliases } } }
                : undefined,
    };
}

function dockerFor(inputs: { dockerHost?: string }): Docker {
    return connectDocker(inputs.dockerHost);
}

/** Socket-level failures that mean the Docker engine did not answer at all. */
const UNREACHABLE_CODES = ["ECONNREFUSED", "ENOENT", "EACCES", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "ECONNRESET"];

/** Maps Docker's failures to messages that say what to do. */
export function explain(err: unknown, inputs: DynoInputs, name: string): Error {
    const e = err as { code?: string; statusCode?: number };
    if (e?.code && UNREACHABLE_CODES.includes(e.code)) {
        return unreachable(resolveDockerEndpoint(inputs.dockerHost), err);
    }
    const msg = engineMessage(err);
    if (e?.statusCode === 404 && /image/i.test(msg)) {
        return new Error(`image ${inputs.image} not found on the Docker host: build it or pull it first`);
    }
    if (e?.statusCode === 409 && /already in use/i.test(msg)) {
        return new Error(`a container named ${name} already exists on the Docker host: remove it or pick another app name`);
    }
    if (/port is already allocated|address already in use/i.test(msg)) {
        const where = inputs.publish ? `${inputs.publish.hostIp ?? "127.0.0.1"}:${inputs.publish.hostPort}` : "a host port";
        return new Error(`port ${where} is already in use on the Docker host: free it or choose another port`);
    }
    return new Error(`dyno ${inputs.processType}.${inputs.index}: ${msg}`);
}

/**
 * Memory limits of containers seen by this provider process (one per deployment), by ID: a
 * limit only changes through `docker update`, and this provider updates the entry when it does.
 */
const memoryLimits = new Map<string, number>();
/** Memory of dynos this process is creating but has not started yet (parallel creates). */
let pendingBytes = 0;

/**
 * Refuses a dyno the host cannot hold: its memory limit against what running containers (and
 * dynos being created by this deployment) have not reserved. On success the memory stays
 * counted as pending until `release()` is called (once the container runs).
 */
async function reserveHostMemory(docker: Docker, inputs: DynoInputs): Promise<{ release(): void }> {
    // One check at a time: two parallel creates must not both count the same free memory.
    const previous = reserving;
    let done!: () => void;
    reserving = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
        return await reserveNow(docker, inputs);
    } finally {
        done();
    }
}
let reserving: Promise<void> = Promise.resolve();

async function reserveNow(docker: Docker, inputs: DynoInputs): Promise<{ release(): void }> {
    const info = await docker.info();
    const containers = await docker.listContainers({ filters: { status: ["running", "restarting"] } });
    const limits = await Promise.all(
        containers.map(async (c) => {
            if (!memoryLimits.has(c.Id)) {
                const inspect = await docker.getContainer(c.Id).inspect().catch(() => undefined);
                if (inspect) memoryLimits.set(c.Id, inspect.HostConfig?.Memory ?? 0);
            }
            return { state: c.State, memoryBytes: memoryLimits.get(c.Id) ?? 0 };
        }),
    );
    const needed = inputs.memoryMb * MIB;
    const memory = hostMemory(info.MemTotal, limits, needed, pendingBytes);
    if (!memory.fits) {
        throw new HostMemoryError(
            `not enough memory on the Docker host for dyno ${inputs.processType}.${inputs.index}: ` +
                `needs ${inputs.memoryMb} MiB, ${memory.availableMb} MiB of ` +
                `${memory.totalMb} MiB is not reserved by running containers`,
        );
    }
    pendingBytes += needed;
    let released = false;
    return {
        release() {
            if (!released) pendingBytes -= needed;
            released = true;
        },
    };
}

/** Creates, starts and waits for a dyno; on a failed boot the container is removed and its last log lines shown. */
export async function createDyno(inputs: DynoInputs): Promise<{ id: string; outs: DynoOutputs }> {
    const name = containerNameFor(inputs, crypto.randomBytes(3).toString("hex"));
    const docker = dockerFor(inputs);
    await createAndBoot(docker, inputs, name);
    return { id: name, outs: await describe(docker, name, inputs) };
}

/**
 * Creates the container `name`, starts it and waits until it is ready. Whatever fails after the
 * container exists removes it, so a dyno that cannot boot leaves nothing behind.
 */
async function createAndBoot(docker: Docker, inputs: DynoInputs, name: string): Promise<void> {
    let container: Docker.Container;
    let reservation: { release(): void } | undefined;
    try {
        reservation = await reserveHostMemory(docker, inputs);
        container = await docker.createContainer(containerSpec(inputs, name));
    } catch (err) {
        reservation?.release();
        throw err instanceof HostMemoryError ? err : explain(err, inputs, name);
    }
    try {
        await container.start();
        memoryLimits.set(container.id, inputs.memoryMb * MIB);
        reservation.release();
        await waitUntilReady(docker, container, inputs);
    } catch (err) {
        reservation.release();
        const logs = await lastLogLines(container);
        // Said when it fails: a container left behind holds the dyno's name and memory until removed by hand.
        const left = await removeContainer(container).then(
            () => "",
            (e: unknown) => `\nthe container ${name} could not be removed (remove it with \`docker rm -f ${name}\`): ${engineMessage(e)}`,
        );
        const reason = err instanceof BootError ? err.message : explain(err, inputs, name).message;
        throw new Error(`${reason}${logs ? `\nlast log lines of ${name}:\n${logs}` : ""}${left}`);
    }
}

class BootError extends Error {}
class HostMemoryError extends Error {}

/**
 * How long a dyno without a port or health check must stay up before create calls it booted:
 * a command that exits at once must fail the deploy, not pass because it was caught running.
 */
export const MIN_UPTIME_MS = 1000;

/** Waits for running, then healthy (with a check) or accepting connections on `port`, within the boot timeout. */
async function waitUntilReady(
    docker: Docker,
    container: Docker.Container,
    inputs: DynoInputs,
    restartsBefore = 0,
): Promise<void> {
    const timeoutMs = (inputs.bootTimeoutSeconds ?? 60) * 1000;
    const deadline = Date.now() + timeoutMs;
    const dyno = `${inputs.processType}.${inputs.index}`;
    const bootStarted = Date.now() - 1000;
    let runningSince: number | undefined;
    const stillBooting = async () => {
        const info = await container.inspect();
        const s = info.State;
        if (!s.Running && !s.Restarting && s.Status !== "created") {
            throw new BootError(`dyno ${dyno} exited with code ${s.ExitCode} while booting${s.OOMKilled ? " (out of memory)" : ""}`);
        }
        if (s.Restarting || info.RestartCount > restartsBefore) {
            // Once Docker has started it again, State.ExitCode is reset: the engine's event log has the real one.
            const code = s.Restarting ? s.ExitCode : (await lastExitCode(docker, info.Id, bootStarted)) ?? "unknown";
            const restarts = info.RestartCount - restartsBefore;
            throw new BootError(`dyno ${dyno} crashed while booting (exit code ${code}; Docker restarted it ${restarts}x)`);
        }
        return info;
    };
    for (;;) {
        const info = await stillBooting();
        const s = info.State;
        let ready = s.Running;
        if (ready && inputs.healthcheck) {
            ready = s.Health?.Status === "healthy";
        } else if (ready && inputs.port) {
            ready = await acceptsConnections(ipOf(info, inputs.network), inputs.port);
        } else if (ready) {
            runningSince ??= Date.now();
            ready = Date.now() - runningSince >= MIN_UPTIME_MS;
        }
        if (ready) {
            await runChecks(container, inputs, ipOf(info, inputs.network), Date.parse(s.StartedAt), stillBooting);
            return;
        }
        if (Date.now() > deadline) {
            const what = inputs.healthcheck ? "become healthy" : inputs.port ? `accept connections on $PORT (${inputs.port})` : "start";
            throw new BootError(`dyno ${dyno} did not ${what} within the ${timeoutMs / 1000} s boot timeout`);
        }
        await sleep(inputs.port || inputs.healthcheck ? 100 : 250);
    }
}

/**
 * The dyno's declared startup checks (app.json `healthchecks`), in order, after the default
 * readiness: each tried `attempts` times, `wait` seconds apart; the dyno must keep running
 * throughout. The first check that never passes fails the boot, saying why the last attempt failed.
 */
async function runChecks(
    container: Docker.Container,
    inputs: DynoInputs,
    host: string,
    startedAtMs: number,
    stillBooting: () => Promise<unknown>,
): Promise<void> {
    const dyno = `${inputs.processType}.${inputs.index}`;
    const target: CheckTarget = { container, host, port: inputs.port, startedAtMs };
    for (const check of inputs.checks ?? []) {
        if (check.initialDelaySeconds > 0) await sleep(check.initialDelaySeconds * 1000);
        if (check.kind === "uptime") {
            // Watched, not slept through: a dyno that exits before its uptime fails at once.
            while (Date.now() - startedAtMs < check.uptimeSeconds! * 1000) {
                await stillBooting();
                await sleep(250);
            }
        }
        let last = "";
        let passed = false;
        for (let n = 1; n <= check.attempts && !passed; n++) {
            await stillBooting();
            const r = await attempt(check, target, acceptsConnections);
            if (r.ok) passed = true;
            else {
                last = r.why;
                if (n < check.attempts) await sleep(check.waitSeconds * 1000);
            }
        }
        if (!passed) {
            const tries = check.attempts === 1 ? "1 attempt" : `${check.attempts} attempts ${check.waitSeconds} s apart`;
            throw new BootError(`dyno ${dyno} failed its health check ${check.name}: ${last} (${tries})`);
        }
    }
}

/** The exit code of the container's latest exit since `sinceMs`, from the engine's event log. */
async function lastExitCode(docker: Docker, id: string, sinceMs: number): Promise<number | undefined> {
    try {
        const stream = (await docker.getEvents({
            since: Number((sinceMs / 1000).toFixed(3)),
            until: Number((Date.now() / 1000).toFixed(3)),
            filters: { type: ["container"], container: [id], event: ["die"] },
        })) as NodeJS.ReadableStream;
        let text = "";
        for await (const chunk of stream) text += chunk.toString();
        const codes = text
            .split("\n")
            .filter((line) => line.trim())
            .map((line) => Number((JSON.parse(line) as { Actor?: { Attributes?: { exitCode?: string } } }).Actor?.Attributes?.exitCode));
        return codes.filter((c) => Number.isFinite(c)).pop();
    } catch {
        return undefined;
    }
}

function ipOf(info: Docker.ContainerInspectInfo, network?: string): string {
    const nets = info.NetworkSettings.Networks ?? {};
    const chosen = (network && nets[network]) || Object.values(nets)[0];
    return chosen?.IPAddress ?? "";
}

/** True when a TCP connection to `host:port` opens within a second (the readiness probe of a dyno with a port). */
export function acceptsConnections(host: string, port: number): Promise<boolean> {
    if (!host) return Promise.resolve(false);
    // On a server reached over SSH, the container's address is on the server's networks: ask from there.
    const engine = process.env.DOCKER_HOST;
    if (engine?.startsWith("ssh://")) return require("./ssh").connectsFromServer(require("./ssh").parseSshHost(engine), host, port);
    return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const done = (ok: boolean) => {
            socket.destroy();
            resolve(ok);
        };
        socket.setTimeout(1000, () => done(false));
        socket.once("connect", () => done(true));
        socket.once("error", () => done(false));
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Outputs from `docker inspect`; a container that is gone is reported with state `missing`. */
async function describe(docker: Docker, name: string, inputs: DynoInputs): Promise<DynoOutputs> {
    try {
        const info = await docker.getContainer(name).inspect();
        const s = info.State;
        const state: DynoState = s.OOMKilled && !s.Running ? "oom-killed" : (s.Status as DynoState);
        return {
            ...inputs,
            containerName: name,
            containerId: info.Id,
            startedAt: s.StartedAt,
            state,
            exitCode: s.ExitCode,
            restartCount: info.RestartCount,
            ipAddress: ipOf(info, inputs.network),
        };
    } catch (err) {
        if (!isNotFound(err)) throw explain(err, inputs, name);
        return { ...inputs, containerName: name, containerId: "", startedAt: "", state: "missing", exitCode: -1, restartCount: 0, ipAddress: "" };
    }
}

/** Refresh: what Docker says now, kept in state even when the container is gone (that is drift, healed by up). */
export async function readDyno(id: string, props: DynoOutputs): Promise<{ id: string; props: DynoOutputs }> {
    const inputs = inputsOf(props);
    return { id, props: await describe(dockerFor(inputs), id, inputs) };
}

function inputsOf(outs: DynoOutputs): DynoInputs {
    const { containerName: _n, containerId: _i, startedAt: _s, state: _st, exitCode: _e, restartCount: _r, ipAddress: _ip, ...inputs } = outs;
    return inputs;
}

/**
 * Resize in place through Docker's container update (no restart), and heal drift: a missing
 * container is created again under the same name, a stopped one started.
 */
export async function updateDyno(id: string, olds: DynoOutputs, news: DynoInputs): Promise<{ outs: DynoOutputs }> {
    const docker = dockerFor(news);
    const current = await describe(docker, id, news);
    if (current.state === "missing") {
        await createAndBoot(docker, news, id);
        return { outs: await describe(docker, id, news) };
    }
    const container = docker.getContainer(id);
    const resized =
        olds.memoryMb !== news.memoryMb ||
        olds.cpuShares !== news.cpuShares ||
        (olds.restartPolicy ?? "always") !== (news.restartPolicy ?? "always");
    if (resized) {
        let growth: { release(): void } | undefined;
        try {
            if (news.memoryMb > olds.memoryMb && current.state === "running") {
                growth = await reserveHostMemory(docker, { ...news, memoryMb: news.memoryMb - olds.memoryMb });
            }
            await container.update({
                Memory: news.memoryMb * MIB,
                MemorySwap: news.memoryMb * MIB,
                CpuShares: news.cpuShares,
                RestartPolicy: { Name: news.restartPolicy ?? "always", MaximumRetryCount: 0 },
            });
            memoryLimits.set(current.containerId, news.memoryMb * MIB);
        } catch (err) {
            throw err instanceof HostMemoryError ? err : explain(err, news, id);
        } finally {
            growth?.release();
        }
    }
    if (current.state !== "running" && current.state !== "restarting") {
        // Heal a stopped dyno (exited, OOM-killed, killed): start the same container again.
        try {
            await container.start();
            await waitUntilReady(docker, container, news, current.restartCount);
        } catch (err) {
            const logs = await lastLogLines(container);
            const reason = err instanceof BootError ? err.message : explain(err, news, id).message;
            throw new Error(`${reason}${logs ? `\nlast log lines of ${id}:\n${logs}` : ""}`);
        }
    }
    return { outs: await describe(docker, id, news) };
}

/** SIGTERM (or the image's stop signal), a grace period, then SIGKILL and removal. A container already gone is success. */
export async function deleteDyno(id: string, props: DynoOutputs): Promise<void> {
    const container = dockerFor(props).getContainer(id);
    try {
        await container.stop({ t: props.stopGraceSeconds ?? 30 });
    } catch (err) {
        // 304: already stopped; 404: already gone.
        const code = (err as { statusCode?: number }).statusCode;
        if (code !== 304 && code !== 404) throw explain(err, props, id);
    }
    try {
        // Another removal in progress (409) is waited out: the container is gone when this returns.
        await removeContainer(container);
    } catch (err) {
        throw explain(err, props, id);
    }
}
