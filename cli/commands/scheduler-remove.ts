import { CommandModule } from "yargs";
import { configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { projectDir } from "../project";
import { readStackFile } from "../stack-settings";

interface RemoveOptions extends EditOptions {
    name: string;
}

/** `dynoform scheduler:remove NAME`: the job leaves the stack file and the scheduler. */
export const schedulerRemoveCommand: CommandModule<GlobalOptions, RemoveOptions> = {
    command: "scheduler:remove <name>",
    describe: "Remove a scheduled job",
    builder: (y) => withUp(y).positional("name", { type: "string", demandOption: true }).example("$0 scheduler:remove npm-run-report", ""),
    handler: async (argv) => {
        const jobs = Object.keys(readStackFile(projectDir(argv), argv.stack).settings.scheduler ?? {});
        if (!jobs.includes(argv.name)) throw new UsageError(`no scheduler job \`${argv.name}\` on ${argv.stack} (jobs: ${jobs.join(", ") || "none"})`);
        await editAndDeploy(argv, {
            set: [],
            remove: [configPath("scheduler", argv.name)],
            preview: (view) => {
                const { [argv.name]: _gone, ...rest } = view.settings.scheduler ?? {};
                view.settings.scheduler = rest;
            },
            description: `Remove scheduler job ${argv.name}`,
        });
    },
};
