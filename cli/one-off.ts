import * as crypto from "crypto";
import Docker = require("dockerode");
import { DynoSize } from "../components/dyno-size";
import { dockerName, LABEL, ownerLabels, roleLabel } from "../infra/docker/labels";

/**
 * The shell line a one-off runs: one argument is a shell line as given (`"rake db:migrate &&
 * echo ok"`); several are quoted word by word, so `run -- sh -c 'exit 7'` runs exactly that. Pure.
 */
export function shellCommand(args: string[]): string {
    if (args.length === 1) return args[0];
    return args.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** The next free one-off number: `run.3` when run.1 and run.2 exist. Pure. */
export function nextRunIndex(dynos: string[]): number {
    const used = dynos.map((d) => /^run\.(\d+)$/.exec(d)?.[1]).filter(Boolean).map(Number);
    return used.length ? Math.max(...used) + 1 : 1;
}

/** What one `dynoform run` needs. */
export interface OneOffRun {
    docker: Docker;
    app: string;
    stack: string;
    /** Image ID the dynos run. */
    image: string;
    command: string;
    env: Record<string, string>;
    /** The app network `<app>-<stack>`. */
    network: string;
    index: number;
    size: DynoSize;
    /** Attach a pseudo-terminal (stdin is a terminal and `--no-tty` was not given). */
    tty: boolean;
}

type Hijacked = NodeJS.ReadWriteStream & { destroy(): void; end(): void };

/**
 * Runs a one-off dyno attached to this process's stdin/stdout/stderr and resolves to its exit
 * code. With a TTY the terminal is put in raw mode and resized with the window; without one
 * stdout and stderr stay apart. The container is removed afterwards, whatever happened.
 */
export async function runAttached(r: OneOffRun): Promise<number> {
    const name = dockerName.container(r.app, r.stack, "run", r.index, crypto.randomBytes(3).toString("hex"));
    const container = await r.docker.createContainer({
        name,
        Image: r.image,
        Cmd: ["/bin/sh", "-c", r.command],
        Env: Object.entries(r.env).map(([k, v]) => `${k}=${v}`),
        Tty: r.tty,
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Labels: {
            ...ownerLabels(r.app, r.stack),
            ...roleLabel("run"),
            [LABEL.processType]: "run",
            [LABEL.index]: String(r.index),
            [LABEL.dyno]: `run.${r.index}`,
            [LABEL.size]: r.size.name,
        },
        HostConfig: {
            Memory: r.size.memoryMb * 2 ** 20,
            MemorySwap: r.size.memoryMb * 2 ** 20,
            CpuShares: r.size.cpuShares,
            NetworkMode: r.network,
            Init: true,
            AutoRemove: false,
        },
    });
    const stdin = process.stdin;
    const rawBefore = stdin.isTTY ? stdin.isRaw : false;
    let stream: Hijacked | undefined;
    const forward = (signal: NodeJS.Signals) => () => void container.kill({ signal }).catch(() => undefined);
    const onInt = forward("SIGINT");
    const onTerm = forward("SIGTERM");
    const resize = () => void container.resize({ h: process.stdout.rows, w: process.stdout.columns }).catch(() => undefined);
    try {
        stream = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as unknown as Hijacked;
        const ended = new Promise<void>((resolve) => {
            stream!.on("end", resolve);
            stream!.on("close", resolve);
            stream!.on("error", () => resolve());
        });
        if (r.tty) stream.pipe(process.stdout, { end: false });
        else r.docker.modem.demuxStream(stream, process.stdout, process.stderr);

        await container.start();
        if (r.tty) {
            if (stdin.isTTY) stdin.setRawMode(true);
            resize();
            process.stdout.on("resize", resize);
        } else {
            process.on("SIGINT", onInt);
        }
        process.on("SIGTERM", onTerm);
        stdin.pipe(stream, { end: false });
        stdin.once("end", () => stream?.end());
        stdin.resume();

        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        // Output written just before the exit may still be in flight on the attach stream.
        await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
        return StatusCode;
    } finally {
        process.removeListener("SIGINT", onInt);
        process.removeListener("SIGTERM", onTerm);
        process.stdout.removeListener("resize", resize);
        if (stream) stdin.unpipe(stream);
        if (stdin.isTTY) stdin.setRawMode(rawBefore);
        stdin.pause();
        stream?.destroy();
        await container.remove({ force: true }).catch(() => undefined);
    }
}
