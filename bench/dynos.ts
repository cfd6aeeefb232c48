/**
 * Benchmark: starting N dynos through `pulumi up` (the Dyno provider) against the same containers
 * started with plain Docker API calls (create + start, in parallel: what `docker run -d` does),
 * for N = 1, 10, 30; then an in-place resize of 10 dynos from standard-1x to standard-2x.
 *
 * Run: `npx tsc -p . && node dist/bench/dynos.js [--sizes 1,10,30]`. Needs the Docker engine,
 * the Pulumi CLI and the base images (`npx dynoform doctor`). Removes everything it creates.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Stack } from "@pulumi/pulumi/automation";
import { DYNO_SIZES } from "../components/dyno-size";
import { connectDocker } from "../infra/docker/client";
import { Dyno, DynoInputs } from "../infra/docker/dyno";
import { containerSpec } from "../infra/docker/dyno-ops";
import { LABEL } from "../infra/docker/labels";
import { openStack } from "../infra/engine/workspace";
import { recordedBaseImages } from "../infra/toolchain/base-images";
import { PACKAGE_ROOT } from "../infra/toolchain/paths";

const APP = "bench";
const PORT = 5000;
/** Memory of the dynos in the start benchmark (both paths): small, so 30 fit beside other work. */
const START_MEMORY_MB = 256;
const COMMAND = `node -e 'require("http").createServer((q,s)=>s.end(process.env.DYNO)).listen(process.env.PORT)'`;

interface StartRow {
    n: number;
    pulumiUp: number;
    dockerRun: number;
    dockerRunReady: number;
}

async function main(): Promise<void> {
    const sizes = argSizes() ?? [1, 10, 30];
    const id = `bench-${crypto.randomBytes(3).toString("hex")}`;
    const image = recordedBaseImages().node;
    const docker = connectDocker();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-bench-"));
    const network = `${id}-net`;
    const stacks: Stack[] = [];
    try {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: dynoform-bench\nruntime: nodejs\n");
        fs.symlinkSync(path.join(PACKAGE_ROOT, "node_modules"), path.join(dir, "node_modules"));
        fs.mkdirSync(path.join(dir, "state"));
        const env = { PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`, PULUMI_CONFIG_PASSPHRASE: id };
        await docker.createNetwork({ Name: network, Driver: "bridge", Labels: { [LABEL.stack]: id } });

        /** One dyno's inputs; the plain path creates exactly the container the provider would. */
        const dyno = (stack: string, index: number, size: { memoryMb: number; cpuShares: number; name?: string }): DynoInputs => ({
            app: APP,
            stack,
            processType: "web",
            index,
            image,
            command: COMMAND,
            env: { PORT: String(PORT), DYNO: `web.${index}` },
            port: PORT,
            memoryMb: size.memoryMb,
            cpuShares: size.cpuShares,
            size: size.name,
            network,
            stopGraceSeconds: 1,
        });
        let formation: DynoInputs[] = [];
        const stack = await openStack({
            projectDir: dir,
            stack: id,
            env,
            program: async () => {
                const outs: Record<string, pulumi.Output<string>> = {};
                for (const d of formation) outs[`web${d.index}`] = new Dyno(`web-${d.index}`, d).containerName;
                return outs;
            },
        });
        stacks.push(stack);
        // Warm-up: the first operation of a stack pays for one-time engine and plugin setup.
        // The fixed cost of any up: CLI, engine, program and provider host, diffing one dyno
        // that has nothing to change. The warm-up also pays one-time setup outside the rows.
        formation = [dyno(id, 1, { memoryMb: START_MEMORY_MB, cpuShares: 1024 })];
        await stack.up();
        const idleUp = await timed(() => stack.up());
        formation = [];
        await stack.up();

        const rows: StartRow[] = [];
        for (const n of sizes) {
            const size = { memoryMb: START_MEMORY_MB, cpuShares: 1024 };
            formation = range(n).map((i) => dyno(id, i, size));
            const pulumiUp = await timed(() => stack.up());
            await assertRunning(id, n);
            formation = [];
            await stack.up();

            const plainStack = `${id}-plain`;
            const specs = range(n).map((i) => {
                const inputs = dyno(plainStack, i, size);
                return containerSpec(inputs, `${APP}-${plainStack}.web.${i}.plain`);
            });
            let containers: Awaited<ReturnType<typeof docker.createContainer>>[] = [];
            const dockerRun = await timed(async () => {
                containers = await Promise.all(
                    specs.map(async (spec) => {
                        const c = await docker.createContainer(spec);
                        await c.start();
                        return c;
                    }),
                );
            });
            const readyAfter = await timed(() => Promise.all(containers.map((c) => untilAccepting(c.id, network))));
            await Promise.all(containers.map((c) => c.remove({ force: true })));
            rows.push({ n, pulumiUp, dockerRun, dockerRunReady: dockerRun + readyAfter });
            process.stderr.write(`N=${n}: pulumi up ${fmt(pulumiUp)} s, docker run ${fmt(dockerRun)} s\n`);
        }

        // In-place resize of 10 dynos: standard-1x -> standard-2x, no restart.
        const small = DYNO_SIZES["standard-1x"];
        const large = DYNO_SIZES["standard-2x"];
        formation = range(10).map((i) => dyno(id, i, small));
        await stack.up();
        const before = await dynoContainers(id);
        formation = range(10).map((i) => dyno(id, i, large));
        const resizeUp = await timed(() => stack.up());
        const after = await dynoContainers(id);
        const restarts = after.filter((a) => {
            const b = before.find((x) => x.Id === a.Id);
            return !b || b.State.StartedAt !== a.State.StartedAt || a.RestartCount !== 0;
        }).length;
        const resized = after.filter((a) => a.HostConfig.Memory === large.memoryMb * 1024 * 1024).length;
        if (after.length !== 10 || restarts !== 0 || resized !== 10) {
            throw new Error(`resize check failed: ${after.length} containers, ${restarts} restarted or replaced, ${resized} resized`);
        }

        printTable(rows, idleUp, { seconds: resizeUp, dynos: after.length, restarts, resized, from: small.name, to: large.name });
    } finally {
        for (const s of stacks) await s.destroy().catch((err) => process.stderr.write(`destroy failed: ${err}\n`));
        for (const stackLabel of [id, `${id}-plain`]) {
            const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.stack}=${stackLabel}`] } });
            for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        }
        await docker.getNetwork(network).remove().catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

function printTable(
    rows: StartRow[],
    idleUp: number,
    resize: { seconds: number; dynos: number; restarts: number; resized: number; from: string; to: string },
): void {
    const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(4) : c.padStart(i === 1 ? 14 : 24))).join(" | ")} |`;
    const out = [
        "",
        `Starting N web dynos (${START_MEMORY_MB} MiB, node HTTP server on $PORT, one bridge network), seconds:`,
        line(["N", "pulumi up", "docker run (create+start)", "docker run + until ready"]),
        line(["----", "-".repeat(14), "-".repeat(24), "-".repeat(24)]),
        ...rows.map((r) => line([String(r.n), fmt(r.pulumiUp), fmt(r.dockerRun), fmt(r.dockerRunReady)])),
        `(pulumi up of one dyno with nothing to change: ${fmt(idleUp)} s, the fixed cost in every pulumi row)`,
        "",
        `In-place resize of ${resize.dynos} dynos ${resize.from} -> ${resize.to} through pulumi up: ${fmt(resize.seconds)} s; ` +
            `${resize.resized}/${resize.dynos} resized, ${resize.restarts} restarts (same container IDs and StartedAt)`,
        "",
        "Ratios (pulumi up / docker run; pulumi up / docker run until ready):",
        ...rows.map(
            (r) => `  N=${String(r.n).padEnd(3)} ${(r.pulumiUp / r.dockerRun).toFixed(1)}x   ${(r.pulumiUp / r.dockerRunReady).toFixed(1)}x`,
        ),
        "",
    ];
    process.stdout.write(out.join("\n"));
}

async function dynoContainers(stack: string) {
    const docker = connectDocker();
    const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL.stack}=${stack}`, `${LABEL.role}=dyno`] } });
    return Promise.all(list.map((c) => docker.getContainer(c.Id).inspect()));
}

async function assertRunning(stack: string, n: number): Promise<void> {
    const running = (await dynoContainers(stack)).filter((c) => c.State.Running).length;
    if (running !== n) throw new Error(`expected ${n} running dynos after up, found ${running}`);
}

/** Waits until the container's $PORT accepts a TCP connection on its bridge IP. */
async function untilAccepting(id: string, network: string): Promise<void> {
    const docker = connectDocker();
    const deadline = Date.now() + 60_000;
    for (;;) {
        const info = await docker.getContainer(id).inspect();
        const ip = info.NetworkSettings.Networks[network]?.IPAddress;
        if (ip && (await connects(ip, PORT))) return;
        if (Date.now() > deadline) throw new Error(`container ${id} did not accept connections within 60 s`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

function connects(host: string, port: number): Promise<boolean> {
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

async function timed(fn: () => Promise<unknown>): Promise<number> {
    const start = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - start) / 1e9;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const fmt = (s: number) => s.toFixed(2);

function argSizes(): number[] | undefined {
    const at = process.argv.indexOf("--sizes");
    if (at < 0) return undefined;
    const sizes = process.argv[at + 1]?.split(",").map(Number);
    if (!sizes?.length || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
        throw new Error("--sizes takes whole numbers, e.g. --sizes 1,10,30");
    }
    return sizes;
}

if (require.main === module) {
    main().catch((err) => {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
    });
}

export { main };
