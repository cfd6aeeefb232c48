import { CommandModule } from "yargs";
import { BACKUP_JOB, dailyAt, DEFAULT_RETAIN, validateRetain, validateSchedule } from "../../components/scheduler";
import { asUsage, configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { projectDir } from "../project";
import { readStackFile, validateSettings } from "../stack-settings";

interface ScheduleOptions extends EditOptions {
    at?: string;
    cron?: string;
    retain: number;
}

/** `dynoform pg:backups:schedule --at 02:00`: a daily backup of the Postgres add-on, keeping the newest `--retain`. */
export const pgBackupsScheduleCommand: CommandModule<GlobalOptions, ScheduleOptions> = {
    command: "pg:backups:schedule",
    describe: "Back up the Postgres add-on every day at a time (UTC), keeping the newest --retain backups",
    builder: (y) =>
        withUp(y)
            .option("at", { type: "string", describe: 'Time of day in UTC, HH:MM (e.g. "02:00")' })
            .option("cron", { type: "string", describe: "A cron expression (UTC) instead of --at" })
            .option("retain", { type: "number", default: DEFAULT_RETAIN, describe: "Completed backups to keep; older ones are deleted after each scheduled capture" })
            .example('$0 pg:backups:schedule --at "02:00"', "daily at 02:00 UTC, keeping 7")
            .example('$0 pg:backups:schedule --cron "0 */6 * * *" --retain 20', "every six hours"),
    handler: async (argv) => {
        if ((argv.at === undefined) === (argv.cron === undefined)) throw new UsageError('pg:backups:schedule: give --at "HH:MM" (UTC) or --cron "<expression>"');
        const schedule = asUsage(() => (argv.at !== undefined ? dailyAt(argv.at, "--at") : validateSchedule(argv.cron, "--cron")));
        const retain = asUsage(() => validateRetain(argv.retain, "--retain"));
        const dir = projectDir(argv);
        const view = readStackFile(dir, argv.stack);
        const postgres = validateSettings(dir, view, argv.stack).addons.find((a) => a.plan === "postgres");
        if (!postgres) throw new UsageError(`${view.settings.app} has no Postgres add-on on ${argv.stack}: add one with \`dynoform addons:create postgres\``);
        await editAndDeploy(argv, {
            set: [
                { path: configPath("scheduler", BACKUP_JOB, "schedule"), value: schedule },
                { path: configPath("scheduler", BACKUP_JOB, "backup"), value: postgres.name },
                { path: configPath("scheduler", BACKUP_JOB, "retain"), value: String(retain) },
            ],
            remove: [configPath("scheduler", BACKUP_JOB, "command")],
            preview: (v) => {
                v.settings.scheduler = { ...(v.settings.scheduler ?? {}), [BACKUP_JOB]: { schedule, backup: postgres.name, retain } };
            },
            description: `Schedule backups of ${postgres.name} (${schedule}, keep ${retain})`,
        });
    },
};
