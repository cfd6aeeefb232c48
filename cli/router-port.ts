import * as fs from "fs";
import * as net from "net";
import type Docker = require("dockerode");
import { connectDocker } from "../infra/docker/client";
import { containerRole, LABEL } from "../infra/docker/labels";

/** A published port as Docker lists it. */
interface Published {
    IP?: string;
    PublicPort?: number;
    Type?: string;
}

/** True when two host addresses of a port binding overlap (a wildcard overlaps every address). Pure. */
export function sameHostAddress(a: string | undefined, b: string | undefined): boolean {
    const wild = (ip: string | undefined) => !ip || ip === "0.0.0.0" || ip === "::";
    return wild(a) || wild(b) || a === b;
}

/** Who a container is, in a few words: `the router of app shop (stack dev), container shop-dev.router.1.ab12cd`. Pure. */
export function describeContainer(name: string, labels: Record<string, string>): string {
    const app = labels[LABEL.app];
    const stack = labels[LABEL.stack];
    if (containerRole(labels) === "router" && app) return `the router of app ${app} (stack ${stack}), container ${name}`;
    if (app) return `a container of app ${app} (stack ${stack}), ${name}`;
    return `container ${name}`;
}

/** The line that refuses a busy router port: the port, who holds it, how to choose another. Pure. */
export function busyPortMessage(hostIp: string, port: number, holder: string): string {
    return (
        `router port ${hostIp}:${port} is already in use by ${holder}; ` +
        `choose another with \`dynoform router:port <port>\`; nothing was changed`
    );
}

/**
 * Who holds `hostIp:port`, or undefined when it is free or held by this stack's own router.
 * Checked on the Docker engine first (another app's router, running or not, any container
 * publishing the port), then, for a local engine, by binding the port once.
 */
export async function routerPortHolder(
    app: string,
    stack: string,
    port: number,
    hostIp = "127.0.0.1",
    listed?: Docker.ContainerInfo[],
): Promise<string | undefined> {
    const docker = connectDocker();
    const ours = (labels: Record<string, string>) =>
        containerRole(labels) === "router" && labels[LABEL.app] === app && labels[LABEL.stack] === stack;
    const containers = listed ?? (await docker.listContainers({ all: true }));
    for (const c of containers) {
        const name = (c.Names[0] ?? c.Id).replace(/^\//, "");
        const labels = c.Labels ?? {};
        let published = ((c.Ports ?? []) as Published[]).some(
            (p) => p.PublicPort === port && (p.Type ?? "tcp") === "tcp" && sameHostAddress(p.IP, hostIp),
        );
        // A stopped router of another app takes its port back when it starts (on a daemon restart).
        if (!published && c.State !== "running" && containerRole(labels) === "router") {
            const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
            const bindings = Object.values(info?.HostConfig?.PortBindings ?? {}).flat() as Array<{ HostIp?: string; HostPort?: string }>;
            published = bindings.some((b) => Number(b?.HostPort) === port && sameHostAddress(b.HostIp, hostIp));
        }
        if (!published) continue;
        if (ours(labels)) return undefined;
        return describeContainer(name, labels);
    }
    if (!engineIsLocal()) return undefined;
    return bindOnce(port, hostIp);
}

function engineIsLocal(): boolean {
    const host = process.env.DOCKER_HOST;
    return !host || host.startsWith("unix://");
}

/** Binds the port and lets it go: EADDRINUSE names the listening process where /proc tells it. */
function bindOnce(port: number, hostIp: string): Promise<string | undefined> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", (err: NodeJS.ErrnoException) => {
            resolve(err.code === "EADDRINUSE" ? (listeningProcess(port) ?? "another process") : undefined);
        });
        server.listen({ port, host: hostIp, exclusive: true }, () => server.close(() => resolve(undefined)));
    });
}

/** `process 1234 (python3)` listening on TCP `port`, from /proc (Linux; undefined elsewhere). */
export function listeningProcess(port: number): string | undefined {
    const inodes = new Set<string>();
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        let text = "";
        try {
            text = fs.readFileSync(table, "utf8");
        } catch {
            continue;
        }
        for (const inode of listeningInodes(text, port)) inodes.add(inode);
    }
    if (inodes.size === 0) return undefined;
    let pids: string[] = [];
    try {
        pids = fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p));
    } catch {
        return undefined;
    }
    for (const pid of pids) {
        let fds: string[] = [];
        try {
            fds = fs.readdirSync(`/proc/${pid}/fd`);
        } catch {
            continue;
        }
        for (const fd of fds) {
            let target = "";
            try {
                target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
            } catch {
                continue;
            }
            const m = /^socket:\[(\d+)\]$/.exec(target);
            if (m && inodes.has(m[1])) {
                const comm = (() => {
                    try {
                        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
                    } catch {
                        return "?";
                    }
                })();
                return `process ${pid} (${comm})`;
            }
        }
    }
    return undefined;
}

/** Socket inodes of the sockets listening (state 0A) on `port` in a /proc/net/tcp table. Pure. */
export function listeningInodes(table: string, port: number): string[] {
    const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
    const inodes: string[] = [];
    for (const line of table.split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 10) continue;
        const localPort = f[1].split(":").pop();
        if (localPort === hexPort && f[3] === "0A") inodes.push(f[9]);
    }
    return inodes;
}

/**
 * Refuses (throws one line) when the router port of the stack is held by anyone but its own
 * router. `listed`: the containers of the command's host read (`cli/host-read.ts`), not listed again.
 */
export async function checkRouterPort(app: string, stack: string, port: number | undefined, hostIp?: string, listed?: Docker.ContainerInfo[]): Promise<void> {
    if (port === undefined) return;
    const ip = hostIp ?? "127.0.0.1";
    const holder = await routerPortHolder(app, stack, port, ip, listed);
    if (holder) throw new Error(busyPortMessage(ip, port, holder));
}
