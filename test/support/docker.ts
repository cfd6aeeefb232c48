import * as http from "http";
import { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { connectDocker } from "../../infra/docker/client";
import { execIn as execInContainer } from "../../infra/docker/exec";
import { demuxLogs } from "../../infra/docker/logs";

/** `docker inspect` of a container, or undefined when there is none by that name or ID. */
export async function inspectContainer(nameOrId: string) {
    try {
        return await connectDocker().getContainer(nameOrId).inspect();
    } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
    }
}

/** Runs `cmd` (a shell line) in a throwaway container and returns its exit code and output. */
export async function runOnce(
    image: string,
    cmd: string,
    opts: { binds?: string[]; user?: string; entrypoint?: string[] } = {},
): Promise<{ exitCode: number; output: string }> {
    const docker = connectDocker();
    const container = await docker.createContainer({
        Image: image,
        Cmd: ["/bin/sh", "-c", cmd],
        Entrypoint: opts.entrypoint,
        User: opts.user,
        HostConfig: { Binds: opts.binds, NetworkMode: "none" },
        Labels: { "dev.dynoform.test": "run-once" },
    });
    try {
        await container.start();
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
        return { exitCode: StatusCode, output: demuxLogs(logs) };
    } finally {
        await container.remove({ force: true }).catch(() => undefined);
    }
}

/** A container's stdout and stderr so far, as text (`docker logs`). */
export async function containerLogs(nameOrId: string): Promise<string> {
    const raw = (await connectDocker().getContainer(nameOrId).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return demuxLogs(raw);
}

/** Runs a shell line inside a running container (`docker exec`) and returns its output. */
export async function execIn(nameOrId: string, cmd: string): Promise<string> {
    const { output } = await execInContainer(connectDocker().getContainer(nameOrId), ["/bin/sh", "-c", cmd]);
    return output;
}

/**
 * GET http://ip:port/ within `timeoutMs`; the body, or undefined when nothing answered. The 5 s
 * default is for a dyno that is up: its first answer took over 500 ms with 2 test files at once on
 * 2 cores (CI). A poller that wants a short try passes its own.
 */
export function httpGet(host: string, port: number, timeoutMs = 5000): Promise<string | undefined> {
    return new Promise((resolve) => {
        const req = http.get({ host, port, path: "/", timeout: timeoutMs, agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
            res.on("error", () => resolve(undefined));
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(undefined));
    });
}

/** The container's IP on a network (or its only network). */
export function containerIp(info: { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }, network?: string): string {
    const nets = info.NetworkSettings.Networks ?? {};
    return ((network && nets[network]) || Object.values(nets)[0])?.IPAddress ?? "";
}

/** A Docker event as the engine streams it, with its time in nanoseconds. */
export interface DockerEvent {
    Type: string;
    Action: string;
    id?: string;
    timeNano: number;
    Actor: { ID: string; Attributes: Record<string, string> };
}

/** Records Docker container events for containers with the given labels until `stop()`. */
export async function recordDockerEvents(labels: Record<string, string>) {
    const events: DockerEvent[] = [];
    const stream = (await connectDocker().getEvents({
        filters: { type: ["container"], label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) },
    })) as NodeJS.ReadableStream & { destroy(): void };
    let buffered = "";
    stream.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) events.push(JSON.parse(line) as DockerEvent);
        }
    });
    stream.on("error", () => undefined);
    return {
        events,
        /** Waits a moment for events already emitted to arrive, then closes the stream. */
        async stop() {
            await sleep(300);
            stream.destroy();
            return events;
        },
    };
}

/** Collects the engine's events of an operation (`stack.up({ onEvent })`). */
export function engineEvents() {
    const events: EngineEvent[] = [];
    return {
        events,
        onEvent: (e: EngineEvent) => events.push(e),
        /** Step metadata of resource pre-events (what the engine was about to do), optionally for one resource type. */
        steps(type?: string) {
            return events
                .filter((e) => e.resourcePreEvent)
                .map((e) => e.resourcePreEvent!.metadata)
                .filter((m) => !type || m.type === type);
        },
        /** Error diagnostics' messages. */
        errors() {
            return events.filter((e) => e.diagnosticEvent?.severity === "error").map((e) => e.diagnosticEvent!.message);
        },
    };
}

/** The state of one resource from the stack's checkpoint (after refresh, outputs reflect what `read` saw). */
export async function resourceState(stack: Stack, type: string, name: string): Promise<Record<string, any>> {
    const deployment = await stack.exportStack();
    const resources = (deployment.deployment.resources ?? []) as Array<{ urn: string; type: string; outputs?: Record<string, any> }>;
    const found = resources.find((r) => r.type === type && r.urn.endsWith(`::${name}`));
    if (!found) throw new Error(`no ${type} named ${name} in the stack's state`);
    return found.outputs ?? {};
}

/** Resolves a plain value from a state entry that may be a secret (`{ "4dabf18193072939515e22adb298388d": ..., plaintext }`). */
export function plain<T>(v: any): T {
    if (v && typeof v === "object" && "plaintext" in v) return JSON.parse(v.plaintext) as T;
    return v as T;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Removes a volume if it exists (tests' cleanup). */
export async function removeVolume(name: string): Promise<void> {
    await connectDocker().getVolume(name).remove({ force: true }).catch(() => undefined);
}

/** Removes a network if it exists (tests' cleanup). */
export async function removeNetwork(name: string): Promise<void> {
    await connectDocker().getNetwork(name).remove().catch(() => undefined);
}
