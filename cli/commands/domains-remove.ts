import { CommandModule } from "yargs";
import { ensureDockerEngine } from "../../toolchain/docker-engine";
import { silentReporter } from "../../toolchain/report";
import { say } from "../deploy";
import { setAndSync } from "../edge";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { readStackFile } from "../stack-settings";

interface DomainsRemoveOptions extends GlobalOptions {
    domain: string;
}

/** `dynoform domains:remove DOMAIN`: the edge router stops serving the app on DOMAIN. */
export const domainsRemoveCommand: CommandModule<GlobalOptions, DomainsRemoveOptions> = {
    command: "domains:remove <domain>",
    describe: "Stop serving the app on a domain",
    builder: (y) => y.positional("domain", { type: "string", demandOption: true }).example("$0 domains:remove www.example.com", ""),
    handler: async (argv) => {
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const domain = String(argv.domain);
        const { settings } = readStackFile(dir, argv.stack);
        const domains = settings.domains ?? [];
        if (!domains.includes(domain)) {
            throw new UsageError(`domains:remove: \`${domain}\` is not a domain of ${settings.app} (domains: ${domains.join(", ") || "none"}); nothing was changed`);
        }
        await ensureDockerEngine(silentReporter);
        settings.domains = domains.filter((d) => d !== domain);
        await setAndSync(dir, argv.stack, settings, "domains", settings.domains);
        say(`domain ${domain} removed: stacks/Pulumi.${argv.stack}.yaml updated`);
        process.stdout.write(argv.json ? JSON.stringify({ removed: domain }) + "\n" : `${domain} is no longer served\n`);
    },
};
