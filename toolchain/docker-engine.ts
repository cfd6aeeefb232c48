import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    DEFAULT_DOCKER_HOST,
    DockerHostError,
    DockerSlowError,
    connectDocker,
    pingDocker,
    resolveDockerEndpoint,
} from "../infra/docker/client";
import { paths } from "./paths";
import { Reporter } from "./report";
import { processRunning } from "./processes";

/** What {@link ensureDockerEngine} found or did. */
export interface DockerEngineStatus {
    host: string;
    version: string;
    action: "found" | "started" | "installed-and-started";
    /** For a server's engine: its API version and memory, as doctor reports them. */
    apiVersion?: string;
    memoryMiB?: number;
}

const START_TIMEOUT_MS = 60_000;
/** How long one ping may take before the engine counts as slow (it answers in milliseconds when idle). */
const PING_TIMEOUT_MS = 3000;
/** One ping's deadline while waiting for a busy or starting engine. */
const PATIENT_PING_TIMEOUT_MS = 10_000;

/**
 * Makes sure a Docker engine answers. An engine named by DOCKER_HOST must answer as it is;
 * otherwise the default socket is used, and when nothing listens there and we run as root,
 * Debian's `docker.io` is installed if needed and `dockerd` started in the background.
 * An engine that is there but slow (a loaded host) is waited for, never started a second time.
 */
export async function ensureDockerEngine(report: Reporter): Promise<DockerEngineStatus> {
    const endpoint = resolveDockerEndpoint();
    if (endpoint.host.startsWith("ssh://")) return checkRemoteEngine(endpoint.host);
    try {
        const { version } = await pingDocker(endpoint, PING_TIMEOUT_MS);
        return { host: endpoint.host, version, action: "found" };
    } catch (err) {
        if (err instanceof DockerSlowError) {
            report(`${err.message}: waiting up to ${START_TIMEOUT_MS / 1000} s for it`);
            return { host: endpoint.host, version: await waitForDocker(START_TIMEOUT_MS), action: "found" };
        }
        if (endpoint.source !== "default") {
            throw err;
        }
    }
    if (process.getuid?.() !== 0) {
        throw new DockerHostError(
            `Docker engine not reachable at ${DEFAULT_DOCKER_HOST} and Dynoform is not root, so it ` +
                "cannot start one: start Docker (e.g. `sudo systemctl start docker`) or set DOCKER_HOST",
        );
    }
    let action: DockerEngineStatus["action"] = "started";
    if (!which("dockerd")) {
        report("dockerd not found: installing Debian's docker.io with apt-get");
        aptInstall(["docker.io"]);
        action = "installed-and-started";
    }
    startDockerd(report);
    const version = await waitForDocker(START_TIMEOUT_MS);
    return { host: endpoint.host, version, action };
}

/** How long a server's engine may take to answer: an SSH handshake fails by itself within 8 s. */
const REMOTE_PING_TIMEOUT_MS = 9500;
/** The least memory a server's engine should have for an app, its add-ons and the router. */
const REMOTE_MIN_MEMORY = 512 * 1024 * 1024;

/**
 * A server's engine over SSH is only checked, never installed or started: it must
 * answer within 10 s, speak API 1.41 or newer, and have memory for the app.
 */
async function checkRemoteEngine(host: string): Promise<DockerEngineStatus> {
    const { version, apiVersion } = await pingDocker(resolveDockerEndpoint(), REMOTE_PING_TIMEOUT_MS);
    const [major, minor] = apiVersion.split(".").map(Number);
    if (major < 1 || (major === 1 && minor < 41)) {
        throw new DockerHostError(`the Docker engine at ${host} speaks API ${apiVersion}; Dynoform needs 1.41 (Docker 20.10) or newer`);
    }
    const info = await connectDocker().info();
    if (info.MemTotal < REMOTE_MIN_MEMORY) {
        throw new DockerHostError(`the Docker engine at ${host} has ${Math.round(info.MemTotal / 2 ** 20)} MiB of memory; Dynoform needs at least ${REMOTE_MIN_MEMORY / 2 ** 20} MiB there`);
    }
    return { host, version, action: "found", apiVersion, memoryMiB: Math.round(info.MemTotal / 2 ** 20) };
}

/** Installs Debian packages, failing with apt's last lines. */
export function aptInstall(packages: string[]): void {
    if (!which("apt-get")) {
        throw new Error(`cannot install ${packages.join(", ")}: apt-get is not available here`);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update"], ["install", "-y", "--no-install-recommends", ...packages]]) {
        const r = spawnSync("apt-get", args, { env, encoding: "utf8" });
        if (r.status !== 0) {
            const tail = `${r.stdout}\n${r.stderr}`.trim().split("\n").slice(-5).join("\n");
            throw new Error(`apt-get ${args.join(" ")} failed (exit ${r.status}):\n${tail}`);
        }
    }
}

/** The absolute path of a command on PATH, or undefined. */
export function which(command: string): string | undefined {
    const dirs = (process.env.PATH ?? "").split(path.delimiter).concat(["/usr/sbin", "/sbin"]);
    for (const dir of dirs) {
        const candidate = path.join(dir, command);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return candidate;
        } catch {
            // not in this folder
        }
    }
    return undefined;
}

function startDockerd(report: Reporter): void {
    fs.mkdirSync(paths.logs(), { recursive: true });
    const logFile = path.join(paths.logs(), "dockerd.log");
    const out = fs.openSync(logFile, "a");
    const dockerd = which("dockerd")!;
    // A stale pid file from a killed daemon makes a new dockerd refuse to start ("pid file found"),
    // and so does one naming a zombie: a killed dockerd whose parent never reaped it (here the
    // container's init does not), which still has a /proc entry.
    for (const pidFile of ["/var/run/docker.pid", "/var/run/docker/containerd/containerd.pid"]) {
        const pid = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8") : NaN);
        if (pid && !processRunning(pid)) {
            fs.rmSync(pidFile, { force: true });
            report(`removed ${pidFile}: its process ${pid} is gone or a zombie`);
        }
    }
    const child = spawn(
        dockerd,
        ["--data-root", paths.dockerData(), "-H", DEFAULT_DOCKER_HOST, "--log-level", "warn"],
        { detached: true, stdio: ["ignore", out, out] },
    );
    child.unref();
    report(`started dockerd (pid ${child.pid}, data ${paths.dockerData()}, log ${logFile})`);
}

/**
 * Pings until the engine answers or `timeoutMs` has passed; resolves to its version. Each ping
 * may take {@link PATIENT_PING_TIMEOUT_MS}: a busy engine answers late, not never.
 */
export async function waitForDocker(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
        try {
            return (await pingDocker(resolveDockerEndpoint(), Math.min(PATIENT_PING_TIMEOUT_MS, Math.max(1000, deadline - Date.now())))).version;
        } catch (err) {
            last = err;
            await new Promise((r) => setTimeout(r, 500));
        }
    }
    const reason = `did not answer within ${timeoutMs / 1000} s (${(last as Error)?.message})`;
    if (resolveDockerEndpoint().source !== "default") throw new DockerHostError(`the Docker engine ${reason}`);
    const log = path.join(paths.logs(), "dockerd.log");
    const tail = fs.existsSync(log)
        ? fs.readFileSync(log, "utf8").trim().split("\n").slice(-5).join("\n")
        : "";
    throw new DockerHostError(`dockerd ${reason}; last lines of ${log}:\n${tail}`);
}
