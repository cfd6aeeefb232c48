import { CommandModule } from "yargs";
import { swarmNodes } from "../../infra/swarm/cluster";
import { setAvailability } from "../../infra/swarm/drain";
import { clusterManager, namedNode } from "../nodes";
import { GlobalOptions } from "../options";

interface ActivateOptions extends GlobalOptions {
    node: string;
}

/** `dynoform nodes:activate NODE`: the node takes tasks again (Swarm does not move running dynos back by itself). */
export const nodesActivateCommand: CommandModule<GlobalOptions, ActivateOptions> = {
    command: "nodes:activate <node>",
    describe: "Put a drained cluster node back in service (new and rescheduled dynos may run there again)",
    builder: (y) => y.positional("node", { type: "string", demandOption: true, describe: "Hostname or node ID" }).example("$0 nodes:activate worker-2", ""),
    handler: async (argv) => {
        const docker = clusterManager(argv, "nodes:activate");
        const node = namedNode(await swarmNodes(docker), argv.node, "nodes:activate");
        await setAvailability(docker, node.id, "active");
        process.stdout.write(`${node.hostname} is active: new dynos may be placed on it (running ones stay where they are)\n`);
    },
};
