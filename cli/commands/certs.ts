import { CommandModule } from "yargs";
import { appCerts } from "../edge";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { readStackFile } from "../stack-settings";

/** `dynoform certs`: each domain's certificate: issuer, expiry, status (active, expired, pending). */
export const certsCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "certs",
    describe: "List the certificates of the app's domains",
    builder: (y) => y.example("$0 certs", ""),
    handler: async (argv) => {
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const { settings } = readStackFile(dir, argv.stack);
        const certs = await appCerts(settings.domains ?? []);
        if (argv.json) {
            process.stdout.write(JSON.stringify(certs, null, 2) + "\n");
            return;
        }
        if (!certs.length) {
            process.stdout.write(`${settings.app} has no domains: \`dynoform domains:add <domain>\` adds one\n`);
            return;
        }
        const rows = [["Domain", "Issuer", "Expires", "Status"], ...certs.map((c) => [c.domain, c.issuer || "-", c.expires || "-", c.status + (c.source === "custom" ? " (certs:add)" : "")])];
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        for (const r of rows) process.stdout.write(r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd() + "\n");
    },
};
