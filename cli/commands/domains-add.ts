import { CommandModule } from "yargs";
import { domainOwner, domainProblem } from "../../infra/docker/edge-config";
import { readEntries } from "../../infra/docker/edge";
import { say } from "../deploy";
import { edgeSettings, openEdge, setAndSync, syncEdge } from "../edge";
import { answer, beforeEdgeChange, readEdgeStack, untilCerts } from "../edge-command";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

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
        const domain = String(argv.domain);
        const problem = domainProblem(domain);
        if (problem) throw new UsageError(`domains:add: \`${domain}\`: ${problem}; nothing was changed`);
        const s = readEdgeStack(argv);
        const domains = s.settings.domains ?? [];
        if (domains.includes(domain)) {
            say(`${domain} is already a domain of ${s.settings.app}: nothing to do`);
            return;
        }
        await beforeEdgeChange(s);
        // The edge is started (or its ports checked) before the stack file is touched.
        const edge = await openEdge(edgeSettings(s.settings.edge, s.shown));
        const owner = domainOwner(await readEntries(edge), domain, { app: s.settings.app, stack: s.stack });
        if (owner) throw new UsageError(`domains:add: \`${domain}\` is already served by app ${owner.app} (stack ${owner.stack}) on this host; nothing was changed`);
        s.settings.domains = [...domains, domain];
        await setAndSync(s.dir, s.stack, s.settings, "domains", s.settings.domains);
        say(`domain ${domain} added: stacks/Pulumi.${s.stack}.yaml updated`);
        const [{ status: cert }] = await untilCerts([domain], argv.wait, ([c]) => c.status === "active");
        if (cert === "active") await syncEdge(s.dir, s.stack, s.settings);
        answer(
            argv,
            { domain, certificate: cert },
            cert === "active"
                ? `${domain} is served over HTTPS; plain HTTP redirects to it`
                : `${domain} is served over plain HTTP until its certificate is issued (\`dynoform certs\` shows it)`,
        );
    },
};
