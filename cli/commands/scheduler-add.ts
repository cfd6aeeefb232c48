import { CommandModule } from "yargs";
import { jobNameFor, validateJobName, validateSchedule } from "../../components/scheduler";
import { asUsage, configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { shellCommand } from "../one-off";
import { GlobalOptions } from "../options";
import { projectDir } from "../project";
import { readStackFile } from "../stack-settings";

interface AddOptions extends EditOptions {
    schedule: string;
    command?: string[];
    name?: string;
}

/** `dynoform scheduler:add "*\/10 * * * *" -- npm run report`: a job in the stack, run as a one-off dyno on its schedule. */
export const schedulerAddCommand: CommandModule<GlobalOptions, AddOptions> = {
    command: "scheduler:add <schedule> [command..]",
    describe: "Schedule a command (cron, UTC) as a one-off dyno; stored in the stack file and deployed",
    builder: (y) =>
        withUp(y)
            .positional("schedule", { type: "string", demandOption: true, describe: "Five-field cron expression in UTC, quoted" })
            .positional("command", { type: "string", array: true, describe: "The command; put it after --" })
            .option("name", { type: "string", describe: "Job name (from the command by default)" })
            .example('$0 scheduler:add "*/10 * * * *" -- npm run report', "every ten minutes")
            .example('$0 scheduler:add "0 2 * * *" --name nightly -- node tasks/cleanup.js', "at 02:00 UTC"),
    handler: async (argv) => {
        const schedule = asUsage(() => validateSchedule(argv.schedule, "schedule"));
        const words = [...(argv.command ?? []), ...argv._.slice(1).map(String)];
        if (words.length === 0) throw new UsageError('scheduler:add: give a command after --, e.g. `dynoform scheduler:add "*/10 * * * *" -- npm run report`');
        const command = shellCommand(words);
        const existing = Object.keys(readStackFile(projectDir(argv), argv.stack).settings.scheduler ?? {});
        const name = argv.name === undefined ? jobNameFor(command, existing) : asUsage(() => validateJobName(argv.name!, "--name"));
        if (existing.includes(name)) throw new UsageError(`--name: job \`${name}\` already exists on ${argv.stack}; remove it first with \`dynoform scheduler:remove ${name}\``);
        await editAndDeploy(argv, {
            set: [
                { path: configPath("scheduler", name, "schedule"), value: schedule },
                { path: configPath("scheduler", name, "command"), value: command },
            ],
            remove: [],
            preview: (view) => {
                view.settings.scheduler = { ...(view.settings.scheduler ?? {}), [name]: { schedule, command } };
            },
            description: `Add scheduler job ${name} (${schedule})`,
        });
    },
};
