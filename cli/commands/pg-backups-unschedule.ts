import { CommandModule } from "yargs";
import { BACKUP_JOB } from "../../components/scheduler";
import { configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { projectDir } from "../project";
import { readStackFile } from "../stack-settings";

/** `dynoform pg:backups:unschedule`: no more scheduled backups; the backups taken stay. */
export const pgBackupsUnscheduleCommand: CommandModule<GlobalOptions, EditOptions> = {
    command: "pg:backups:unschedule",
    describe: "Stop scheduled backups (the backups already taken are kept)",
    builder: (y) => withUp(y).example("$0 pg:backups:unschedule", ""),
    handler: async (argv) => {
        if (!readStackFile(projectDir(argv), argv.stack).settings.scheduler?.[BACKUP_JOB]) {
            throw new UsageError(`no backup schedule on ${argv.stack}: set one with \`dynoform pg:backups:schedule --at "02:00"\``);
        }
        await editAndDeploy(argv, {
            set: [],
            remove: [configPath("scheduler", BACKUP_JOB)],
            preview: (view) => {
                const { [BACKUP_JOB]: _gone, ...rest } = view.settings.scheduler ?? {};
                view.settings.scheduler = rest;
            },
            description: "Unschedule backups",
        });
    },
};
