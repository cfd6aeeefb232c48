import { CommandModule } from "yargs";
import { listAddons } from "../addons";
import { GlobalOptions } from "../options";

/** `dynoform addons`: the stack's add-ons, from the stack file and from app.json, with their state in Docker. */
export const addonsCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "addons",
    describe: "List add-ons (from the stack file and app.json) and their state",
    builder: (y) => y.example("$0 addons --stack staging", "staging's add-ons"),
    handler: async (argv) => {
        const { app, addons } = await listAddons(argv);
        if (argv.json) {
            process.stdout.write(JSON.stringify(addons, null, 2) + "\n");
            return;
        }
        if (addons.length === 0) {
            process.stdout.write(`${app} has no add-ons on ${argv.stack}; add one with \`dynoform addons:create postgres\`\n`);
            return;
        }
        const rows = [
            ["NAME", "PLAN", "ATTACHED AS", "STATE", "FROM", "VOLUME"],
            ...addons.map((a) => [
                a.name,
                a.tier ? `${a.plan}:${a.tier}` : a.plan,
                a.varName,
                a.state,
                a.from === "stack" ? `stacks/Pulumi.${argv.stack}.yaml` : "app.json",
                `${a.volume}${a.volumeExists ? "" : " (none yet)"}`,
            ]),
        ];
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        process.stdout.write(`=== ${app} (${argv.stack}) add-ons\n`);
        for (const r of rows) process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ") + "\n");
    },
};
