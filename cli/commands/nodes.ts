import { CommandModule } from "yargs";
import { formatNodes } from "../../infra/swarm/cluster";
import { stackApp } from "../app-state";
import { clusterManager, nodesWithDynos } from "../nodes";
import { GlobalOptions } from "../options";

/** `dynoform nodes`: the stack's cluster nodes (role, state, availability) and the app's dynos on each. */
export const nodesCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "nodes",
    describe: "List the cluster's nodes (role, state, availability) and the app's dynos on each",
    builder: (y) => y.example("$0 nodes --stack production", ""),
    handler: async (argv) => {
        const docker = clusterManager(argv, "nodes");
        const nodes = await nodesWithDynos(docker, await stackApp(argv), argv.stack);
        if (argv.json) {
            process.stdout.write(JSON.stringify(nodes, null, 2) + "\n");
            return;
        }
        const lines = formatNodes(nodes);
        nodes.forEach((n, i) => process.stdout.write(`${lines[i]}: ${n.dynos.length ? n.dynos.join(" ") : "no dynos"}\n`));
    },
};
