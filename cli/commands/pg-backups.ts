import { CommandModule } from "yargs";
import { GlobalOptions } from "../options";
import { backupTarget, formatSize, listBackups } from "../pg-backups";

/** `dynoform pg:backups`: the backups of the stack's Postgres add-on (id, time, size, status). */
export const pgBackupsCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "pg:backups",
    describe: "List the backups of the Postgres add-on (id, time, size, status)",
    builder: (y) => y.example("$0 pg:backups", "b001  2026-11-30T14:02:11.000Z  2.1 kB  Completed").example("$0 pg:backups --json", "as JSON"),
    handler: async (argv) => {
        const target = await backupTarget(argv);
        const backups = await listBackups(target);
        if (argv.json) {
            process.stdout.write(JSON.stringify(backups.map(({ id, time, size, status }) => ({ id, time, size, status })), null, 2) + "\n");
            return;
        }
        process.stdout.write(`=== ${target.addon.name} backups (${target.where})\n`);
        if (backups.length === 0) {
            process.stdout.write("No backups. Take one with `dynoform pg:backups:capture`.\n");
            return;
        }
        for (const b of backups) process.stdout.write(`${b.id.padEnd(6)}${b.time.padEnd(26)}${formatSize(b.size).padEnd(10)}${b.status}\n`);
    },
};
