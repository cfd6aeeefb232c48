import * as https from "https";
import { connectDocker } from "../../infra/docker/client";
import { execIn } from "../../infra/docker/exec";
import { ensureOnDemandImage } from "../../toolchain/base-images";
import { consoleReporter } from "../../toolchain/report";
import { freePort } from "./harness";
import { eventually } from "./poll";

/** A running Pebble (Let's Encrypt's ACME test server) with its challenge DNS server. */
export interface Pebble {
    /** The ACME directory URL. */
    directory: string;
    /** PEM of the self-signed certificate the directory is served with (the edge trusts it). */
    directoryCa: string;
    /** PEM of the root Pebble signs certificates with (clients trust it). */
    root(): Promise<string>;
    stop(): Promise<void>;
}

/**
 * Starts Pebble in a container on the host's network, on loopback ports: its DNS (from
 * pebble-challtestsrv) answers 127.0.0.1 for every name, so HTTP-01 validation of any test
 * domain reaches `httpPort` on this machine, where the edge router listens. Pebble's directory
 * is served with a certificate made at start (the Debian package ships none).
 */
export async function startPebble(name: string, httpPort: number, httpsPort: number): Promise<Pebble> {
    const image = await ensureOnDemandImage("pebble", consoleReporter);
    const [dir, mgmt, dns, cts] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const config = JSON.stringify({
        pebble: {
            listenAddress: `127.0.0.1:${dir}`,
            managementListenAddress: `127.0.0.1:${mgmt}`,
            certificate: "/p/cert.pem",
            privateKey: "/p/key.pem",
            httpPort,
            tlsPort: httpsPort,
            ocspResponderURL: "",
            externalAccountBindingRequired: false,
        },
    });
    const script = [
        "set -e; mkdir -p /p",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -days 30 -keyout /p/key.pem -out /p/cert.pem 2>/dev/null",
        `printf '%s' '${config}' > /p/config.json`,
        `pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 127.0.0.1:${dns} -http01 "" -https01 "" -tlsalpn01 "" -management 127.0.0.1:${cts} &`,
        `exec pebble -config /p/config.json -dnsserver 127.0.0.1:${dns}`,
    ].join("\n");
    const docker = connectDocker();
    const c = await docker.createContainer({
        name,
        Image: image,
        Cmd: ["sh", "-c", script],
        // No random validation delays, no refused nonces: the tests measure the edge, not Pebble's chaos.
        Env: ["PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"],
        Labels: { "dev.dynoform.test": "pebble" },
        HostConfig: { NetworkMode: "host" },
    });
    await c.start();
    const directoryCa = await eventually(async () => {
        const r = await execIn(c, ["cat", "/p/cert.pem"]);
        return r.exitCode === 0 && r.output.includes("END CERTIFICATE") ? r.output : undefined;
    }, 30_000, "Pebble's directory certificate");
    const directory = `https://127.0.0.1:${dir}/dir`;
    await eventually(() => get(directory, directoryCa).then((b) => b.includes("newOrder")), 30_000, "Pebble's directory");
    return {
        directory,
        directoryCa,
        root: () => get(`https://127.0.0.1:${mgmt}/roots/0`, directoryCa),
        stop: () => c.remove({ force: true }).catch(() => undefined),
    };
}

function get(url: string, ca: string): Promise<string> {
    return new Promise((resolve, reject) => {
        https
            .get(url, { ca }, (res) => {
                let body = "";
                res.on("data", (d: Buffer) => (body += d.toString()));
                res.on("end", () => resolve(body));
            })
            .on("error", reject);
    });
}
