/**
 * Benchmark: 0 -> N web dynos (N = 10, 30 with --full) on a 3-node test Swarm cluster
 * (test/support/test-cluster.ts) with `dynoform up`, against `docker service create --replicas N`
 * of the same image, command, env, resources, network and endpoint mode on the same cluster; then
 * N -> N+1 with `dynoform ps:scale` against `docker service scale`. Each way is timed until its
 * command returned and all its tasks answered, asked by a probe on the app's overlay network
 * (test/support/swarm-probe.ts). The baseline runs first and is removed before `dynoform up`, so
 * the two never share the nodes.
 *
 * Run as root (the nodes are network namespaces): `npm run build && node dist/bench/swarm.js [--full]`.
 */
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { LABEL, swarmName } from "../infra/docker/labels";
import { runningTasks } from "../infra/swarm/tasks";
import { recordedBaseImages } from "../toolchain/base-image-refs";
import { AppProject } from "../test/support/app-project";
import { eventually } from "../test/support/poll";
import { allAnswerProbe, clusterAppProject, ProbeSite } from "../test/support/swarm-probe";
import { startTestCluster, TestCluster } from "../test/support/test-cluster";
import { benchSizes, fmt, FULL, machineLine, printTable, ratio, runOk } from "./support";

interface Timing {
    /** Seconds until the command returned. */
    command: number;
    /** Seconds until the command returned and every task answered. */
    answered: number;
}

/** Runs `act` with a probe waiting for `n` answers of `service`; the probe is running before the clock starts. */
async function untilAnswered(site: ProbeSite, service: string, n: number, act: () => Promise<unknown>): Promise<Timing> {
    const probe = await allAnswerProbe(site, service, n);
    try {
        const started = Date.now();
        await act();
        const returned = Date.now();
        const answered = Math.max(returned, await probe.answeredAt());
        return { command: (returned - started) / 1000, answered: (answered - started) / 1000 };
    } finally {
        await probe.remove();
    }
}

/** `--rounds R`: each way R times, alternating; medians are printed (3 with --full, else 1). */
const ROUNDS = (() => {
    const at = process.argv.indexOf("--rounds");
    return at >= 0 ? Number(process.argv[at + 1]) : FULL ? 3 : 1;
})();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Waits until no node runs a container labelled `label` (a removed or scaled-down service's tasks; Swarm keeps stopped ones as history). */
async function untilGone(cluster: TestCluster, label: string): Promise<void> {
    await eventually(async () => {
        for (const node of cluster.nodes) {
            if ((await node.engine.listContainers({ filters: { label: [label] } })).length) return false;
        }
        return true;
    }, 180_000, `containers labelled ${label} to be gone from every node`, 500);
}

async function cliOk(project: AppProject, args: string[]): Promise<void> {
    const r = await project.cli(args, { timeoutMs: 900_000 });
    if (r.code !== 0) throw new Error(`dynoform ${args.join(" ")} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
}

function setWebQuantity(project: AppProject, n: number): void {
    const file = path.join(project.dir, "stacks", `Pulumi.${project.stack}.yaml`);
    const doc = YAML.parse(fs.readFileSync(file, "utf8"));
    doc.config["dynoform:formation"] = { ...(doc.config["dynoform:formation"] ?? {}), web: { quantity: n } };
    fs.writeFileSync(file, YAML.stringify(doc));
}

/** `docker service create` flags that make the same tasks as Dynoform's service `spec`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function baselineArgs(spec: any, name: string, replicas: number): string[] {
    const c = spec.TaskTemplate.ContainerSpec;
    const r = spec.TaskTemplate.Resources;
    return [
        "service", "create", "--quiet", "--detach", "--no-resolve-image", "--name", name, "--replicas", String(replicas),
        "--network", spec.TaskTemplate.Networks[0].Target, "--endpoint-mode", "dnsrr",
        "--limit-memory", String(r.Limits.MemoryBytes), "--reserve-memory", String(r.Reservations.MemoryBytes),
        "--limit-cpu", String(r.Limits.NanoCPUs / 1e9), "--reserve-cpu", String(r.Reservations.NanoCPUs / 1e9),
        "--restart-condition", "any", "--restart-delay", "5s", "--stop-grace-period", `${c.StopGracePeriod / 1e9}s`,
        "--update-order", "start-first",
        ...c.Env.flatMap((e: string) => ["--env", e]),
        c.Image, ...(c.Command ?? []), ...(c.Args ?? []),
    ];
}

async function main(): Promise<void> {
    const [n] = benchSizes([10], [30]);
    console.log(`bench/swarm.ts, N=${n}; ${machineLine()}`);
    let cluster: TestCluster | undefined;
    let project: AppProject | undefined;
    try {
        cluster = await startTestCluster(3, Object.values(recordedBaseImages()));
        const manager = cluster.manager;
        project = await clusterAppProject(cluster, 1);
        // Warm-up: builds the image and pushes it to the cluster's registry (every node pulls it); its service is the template.
        await cliOk(project, ["up", "--yes"]);
        const docker = manager.engine;
        const service = swarmName.service(project.app, project.stack, "web");
        const [info] = await docker.listServices({ filters: { name: [service] } });
        await cliOk(project, ["ps:scale", "web=0"]);
        const site: ProbeSite = { engine: docker, image: recordedBaseImages().node, network: swarmName.network(project.app, project.stack) };
        const dockerCli = (...args: string[]) => runOk("docker", ["-H", manager.dockerHost, ...args]);

        const rounds: Array<{ create: Timing; scale: Timing; up: Timing; psScale: Timing }> = [];
        let perNode: Record<string, number> = {};
        for (let round = 1; round <= ROUNDS; round++) {
            const baseline = `${service}-baseline${round}`;
            const create = await untilAnswered(site, baseline, n, () => dockerCli(...baselineArgs(info.Spec, baseline, n)));
            const scale = await untilAnswered(site, baseline, n + 1, () => dockerCli("service", "scale", "--detach", `${baseline}=${n + 1}`));
            await dockerCli("service", "rm", baseline);
            await untilGone(cluster, `com.docker.swarm.service.name=${baseline}`);

            setWebQuantity(project, n);
            const up = await untilAnswered(site, service, n, () => cliOk(project!, ["up", "--yes"]));
            const tasks = await runningTasks(docker, info.ID);
            perNode = Object.fromEntries(cluster.nodes.map((node) => [node.name, tasks.filter((t) => t.node === node.name).length]));
            const psScale = await untilAnswered(site, service, n + 1, () => cliOk(project!, ["ps:scale", `web=${n + 1}`]));
            // The web service by ID: the stack's router is a service too, and the list's order is not fixed.
            const after = await docker.getService(info.ID).inspect();
            if (after.Spec?.Mode?.Replicated?.Replicas !== n + 1) throw new Error(`ps:scale: the service has ${after.Spec?.Mode?.Replicated?.Replicas} replicas`);
            rounds.push({ create, scale, up, psScale });
            console.error(`round ${round}: up ${fmt(up.answered)} s, service create ${fmt(create.answered)} s, ps:scale ${fmt(psScale.answered)} s, service scale ${fmt(scale.answered)} s`);
            // Back to 0 for the next round, its tasks gone before the baseline starts.
            await cliOk(project, ["ps:scale", "web=0"]);
            await untilGone(cluster, `com.docker.swarm.service.id=${info.ID}`);
        }
        const med = (pick: (r: (typeof rounds)[number]) => Timing, key: keyof Timing) => median(rounds.map((r) => pick(r)[key]));
        const up = { command: med((r) => r.up, "command"), answered: med((r) => r.up, "answered") };
        const create = { command: med((r) => r.create, "command"), answered: med((r) => r.create, "answered") };
        const psScale = { command: med((r) => r.psScale, "command"), answered: med((r) => r.psScale, "answered") };
        const scale = { command: med((r) => r.scale, "command"), answered: med((r) => r.scale, "answered") };

        printTable(
            `On 3 test nodes (network namespaces on this machine), medians of ${ROUNDS} rounds; tasks per node after up: ${JSON.stringify(perNode)}`,
            ["change", "dynoform: command", "… all answer", "docker service: command", "… all answer", "ratio (all answer)"],
            [
                [`0 -> ${n} (up / service create)`, fmt(up.command), fmt(up.answered), fmt(create.command), fmt(create.answered), ratio(up.answered, create.answered)],
                [`${n} -> ${n + 1} (ps:scale / service scale)`, fmt(psScale.command), fmt(psScale.answered), fmt(scale.command), fmt(scale.answered), ratio(psScale.answered, scale.answered)],
            ],
        );
        console.log(machineLine());
    } finally {
        await project?.cleanup();
        await cluster?.teardown();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
