import { CommandModule } from "yargs";
import { domainOwner, domainProblem } from "../../infra/docker/edge-config";
import { ensureDockerEngine } from "../../toolchain/docker-engine";
import { silentReporter } from "../../toolchain/report";
import { say } from "../deploy";
import { readEntries } from "../../infra/docker/edge";
import { appCerts, checkEdge, edgeSettings, openEdge, setAndSync, shownStackFile, syncEdge } from "../edge";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { readStackFile } from "../stack-settings";

interface DomainsAddOptions extends GlobalOptions {
    domain: string;
    wait: number;
}

/**
 * `dynoform domains:add DOMAIN`: serves the app on DOMAIN through the host's edge router and
 * asks the ACME CA for its certificate; plain HTTP redirects to HTTPS once it is issued.
 */
export const domainsAddCommand: CommandModule<GlobalOptions, DomainsAddOptions> = {
    command: "domains:add <domain>",
    describe: "Serve the app on a domain, with a certificate over ACME",
    builder: (y) =>
        y
            .positional("domain", { type: "string", demandOption: true })
            .option("wait", { type: "number", default: 120, describe: "Seconds to wait for the certificate (0: do not wait)" })
            .example("$0 domains:add www.example.com", ""),
    handler: async (argv) => {
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const domain = String(argv.domain);
        const problem = domainProblem(domain);
        if (problem) throw new UsageError(`domains:add: \`${domain}\`: ${problem}; nothing was changed`);
        const { settings } = readStackFile(dir, argv.stack);
        const shown = shownStackFile(dir, argv.stack);
        checkEdge(dir, argv.stack, settings);
        const domains = settings.domains ?? [];
        if (domains.includes(domain)) {
            say(`${domain} is already a domain of ${settings.app}: nothing to do`);
            return;
        }
        await ensureDockerEngine(silentReporter);
        // The edge is started (or its ports checked) before the stack file is touched.
        const edge = await openEdge(edgeSettings(settings.edge, shown));
        const owner = domainOwner(await readEntries(edge), domain, { app: settings.app, stack: argv.stack });
        if (owner) throw new UsageError(`domains:add: \`${domain}\` is already served by app ${owner.app} (stack ${owner.stack}) on this host; nothing was changed`);
        settings.domains = [...domains, domain];
        await setAndSync(dir, argv.stack, settings, "domains", settings.domains);
        say(`domain ${domain} added: stacks/Pulumi.${argv.stack}.yaml updated`);
        const cert = await waitForCert(domain, argv.wait);
        if (cert === "active") await syncEdge(dir, argv.stack, settings);
        if (argv.json) {
            process.stdout.write(JSON.stringify({ domain, certificate: cert }) + "\n");
            return;
        }
        process.stdout.write(
            cert === "active"
                ? `${domain} is served over HTTPS; plain HTTP redirects to it\n`
                : `${domain} is served over plain HTTP until its certificate is issued (\`dynoform certs\` shows it)\n`,
        );
    },
};

/** Polls the edge volume for the domain's certificate, up to `seconds`. */
async function waitForCert(domain: string, seconds: number): Promise<string> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
        const [c] = await appCerts([domain]);
        if (c.status === "active" || Date.now() >= deadline) return c.status;
        await new Promise((r) => setTimeout(r, 500));
    }
}
