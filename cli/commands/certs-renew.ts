import { CommandModule } from "yargs";
import { say } from "../deploy";
import { appCerts, CertStatus, syncEdge } from "../edge";
import { answer, beforeEdgeChange, readEdgeStack, untilCerts } from "../edge-command";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface CertsRenewOptions extends GlobalOptions {
    wait: number;
}

/**
 * `dynoform certs:renew`: renews the app's ACME certificates now instead of when they are due
 * (Caddy renews them in place; the old certificate serves until the new one is there).
 */
export const certsRenewCommand: CommandModule<GlobalOptions, CertsRenewOptions> = {
    command: "certs:renew",
    describe: "Renew the app's ACME certificates now",
    builder: (y) => y.option("wait", { type: "number", default: 120, describe: "Seconds to wait for the new certificates" }),
    handler: async (argv) => {
        const s = readEdgeStack(argv);
        await beforeEdgeChange(s);
        const before = (await appCerts(s.settings.domains ?? [])).filter((c) => c.source === "acme");
        if (!before.length) throw new UsageError(`certs:renew: ${s.settings.app} has no certificate issued over ACME; nothing was changed`);
        await syncEdge(s.dir, s.stack, s.settings, { forceRenewal: true });
        const isNew = (c: CertStatus, i: number) => c.serial !== before[i].serial && c.status === "active";
        let renewed: string[] = [];
        try {
            const now = await untilCerts(before.map((c) => c.domain), argv.wait, (certs) => certs.every(isNew));
            renewed = now.filter(isNew).map((c) => c.domain);
        } finally {
            await syncEdge(s.dir, s.stack, s.settings);
        }
        if (renewed.length < before.length) throw new Error(`certs:renew: no new certificate in ${argv.wait} s for ${before.map((c) => c.domain).filter((d) => !renewed.includes(d)).join(", ")}`);
        say(`renewed ${renewed.join(", ")}`);
        answer(argv, { renewed }, `renewed: ${renewed.join(", ")}`);
    },
};
