import { CommandModule } from "yargs";
import { onEdge } from "../edge";
import { answer, domainCerts, readEdgeStack } from "../edge-command";
import { GlobalOptions } from "../options";

/** `dynoform domains`: the app's names on the host's edge router, with each one's certificate. */
export const domainsCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "domains",
    describe: "List the app's domains on the edge router",
    builder: (y) => y.example("$0 domains", "hello.localhost and every domain added"),
    handler: async (argv) => {
        const { settings } = readEdgeStack(argv);
        if (!onEdge(settings)) {
            answer(argv, { local: [], domains: [] }, `${settings.app} is not on the edge router: \`dynoform domains:add <domain>\` puts it there`);
            return;
        }
        const certs = await domainCerts(settings);
        const local = `${settings.app}.localhost`;
        answer(argv, { local: [local], domains: certs }, [
            `${local}  (local, plain HTTP)`,
            ...certs.map((c) => `${c.domain}  certificate ${c.status}${c.issuer ? ` (${c.issuer})` : ""}`),
        ]);
    },
};
