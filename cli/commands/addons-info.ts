import { CommandModule } from "yargs";
import { ADDON_KINDS } from "../../components/addon-plans";
import { attachmentUrlOf, listAddons, maskUrl } from "../addons";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { formatSize, lastBackupOf } from "../pg-backups";
import { persistenceText, redisPersistence } from "../redis-persistence";
import { readAppOutputs } from "../stack-outputs";

interface InfoOptions extends GlobalOptions {
    name: string;
    reveal: boolean;
}

/** `dynoform addons:info NAME`: plan, container, state, volume and attachment; the URL's password masked unless --reveal. */
export const addonsInfoCommand: CommandModule<GlobalOptions, InfoOptions> = {
    command: "addons:info <name>",
    describe: "Show an add-on: plan, container, state, volume, attachment (URL masked)",
    builder: (y) =>
        y
            .positional("name", { type: "string", demandOption: true })
            .option("reveal", { type: "boolean", default: false, describe: "Show the URL with its password" })
            .example("$0 addons:info postgres", "DATABASE_URL masked")
            .example("$0 addons:info redis --reveal", "REDIS_URL in full"),
    handler: async (argv) => {
        const { app, addons } = await listAddons(argv);
        const a = addons.find((x) => x.name === argv.name);
        if (!a) {
            throw new UsageError(`no add-on \`${argv.name}\` on ${argv.stack} (add-ons: ${addons.map((x) => x.name).join(", ") || "none"})`);
        }
        const url = attachmentUrlOf(await readAppOutputs(argv), a);
        const shownUrl = url === undefined ? undefined : argv.reveal ? url : maskUrl(url);
        const backups = ADDON_KINDS[a.plan].backups;
        const lastBackup = backups ? await lastBackupOf(argv, a) : undefined;
        const persistence = a.plan === "redis" && a.container && a.state.startsWith("running") ? await redisPersistence(a.container) : undefined;
        if (argv.json) {
            const backup = lastBackup && { id: lastBackup.id, time: lastBackup.time, size: lastBackup.size };
            process.stdout.write(JSON.stringify({ ...a, url: shownUrl ?? null, ...(backups ? { lastBackup: backup ?? null } : {}), ...(a.plan === "redis" ? { persistence: persistence ?? null } : {}) }, null, 2) + "\n");
            return;
        }
        const rows: Array<[string, string]> = [
            ["Plan", a.tier ? `${a.plan} (${a.tier})` : a.plan],
            ["From", a.from === "stack" ? `stacks/Pulumi.${argv.stack}.yaml` : "app.json"],
            ["Attached as", a.varName],
            ["URL", shownUrl ?? "(not deployed yet: run `dynoform up`)"],
            ["Container", a.container ?? "(none)"],
            ["State", a.state],
            ["Volume", `${a.volume}${a.volumeExists ? "" : " (not created yet)"}`],
        ];
        if (backups) {
            rows.push(["Last backup", lastBackup ? `${lastBackup.id} at ${lastBackup.time}, ${formatSize(lastBackup.size)}` : "(none)"]);
        }
        if (a.plan === "redis") {
            rows.push(["Persistence", persistence ? persistenceText(persistence) : "(not running)"]);
            if (persistence?.lastSave) rows.push(["Last save", `${persistence.lastSave} (RDB ${persistence.lastBgsaveStatus ?? "?"}, AOF write ${persistence.aofLastWriteStatus ?? "?"})`]);
        }
        process.stdout.write(`=== ${a.name} (${app}, ${argv.stack})\n`);
        for (const [k, v] of rows) process.stdout.write(`${`${k}:`.padEnd(13)}${v}\n`);
    },
};
