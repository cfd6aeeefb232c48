import { CommandModule } from "yargs";
import { say } from "../deploy";
import { setAndSync } from "../edge";
import { answer, beforeEdgeChange, readEdgeStack } from "../edge-command";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface DomainsRemoveOptions extends GlobalOptions {
    domain: string;
}

/** `dynoform domains:remove DOMAIN`: the edge router stops serving the app on DOMAIN. */
export const domainsRemoveCommand: CommandModule<GlobalOptions, DomainsRemoveOptions> = {
    command: "domains:remove <domain>",
    describe: "Stop serving the app on a domain",
    builder: (y) => y.positional("domain", { type: "string", demandOption: true }).example("$0 domains:remove www.example.com", ""),
    handler: async (argv) => {
        const domain = String(argv.domain);
        const s = readEdgeStack(argv);
        const domains = s.settings.domains ?? [];
        if (!domains.includes(domain)) {
            throw new UsageError(`domains:remove: \`${domain}\` is not a domain of ${s.settings.app} (domains: ${domains.join(", ") || "none"}); nothing was changed`);
        }
        await beforeEdgeChange(s);
        s.settings.domains = domains.filter((d) => d !== domain);
        await setAndSync(s.dir, s.stack, s.settings, "domains", s.settings.domains);
        say(`domain ${domain} removed: stacks/Pulumi.${s.stack}.yaml updated`);
        answer(argv, { removed: domain }, `${domain} is no longer served`);
    },
};
