import { CommandModule } from "yargs";
import { age, dynoStatuses, oomText, stackOutputs } from "../app-state";
import { connectDocker } from "../../infra/docker/client";
import { dynoUsage, lastStopText, usageText } from "../dyno-usage";
import { GlobalOptions } from "../options";
import { stackCluster } from "../docker-host";
import { swarmDynoStatuses } from "../swarm-state";

/** `dynoform ps`: dynos per process type with state, age, size and release, read from Docker. */
export const psCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "ps",
    describe: "List dynos: state (up, crashed, restarting, missing), age, size, release, memory and CPU use, why each last stopped",
    builder: (y) => y.example("$0 ps --stack production", ""),
    handler: async (argv) => {
        const { app, outputs } = await stackOutputs(argv);
        const onCluster = stackCluster(argv.cwd, argv.stack) !== undefined;
        const dynos = onCluster ? await swarmDynoStatuses(app, argv.stack, outputs) : await dynoStatuses(app, argv.stack, outputs);
        const usage = await dynoUsage(connectDocker(), dynos.filter((d) => d.state === "up" && d.container).map((d) => d.container!));
        for (const d of dynos) if (d.container && usage.has(d.container)) d.usage = usage.get(d.container);
        if (argv.json) {
            process.stdout.write(JSON.stringify(dynos, null, 2) + "\n");
            return;
        }
        if (dynos.length === 0) {
            process.stdout.write(`no dynos for ${app} on ${argv.stack}\n`);
            return;
        }
        for (const type of [...new Set(dynos.map((d) => d.type))]) {
            const group = dynos.filter((d) => d.type === type);
            const sizes = [...new Set(group.map((d) => d.size).filter((s) => s !== "-"))];
            process.stdout.write(`=== ${type} (${sizes.join(", ") || "-"}): ${group.length} dyno${group.length > 1 ? "s" : ""}\n`);
            for (const d of group) {
                const extra = [
                    d.oomKilledAt ? oomText(d.oomKilledAt, d.oomKills ?? 1) : "",
                    d.restarts ? `${d.restarts} restart${d.restarts > 1 ? "s" : ""}` : "",
                    d.exitCode !== undefined && d.state !== "missing" && !d.lastStop ? `exit ${d.exitCode}` : "",
                    d.lastStop ? lastStopText(d.lastStop) : "",
                ].filter(Boolean);
                process.stdout.write(
                    `${d.dyno}: ${d.state}${d.since ? ` ${age(d.since)}` : ""}${d.node ? ` on ${d.node}` : ""} ${d.release}${d.usage ? ` [${usageText(d.usage)}]` : ""}${extra.length ? ` (${extra.join(", ")})` : ""}\n`,
                );
            }
        }
    },
};
