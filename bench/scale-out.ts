/**
 * Benchmark: 0 -> N web dynos of one image (N = 1, 10, 30 with --full) three ways, one after
 * another in this process:
 * - `dynoform up --yes` (the real CLI on a temp project; it returns once every dyno accepts
 *   connections and the router routes to them);
 * - `docker-compose up -d --scale web=N` (Debian's docker-compose, installed with apt-get if
 *   missing) with the same image, command, memory, swap, CPU shares, init and restart policy;
 * - N `docker run -d` in parallel, same settings.
 * The two baselines return before their containers answer, so they are also timed until every
 * container accepts connections on $PORT. Also: the peak resident memory and the CPU time of
 * the CLI's process tree during each up, and where the time of the worst ratio goes (the CLI's
 * output and the engine's own event timestamps).
 *
 * Run: `npx tsc -p . && node dist/bench/scale-out.js [--full | --sizes 1,10,30]`.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { connectDocker } from "../infra/docker/client";
import { LABEL } from "../infra/docker/labels";
import { removeStackObjects } from "../test/support/cli";
import { containersWith } from "../test/support/harness";
import {
    benchApp,
    benchSizes,
    CliRun,
    cpuLine,
    dynoContainers,
    engineEvents,
    EngineEvent,
    fmt,
    machineLine,
    memoryLine,
    mib,
    printTable,
    range,
    ratio,
    run,
    runMain,
    runOk,
    timed,
    untilAccepting,
} from "./support";

/** Small dynos, so 30 of them fit beside whatever else runs on the machine. */
const SIZE = "custom-256mb";

/** What every container of the three ways has in common, read from a dyno Dynoform made. */
export interface DynoTemplate {
    image: string;
    cmd: string[];
    port: number;
    memory: number;
    cpuShares: number;
}

interface Row {
    n: number;
    up: CliRun;
    upEvents: EngineEvent[];
    compose: number;
    composeReady: number;
    dockerRun: number;
    dockerRunReady: number;
    runEvents: EngineEvent[];
}

async function main(): Promise<void> {
    const sizes = benchSizes([1, 5], [1, 10, 30]);
    const composeVersion = await ensureDockerCompose();
    const app = await benchApp("bench-scale", { quantity: 1, size: SIZE });
    const composeStack = `${app.project.id}-compose`;
    const runStack = `${app.project.id}-run`;
    const composeDir = path.join(app.project.dir, "compose");
    const compose = (...args: string[]) => runOk("docker-compose", ["-p", composeStack, ...args], { cwd: composeDir });
    const docker = connectDocker();
    try {
        // Warm-up: builds the image and creates the network and router; its dyno shows the limits.
        await app.cli("up", "--yes");
        const template = await dynoTemplate(app.stack);
        app.setWeb(0, SIZE);
        await app.cli("up", "--yes");
        fs.mkdirSync(composeDir);
        fs.writeFileSync(path.join(composeDir, "docker-compose.yml"), composeFile(template, composeStack));
        await compose("up", "-d", "--scale", "web=0"); // its network, outside the timings
        await docker.createNetwork({ Name: `${runStack}-net`, Labels: { [LABEL.stack]: runStack } });

        const rows: Row[] = [];
        for (const n of sizes) {
            app.setWeb(n, SIZE);
            const up = await app.cli("up", "--yes");
            const running = (await dynoContainers(app.stack)).filter((c) => c.State.Running).length;
            if (running !== n) throw new Error(`dynoform up: expected ${n} running web dynos, found ${running}`);
            const upEvents = await engineEvents(up.startedAt, up.endedAt, { [LABEL.stack]: app.stack });
            if (n !== sizes[sizes.length - 1]) {
                // Back to 0 for the next size; after the last one, cleanup destroys the stack.
                app.setWeb(0, SIZE);
                await app.cli("up", "--yes");
            }

            const composeSeconds = await timed(() => compose("up", "-d", "--scale", `web=${n}`));
            const composeIds = (await compose("ps", "-q")).split("\n").filter(Boolean);
            if (composeIds.length !== n) throw new Error(`docker-compose: expected ${n} containers, found ${composeIds.length}`);
            const composeReady = composeSeconds + (await timed(() => untilAccepting(composeIds, template.port)));
            await compose("up", "-d", "--scale", "web=0");

            const runStarted = Date.now();
            const runIds: string[] = [];
            const dockerRun = await timed(async () => {
                const out = await Promise.all(range(n).map((i) => runOk("docker", dockerRunArgs(template, runStack, i))));
                runIds.push(...out.map((o) => o.trim()));
            });
            const dockerRunReady = dockerRun + (await timed(() => untilAccepting(runIds, template.port)));
            const runEvents = await engineEvents(runStarted, Date.now(), { [LABEL.stack]: runStack });
            await runOk("docker", ["rm", "-f", ...runIds]);

            rows.push({ n, up, upEvents, compose: composeSeconds, composeReady, dockerRun, dockerRunReady, runEvents });
            process.stderr.write(`N=${n}: dynoform up ${fmt(up.seconds)} s, docker-compose ${fmt(composeSeconds)} s, docker run ${fmt(dockerRun)} s\n`);
        }
        report(rows, composeVersion);
    } finally {
        await run("docker-compose", ["-p", composeStack, "down"], { cwd: composeDir }).catch(() => undefined);
        for (const c of await containersWith({ [LABEL.stack]: runStack })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        await removeStackObjects(composeStack);
        await removeStackObjects(runStack);
        await app.cleanup();
    }
}

export async function dynoTemplate(stack: string): Promise<DynoTemplate> {
    const [dyno] = await dynoContainers(stack);
    const port = Number((dyno.Config.Env ?? []).find((e) => e.startsWith("PORT="))?.slice(5));
    return {
        image: dyno.Config.Image,
        cmd: dyno.Config.Cmd ?? [],
        port,
        memory: dyno.HostConfig.Memory ?? 0,
        cpuShares: dyno.HostConfig.CpuShares ?? 0,
    };
}

function composeFile(t: DynoTemplate, stack: string): string {
    const web = {
        image: t.image,
        command: t.cmd,
        environment: { PORT: String(t.port) },
        mem_limit: t.memory,
        memswap_limit: t.memory,
        cpu_shares: t.cpuShares,
        init: true,
        restart: "always",
        labels: { [LABEL.stack]: stack },
    };
    return YAML.stringify({ version: "2.4", services: { web } });
}

export function dockerRunArgs(t: DynoTemplate, stack: string, index: number): string[] {
    return [
        "run", "-d", "--name", `${stack}-web-${index}`, "--network", `${stack}-net`, "--label", `${LABEL.stack}=${stack}`,
        "--memory", String(t.memory), "--memory-swap", String(t.memory), "--cpu-shares", String(t.cpuShares),
        "--init", "--restart", "always", "-e", `PORT=${t.port}`, "-e", `DYNO=web.${index}`, t.image, ...t.cmd,
    ];
}

/** Debian's docker-compose: a new machine does not have it, so it is installed here when missing. */
async function ensureDockerCompose(): Promise<string> {
    const found = await run("docker-compose", ["version", "--short"]).catch(() => undefined);
    if (found?.code === 0) return found.stdout.trim();
    process.stderr.write("docker-compose is missing: installing Debian's docker-compose with apt-get\n");
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    await runOk("apt-get", ["update"], { env });
    await runOk("apt-get", ["install", "-y", "--no-install-recommends", "docker-compose"], { env });
    return (await runOk("docker-compose", ["version", "--short"])).trim();
}

/** Where one `dynoform up` spent its time, from its own output and the engine's event log. */
function upPhases(r: Row): Array<[string, number]> {
    const dynoEvents = r.upEvents.filter((e) => e.attributes[LABEL.role] === "dyno" && e.attributes[LABEL.processType] === "web");
    const creates = dynoEvents.filter((e) => e.action === "create").map((e) => e.at);
    const starts = dynoEvents.filter((e) => e.action === "start").map((e) => e.at);
    const reload = r.upEvents.filter((e) => e.action === "exec_start").map((e) => e.at).pop() ?? r.up.endedAt;
    const planned = r.up.lines.find((l) => l.text.startsWith("Memory:"))?.at ?? 0;
    const t0 = r.up.startedAt;
    const firstCreate = Math.min(...creates);
    const lastStart = Math.max(...starts);
    return [
        ["CLI start, stack open, typed plan (pulumi stack output, config)", planned],
        ["refresh, program, engine diffs until the first dyno create", (firstCreate - t0) / 1000 - planned],
        ["dyno containers created and started (engine create..start)", (lastStart - firstCreate) / 1000],
        ["until every dyno accepts connections, router reload", (reload - lastStart) / 1000],
        ["reload grace, state write, CLI exit", (r.up.endedAt - reload) / 1000],
    ];
}

/** The engine's own create -> start span for a set of containers. */
function createStartSpan(events: EngineEvent[]): number {
    const creates = events.filter((e) => e.action === "create").map((e) => e.at);
    const starts = events.filter((e) => e.action === "start").map((e) => e.at);
    return (Math.max(...starts) - Math.min(...creates)) / 1000;
}

function report(rows: Row[], composeVersion: string): void {
    printTable(
        `0 -> N web dynos (${SIZE}, node HTTP server, same image and limits each way), seconds; ${machineLine()}`,
        ["N", "dynoform up", `docker-compose ${composeVersion} up`, "... until answering", "docker run x N", "... until answering", "CLI peak RSS"],
        rows.map((r) => [String(r.n), fmt(r.up.seconds), fmt(r.compose), fmt(r.composeReady), fmt(r.dockerRun), fmt(r.dockerRunReady), mib(r.up.usage.peakBytes)]),
    );
    printTable(
        "Ratios (dynoform up / baseline; 'answering' baselines include the wait dynoform up also does)",
        ["N", "/ compose", "/ compose answering", "/ docker run", "/ docker run answering"],
        rows.map((r) => [String(r.n), ratio(r.up.seconds, r.compose), ratio(r.up.seconds, r.composeReady), ratio(r.up.seconds, r.dockerRun), ratio(r.up.seconds, r.dockerRunReady)]),
    );
    const largest = rows[rows.length - 1];
    process.stdout.write(`\nCLI process tree at its peak during the N=${largest.n} up: ${memoryLine(largest.up.usage)}\n`);

    const worst = rows.reduce((a, b) => (b.up.seconds / b.dockerRunReady > a.up.seconds / a.dockerRunReady ? b : a));
    printTable(
        `Worst ratio: N=${worst.n}, dynoform up ${fmt(worst.up.seconds)} s = ${ratio(worst.up.seconds, worst.dockerRunReady)} docker run until answering ` +
            `(${fmt(worst.dockerRunReady)} s; engine create..start span ${fmt(createStartSpan(worst.runEvents))} s). Where the up's time goes:`,
        ["phase (CLI output and docker events timestamps)", "seconds", "share"],
        upPhases(worst).map(([what, s]) => [what, fmt(s), `${((100 * s) / worst.up.seconds).toFixed(0)}%`]),
    );
    process.stdout.write(`CPU time of the CLI's process tree during that up: ${cpuLine(worst.up.usage)}\n`);
    const steps = worst.up.lines.filter((l) => /^[+~-] /.test(l.text)).map((l) => `  ${l.at.toFixed(2)} s  ${l.text}`);
    process.stdout.write(`Pulumi steps of that up (second printed, step and its own duration):\n${steps.join("\n")}\n`);
}

if (require.main === module) runMain(main);
