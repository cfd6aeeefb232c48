import * as crypto from "crypto";
import * as fs from "fs";
import { CommandModule } from "yargs";
import { storeCustomCert } from "../../infra/docker/edge";
import { say } from "../deploy";
import { edgeSettings, openEdge, syncEdge } from "../edge";
import { answer, beforeEdgeChange, readEdgeStack } from "../edge-command";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface CertsAddOptions extends GlobalOptions {
    cert: string;
    key: string;
}

/**
 * What is wrong with a certificate and key brought by the user for `domains`, or the domains it
 * covers: not PEM, a key that is not the certificate's, expired or not yet valid, naming none of
 * the domains. Pure but for the clock.
 */
export function checkUserCert(certPem: string, keyPem: string, domains: string[], now = new Date()): { problem?: string; names: string[] } {
    let x509: crypto.X509Certificate;
    try {
        x509 = new crypto.X509Certificate(certPem);
    } catch {
        return { problem: "the certificate file is not a PEM certificate", names: [] };
    }
    let key: crypto.KeyObject;
    try {
        key = crypto.createPrivateKey(keyPem);
    } catch {
        return { problem: "the key file is not a PEM private key", names: [] };
    }
    if (!x509.checkPrivateKey(key)) return { problem: "the key does not match the certificate", names: [] };
    if (Date.parse(x509.validTo) <= now.getTime()) return { problem: `the certificate expired on ${new Date(x509.validTo).toISOString()}`, names: [] };
    if (Date.parse(x509.validFrom) > now.getTime()) return { problem: `the certificate is not valid before ${new Date(x509.validFrom).toISOString()}`, names: [] };
    const names = domains.filter((d) => x509.checkHost(d) !== undefined);
    if (!names.length) return { problem: `the certificate names none of the app's domains (${domains.join(", ") || "none"})`, names };
    return { names };
}

/**
 * `dynoform certs:add CERT KEY`: serves the app's domains that CERT names with the user's own
 * certificate instead of one over ACME. The key goes onto the edge router's volume only (mode
 * 600): never into the stack file, Pulumi state or any output.
 */
export const certsAddCommand: CommandModule<GlobalOptions, CertsAddOptions> = {
    command: "certs:add <cert> <key>",
    describe: "Use your own certificate (PEM) and key for the app's domains",
    builder: (y) =>
        y
            .positional("cert", { type: "string", demandOption: true, describe: "PEM certificate file (the chain may follow)" })
            .positional("key", { type: "string", demandOption: true, describe: "PEM private key file (kept secret)" })
            .example("$0 certs:add server.crt server.key", ""),
    handler: async (argv) => {
        const s = readEdgeStack(argv);
        const read = (file: string, what: string) => {
            if (!fs.existsSync(file)) throw new UsageError(`certs:add: no ${what} file ${file}; nothing was changed`);
            return fs.readFileSync(file, "utf8");
        };
        const certPem = read(argv.cert, "certificate");
        const keyPem = read(argv.key, "key");
        const checked = checkUserCert(certPem, keyPem, s.settings.domains ?? []);
        if (checked.problem) throw new UsageError(`certs:add: ${checked.problem}; nothing was changed`);
        await beforeEdgeChange(s);
        const c = await openEdge(edgeSettings(s.settings.edge, s.shown));
        const stored = await storeCustomCert(c, certPem, keyPem);
        await syncEdge(s.dir, s.stack, s.settings, { addCert: { ...stored, names: checked.names } });
        say(`certificate for ${checked.names.join(", ")} stored on the edge router's volume`);
        answer(argv, { domains: checked.names }, `${checked.names.join(", ")} now served with your certificate`);
    },
};
