import { CommandModule } from "yargs";
import { age, dynoStatuses, oomText, stackOutputs } from "../app-state";
import { GlobalOptions } from "../options";

/** `dynoform ps`: dynos per process type with state, age, size and release, read from Docker. */
export const psCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "ps",
    describe: "List dynos: state (up, crashed, restarting, missing), age, size, release",
    builder: (y) => y.example("$0 ps --stack production", ""),
    handler: async (argv) => {
        const { app, outputs } = await stackOutputs(argv);
        const dynos = await dynoStatuses(app, argv.stack, outputs);
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
                    d.exitCode !== undefined && d.state !== "missing" ? `exit ${d.exitCode}` : "",
                ].filter(Boolean);
                process.stdout.write(
                    `${d.dyno}: ${d.state}${d.since ? ` ${age(d.since)}` : ""} ${d.release}${extra.length ? ` (${extra.join(", ")})` : ""}\n`,
                );
            }
        }
    },
};
