import { CommandModule } from "yargs";
import { releasesOf, stackOutputs } from "../app-state";
import { GlobalOptions } from "../options";

/** `dynoform releases`: every release, newest first. */
export const releasesCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "releases",
    describe: "List releases, newest first",
    builder: (y) => y.example("$0 releases --stack production", "").example("$0 releases --json", "machine-readable history"),
    handler: async (argv) => {
        const { app, outputs } = await stackOutputs(argv);
        const releases = releasesOf(outputs).slice().reverse();
        if (argv.json) {
            process.stdout.write(JSON.stringify(releases, null, 2) + "\n");
            return;
        }
        process.stdout.write(`=== ${app} releases on ${argv.stack}\n`);
        const current = releases[0]?.version;
        for (const r of releases) {
            process.stdout.write(
                `v${r.version}${r.version === current ? "*" : " "} ${r.description.padEnd(40)} ${r.by.padEnd(10)} ${r.createdAt}\n`,
            );
        }
    },
};
