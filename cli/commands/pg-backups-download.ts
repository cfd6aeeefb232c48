import { CommandModule } from "yargs";
import { GlobalOptions } from "../options";
import { backupTarget, checkDownloadTarget, downloadBackup, formatSize, listBackups, pickBackup } from "../pg-backups";

interface DownloadOptions extends GlobalOptions {
    id?: string;
    output: string;
}

/** `dynoform pg:backups:download [id] -o FILE`: a backup's pg_dump file (the latest by default), mode 0600. */
export const pgBackupsDownloadCommand: CommandModule<GlobalOptions, DownloadOptions> = {
    command: "pg:backups:download [id]",
    describe: "Copy a backup (the latest by default) to a file, for pg_restore",
    builder: (y) =>
        y
            .positional("id", { type: "string", describe: "Backup id (b001); the latest when left out" })
            .option("output", { alias: "o", type: "string", demandOption: true, requiresArg: true, describe: "File to write (mode 0600)" })
            .example("$0 pg:backups:download -o latest.dump", "the latest backup"),
    handler: async (argv) => {
        const file = checkDownloadTarget(argv.output);
        const target = await backupTarget(argv);
        const backup = pickBackup(await listBackups(target), argv.id, target.where);
        const size = await downloadBackup(target, backup, file);
        process.stdout.write(`${backup.id} written to ${argv.output} (${formatSize(size)})\n`);
    },
};
