import { CommandModule } from "yargs";
import { answer, domainCerts, readEdgeStack } from "../edge-command";
import { GlobalOptions } from "../options";

/** `dynoform certs`: each domain's certificate: issuer, expiry, status (active, expired, pending). */
export const certsCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "certs",
    describe: "List the certificates of the app's domains",
    builder: (y) => y.example("$0 certs", ""),
    handler: async (argv) => {
        const { settings } = readEdgeStack(argv);
        const certs = await domainCerts(settings);
        if (!certs.length) {
            answer(argv, certs, `${settings.app} has no domains: \`dynoform domains:add <domain>\` adds one`);
            return;
        }
        const rows = [["Domain", "Issuer", "Expires", "Status"], ...certs.map((c) => [c.domain, c.issuer || "-", c.expires || "-", c.status + (c.source === "custom" ? " (certs:add)" : "")])];
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        answer(argv, certs, rows.map((r) => r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd()));
    },
};
