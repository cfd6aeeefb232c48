import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import YAML from "yaml";
import { roleFilter } from "../infra/docker/labels";

// The router port `init` writes: the first one from 5000 up that no other app here claims.

/** Where router ports start: Foreman's and `heroku local`'s 5000. */
export const FIRST_ROUTER_PORT = 5000;

/** Why a port was passed over, for init's output. */
export interface TakenPort {
    port: number;
    /** e.g. `bound on 127.0.0.1`, `router of shop-dev`, `stack file Pulumi.staging.yaml`. */
    why: string;
}

/** The first port from `start` up that `taken` does not hold. Pure. */
export function firstFreePort(taken: ReadonlySet<number>, start = FIRST_ROUTER_PORT): number {
    for (let port = start; port <= 65535; port++) if (!taken.has(port)) return port;
    throw new Error(`no free router port from ${start} to 65535`);
}

/** Router ports written in the project's other stack files (`stacks/Pulumi.*.yaml`). */
export function stackFilePorts(dir: string, exceptStack: string): TakenPort[] {
    const folder = path.join(dir, "stacks");
    if (!fs.existsSync(folder)) return [];
    const ports: TakenPort[] = [];
    for (const f of fs.readdirSync(folder)) {
        if (!/^Pulumi\..+\.yaml$/.test(f) || f === `Pulumi.${exceptStack}.yaml`) continue;
        try {
            const port = Number(YAML.parse(fs.readFileSync(path.join(folder, f), "utf8"))?.config?.["dynoform:routerPort"]);
            if (Number.isInteger(port)) ports.push({ port, why: `stack file ${f}` });
        } catch {
            // An unreadable stack file claims nothing; its own commands report it.
        }
    }
    return ports;
}

/**
 * Host ports of Dynoform routers on the Docker host, running or stopped (a stopped router still
 * gets its port back when it starts). Empty when Docker does not answer within `timeoutMs`:
 * `init` works without an engine, and the bind check still sees running routers.
 */
export async function routerPortsOnDocker(timeoutMs = 3000): Promise<TakenPort[]> {
    const { connectDocker } = await import("../infra/docker/client");
    const docker = connectDocker();
    const look = async () => {
        const routers = await docker.listContainers({ all: true, filters: { label: roleFilter("router") } });
        const found: TakenPort[] = [];
        for (const c of routers) {
            const info = await docker.getContainer(c.Id).inspect();
            const name = info.Name.replace(/^\//, "");
            for (const bindings of Object.values(info.HostConfig.PortBindings ?? {})) {
                for (const b of (bindings as Array<{ HostPort?: string }> | null) ?? []) {
                    if (b.HostPort) found.push({ port: Number(b.HostPort), why: `router ${name}` });
                }
            }
        }
        return found;
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<TakenPort[]>((resolve) => (timer = setTimeout(() => resolve([]), timeoutMs)));
    try {
        return await Promise.race([look().catch(() => []), timeout]);
    } finally {
        clearTimeout(timer);
    }
}

/** True when a listener could open `host:port` now (nothing else is bound there). */
export function canBind(port: number, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((resolve) => {
        const srv = net.createServer();
        srv.once("error", () => resolve(false));
        srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
    });
}

/**
 * The router port for a new stack: the first from {@link FIRST_ROUTER_PORT} up that is not in
 * another stack file of the project, not a Dynoform router's port on the Docker host, and not
 * bound on 127.0.0.1 (where the router listens). Also returns the ports passed over, and why.
 */
export async function pickRouterPort(dir: string, stack: string): Promise<{ port: number; skipped: TakenPort[] }> {
    const claimed = [...stackFilePorts(dir, stack), ...(await routerPortsOnDocker())];
    const skipped: TakenPort[] = [];
    let start = FIRST_ROUTER_PORT;
    for (;;) {
        const port = firstFreePort(new Set(claimed.map((c) => c.port)), start);
        skipped.push(...claimed.filter((c) => c.port >= start && c.port < port));
        if (await canBind(port)) return { port, skipped };
        skipped.push({ port, why: "bound on 127.0.0.1" });
        start = port + 1;
    }
}

/** Why init's router port is the one it picked, e.g. `the first free port from 5000; taken: 5000: bound on 127.0.0.1; ...`. Pure. */
export function pickedWhy(skipped: TakenPort[]): string {
    const byPort = new Map<number, string[]>();
    for (const s of skipped) byPort.set(s.port, [...(byPort.get(s.port) ?? []), s.why]);
    const taken = [...byPort].sort(([a], [b]) => a - b).map(([port, why]) => `${port}: ${[...new Set(why)].join(", ")}`);
    return `the first free port from ${FIRST_ROUTER_PORT}${taken.length ? `; taken: ${taken.join("; ")}` : ""}; change it with --router-port`;
}
