import { CommandModule } from "yargs";
import { ensureToolchain } from "../../toolchain/doctor";
import { consoleReporter } from "../../toolchain/report";
import { GlobalOptions } from "../options";
import { checkCluster } from "../cluster";
import { stackCluster } from "../docker-host";

/** `dynoform doctor`: installs or starts what Dynoform needs and prints what it did. */
export const doctorCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "doctor",
    describe: "Make sure a Docker engine, the Pulumi CLI and the base images are ready",
    builder: (y) =>
        y.example("$0 doctor", "start dockerd if needed, build or reuse the Pulumi CLI, build base images")
            .example("$0 doctor --stack prod", "with dynoform:cluster: form the Swarm from its hosts and list its nodes"),
    handler: async (argv) => {
        const started = Date.now();
        const toolchain = await ensureToolchain(consoleReporter);
        const cluster = stackCluster(argv.cwd, argv.stack);
        const nodes = cluster ? await checkCluster(cluster, consoleReporter) : undefined;
        if (argv.json) {
            process.stdout.write(JSON.stringify({ ...toolchain, env: undefined, ...(nodes ? { nodes } : {}) }, null, 2) + "\n");
        } else {
            process.stdout.write(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        }
    },
};
