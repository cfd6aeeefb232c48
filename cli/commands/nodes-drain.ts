import { CommandModule } from "yargs";
import { swarmNodes } from "../../infra/swarm/cluster";
import { drainReplicas, DrainService, drainTasks, pinnedTo, setAvailability, waitDrained } from "../../infra/swarm/drain";
import { stackApp } from "../app-state";
import { clusterManager, dynosByNode, namedNode } from "../nodes";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface DrainOptions extends GlobalOptions {
    node: string;
    wait: number;
    force: boolean;
}

/** `dynoform nodes:drain NODE`: no new tasks on the node, and its tasks moved to the others; returns once they run there. */
export const nodesDrainCommand: CommandModule<GlobalOptions, DrainOptions> = {
    command: "nodes:drain <node>",
    describe: "Take a cluster node out of service: its dynos move to the other nodes; returns once they run there",
    builder: (y) =>
        y
            .positional("node", { type: "string", demandOption: true, describe: "Hostname (as `nodes` lists it) or node ID" })
            .option("wait", { type: "number", default: 300, describe: "Seconds to wait for the tasks to run elsewhere" })
            .option("force", { type: "boolean", default: false, describe: "Drain a node that holds add-ons or the registry (pinned there with their volumes): they stop until it is active" })
            .example("$0 nodes:drain worker-2", "before maintenance on worker-2"),
    handler: async (argv) => {
        const docker = clusterManager(argv, "nodes:drain");
        const node = namedNode(await swarmNodes(docker), argv.node, "nodes:drain");
        const app = await stackApp(argv);
        const moving = (await dynosByNode(docker, app, argv.stack)).get(node.hostname) ?? [];
        // An add-on or the registry lives on its node with its volume: draining stops it, not moves it.
        const services = (await docker.listServices()) as DrainService[];
        const pinned = pinnedTo(node, services);
        const names = pinned.map((s) => s.Spec?.Name ?? s.ID).join(", ");
        if (pinned.length && !argv.force) {
            throw new UsageError(
                `nodes:drain: ${node.hostname} holds ${names}, pinned there with their volumes: draining it stops them until \`nodes:activate ${node.hostname}\` (no new image can be pulled without the registry); pass --force to drain it anyway`,
            );
        }
        if (pinned.length) process.stderr.write(`Draining ${node.hostname} stops ${names} until it is active again (--force)\n`);
        const started = Date.now();
        // Read before the drain: which services have tasks there, and how many replicas each wants.
        const replicas = drainReplicas(node.id, await drainTasks(docker), services, pinned.map((s) => s.ID));
        await setAvailability(docker, node.id, "drain");
        process.stderr.write(`Draining ${node.hostname}: ${moving.length ? moving.join(" ") : "no dynos of " + app} to move\n`);
        await waitDrained(docker, node.id, replicas, argv.wait * 1000);
        const now = await dynosByNode(docker, app, argv.stack);
        const elsewhere = [...now.entries()].filter(([, dynos]) => dynos.length).sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, dynos]) => `${n} ${dynos.length}`);
        process.stdout.write(`${node.hostname} drained in ${((Date.now() - started) / 1000).toFixed(1)} s; ${app}'s dynos by node: ${elsewhere.join(", ") || "none"}\n`);
    },
};
