import { CommandModule } from "yargs";
import { say } from "../deploy";
import { GlobalOptions } from "../options";
import { backupTarget, captureBackup, formatSize } from "../pg-backups";

/** `dynoform pg:backups:capture`: a pg_dump (custom format) of the Postgres add-on onto the backups volume. */
export const pgBackupsCaptureCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "pg:backups:capture",
    describe: "Back up the Postgres add-on (pg_dump -Fc onto the app's backups volume, kept by destroy)",
    builder: (y) => y.example("$0 pg:backups:capture --stack production", "take backup b00N"),
    handler: async (argv) => {
        const target = await backupTarget(argv);
        say(`Backing up ${target.addon.name} of ${target.where}...`);
        const b = await captureBackup(target);
        if (argv.json) {
            process.stdout.write(JSON.stringify({ id: b.id, time: b.time, size: b.size, status: b.status }, null, 2) + "\n");
            return;
        }
        process.stdout.write(`${b.id} ${b.status} ${formatSize(b.size)} at ${b.time}\n`);
    },
};
