import { CommandModule } from "yargs";
import { appCerts, onEdge } from "../edge";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { readStackFile } from "../stack-settings";

/** `dynoform domains`: the app's names on the host's edge router, with each one's certificate. */
export const domainsCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "domains",
    describe: "List the app's domains on the edge router",
    builder: (y) => y.example("$0 domains", "hello.localhost and every domain added"),
    handler: async (argv) => {
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const { settings } = readStackFile(dir, argv.stack);
        const domains = settings.domains ?? [];
        const certs = onEdge(settings) ? await appCerts(domains) : [];
        if (argv.json) {
            const local = onEdge(settings) ? [`${settings.app}.localhost`] : [];
            process.stdout.write(JSON.stringify({ local, domains: certs.length ? certs : domains.map((domain) => ({ domain })) }, null, 2) + "\n");
            return;
        }
        if (!onEdge(settings)) {
            process.stdout.write(`${settings.app} is not on the edge router: \`dynoform domains:add <domain>\` puts it there\n`);
            return;
        }
        process.stdout.write(`${settings.app}.localhost  (local, plain HTTP)\n`);
        for (const c of certs) process.stdout.write(`${c.domain}  certificate ${c.status}${c.issuer ? ` (${c.issuer})` : ""}\n`);
    },
};
