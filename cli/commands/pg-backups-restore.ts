import { CommandModule } from "yargs";
import { say } from "../deploy";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { backupTarget, listBackups, pickBackup, restoreBackup } from "../pg-backups";

interface RestoreOptions extends GlobalOptions {
    id?: string;
    confirm?: string;
}

/** `dynoform pg:backups:restore [id] --confirm <app>`: pg_restore --clean --if-exists of a backup (the latest by default). */
export const pgBackupsRestoreCommand: CommandModule<GlobalOptions, RestoreOptions> = {
    command: "pg:backups:restore [id]",
    describe: "Restore a backup (the latest by default) into the Postgres add-on, replacing its data",
    builder: (y) =>
        y
            .positional("id", { type: "string", describe: "Backup id (b001); the latest when left out" })
            .option("confirm", { type: "string", requiresArg: true, describe: "The app name: the add-on's data is replaced" })
            .example("$0 pg:backups:restore b002 --confirm hello", "put b002 back"),
    handler: async (argv) => {
        const target = await backupTarget(argv);
        if (argv.confirm !== target.app) {
            throw new UsageError(
                argv.confirm === undefined
                    ? `pg:backups:restore replaces the data of ${target.addon.name}: give --confirm ${target.app}`
                    : `--confirm ${argv.confirm} does not match the app name ${target.app}`,
            );
        }
        const backup = pickBackup(await listBackups(target), argv.id, target.where);
        say(`Restoring ${backup.id} (${backup.time}) into ${target.addon.name} of ${target.where}...`);
        await restoreBackup(target, backup);
        process.stdout.write(`Restored ${backup.id} into ${target.addon.name}\n`);
    },
};
