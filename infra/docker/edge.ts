import * as crypto from "crypto";
import * as fs from "fs";
import Docker = require("dockerode");
import { connectDocker, isNotFound } from "./client";
import {
    acmeDomains,
    EDGE_ADMIN_SOCKET,
    EDGE_APPS_DIR,
    EDGE_CERTS_DIR,
    EDGE_DIR,
    EDGE_DRAIN_FILE,
    EDGE_HANDOVER_DIR,
    EDGE_ROOT,
    EDGE_STORAGE,
    EdgeEntry,
    EdgeHost,
    edgeCaddyConfig,
    entryId,
    HandoverCert,
    handoverChain,
} from "./edge-config";
import { execIn } from "./exec";
import { LABEL } from "./labels";
import { tarFiles } from "./tar";

/**
 * The edge router: one Caddy container per Docker host, shared by every app on it. It is no
 * app's Pulumi resource (destroying one app must not take the others' HTTPS down): the CLI
 * creates it on first use and finds it again by name and label, and each stack owns only its
 * entry in it. It runs on the host's network, so it listens on the host's ports 80/443 (no
 * proxy process in between), reaches each app's web dynos at their addresses on the app's
 * network, and each app's router on its published port.
 */
/**
 * The edge's container and volume name (the volume keeps certificates, ACME account keys and
 * config, and outlives any container): `dynoform-edge`, or `DYNOFORM_EDGE` (a second edge on
 * other ports, or a test's own).
 */
export function edgeName(): string {
    return process.env.DYNOFORM_EDGE || "dynoform-edge";
}
const EDGE_LABEL = "dev.dynoform.edge";
/** Label with the host settings the edge was started with (`hostIp:http,https`). */
const EDGE_LISTEN_LABEL = "dev.dynoform.edge-listen";

/** How the listen label reads for a host setting. Pure. */
export function listenLabel(h: EdgeHost): string {
    return `${h.hostIp}:${h.httpPort},${h.httpsPort}`;
}

/** The host settings a running edge was started with, from its label. Pure. */
export function parseListenLabel(label: string | undefined): EdgeHost | undefined {
    const m = /^(.*):(\d+),(\d+)$/.exec(label ?? "");
    return m ? { hostIp: m[1], httpPort: Number(m[2]), httpsPort: Number(m[3]) } : undefined;
}

/** The host settings of a found edge container. */
export function runningHost(info: Docker.ContainerInspectInfo): EdgeHost | undefined {
    return parseListenLabel(info.Config.Labels?.[EDGE_LISTEN_LABEL]);
}

/** An edge container on this host, if there is one (running or not). */
export async function findEdge(docker: Docker = connectDocker()): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
        const info = await docker.getContainer(edgeName()).inspect();
        if (info.Config.Labels?.[EDGE_LABEL] !== "true") {
            throw new Error(`container ${edgeName()} exists but is not Dynoform's edge router (no ${EDGE_LABEL} label): remove or rename it`);
        }
        return info;
    } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
    }
}

/** Thrown when the edge already runs with other ports than a stack asks for: a usage error for the CLI. */
export class EdgeListenMismatch extends Error {
    override readonly name = "EdgeListenMismatch";
}

/**
 * The running edge router, started first if needed with `host` settings and `image`. An edge
 * already running with other ports is refused (one edge per host; its ports are the host's).
 */
export async function ensureEdge(host: EdgeHost, image: string): Promise<Docker.Container> {
    const docker = connectDocker();
    const found = await findEdge(docker);
    if (!found) {
        try {
            return await createEdge(docker, host, image);
        } catch (err) {
            // Another stack's command created it first (two deploys at once): use that one.
            if ((err as { statusCode?: number }).statusCode !== 409) throw err;
            return ensureEdge(host, image);
        }
    }
    const running = parseListenLabel(found.Config.Labels?.[EDGE_LISTEN_LABEL]);
    if (running && listenLabel(running) !== listenLabel(host)) {
        throw new EdgeListenMismatch(
            `the edge router on this host listens on ${listenLabel(running)} (http,https), not ${listenLabel(host)}: ` +
                `set dynoform:edge's httpPort/httpsPort/hostIp to match; nothing was changed`,
        );
    }
    const c = docker.getContainer(edgeName());
    // 304: started meanwhile by another command.
    if (!found.State.Running) await c.start().catch((err) => ((err as { statusCode?: number }).statusCode === 304 ? undefined : Promise.reject(err)));
    await waitForAdmin(c);
    return c;
}

async function createEdge(docker: Docker, host: EdgeHost, image: string): Promise<Docker.Container> {
    await docker.createVolume({ Name: edgeName(), Labels: { [LABEL.managed]: "true", [EDGE_LABEL]: "true" } }).catch(() => undefined);
    const initial = JSON.stringify({ admin: { listen: `unix/${EDGE_ADMIN_SOCKET}`, origins: ["localhost"] } });
    const c = await docker.createContainer({
        name: edgeName(),
        Image: image,
        // A restarted edge resumes the last config it loaded (Caddy's autosave on the volume).
        Cmd: [
            "sh",
            "-c",
            `mkdir -p ${EDGE_APPS_DIR} ${EDGE_CERTS_DIR} ${EDGE_ROOT}/data && chmod 700 ${EDGE_CERTS_DIR} && ` +
                `{ [ -s ${EDGE_DIR}/caddy.json ] || printf '%s' '${initial}' > ${EDGE_DIR}/caddy.json; } && ` +
                `rm -f ${EDGE_ADMIN_SOCKET} ${EDGE_DRAIN_FILE} && exec caddy run --resume --config ${EDGE_DIR}/caddy.json`,
        ],
        Env: [`XDG_DATA_HOME=${EDGE_ROOT}/data`, `XDG_CONFIG_HOME=${EDGE_ROOT}/config`],
        Labels: { [LABEL.managed]: "true", [EDGE_LABEL]: "true", [EDGE_LISTEN_LABEL]: listenLabel(host) },
        StopSignal: "SIGTERM",
        HostConfig: {
            NetworkMode: "host",
            Binds: [`${edgeName()}:${EDGE_ROOT}`],
            RestartPolicy: { Name: "always" },
            Memory: 256 * 1024 * 1024,
        },
    });
    await c.start();
    await waitForAdmin(c);
    return c;
}

const MIGRATE_REQ = "/proc/sys/net/ipv4/tcp_migrate_req";

/**
 * Caddy 2.6 opens a new listening socket with SO_REUSEPORT for each config it loads and closes
 * the old one: connections still in the old socket's accept queue are then reset (measured: 1 of
 * about 750 requests over 20 reloads). Linux (5.14+) hands them to the new socket instead when
 * `net.ipv4.tcp_migrate_req` is 1 (0 of 1,657 over 40 reloads). Set here for a local engine (the
 * edge uses the host's network); elsewhere the line returned says what to set.
 */
export function enableRequestMigration(): string | undefined {
    const host = process.env.DOCKER_HOST;
    const local = !host || host.startsWith("unix://");
    try {
        if (fs.readFileSync(MIGRATE_REQ, "utf8").trim() === "1") return undefined;
        if (local) {
            fs.writeFileSync(MIGRATE_REQ, "1");
            return undefined;
        }
    } catch {
        // No such setting (kernel before 5.14) or not allowed: said below.
    }
    return "set net.ipv4.tcp_migrate_req=1 on the Docker host (sysctl): without it a config change may reset connections waiting to be accepted";
}

/** Calls Caddy's admin API from inside the container; the answer's status and body. */
async function admin(c: Docker.Container, method: string, path: string, bodyFile?: string): Promise<{ status: number; body: string }> {
    const args = ["curl", "-sS", "--unix-socket", EDGE_ADMIN_SOCKET, "-X", method, "-w", "\n%{http_code}", `http://localhost${path}`];
    if (bodyFile) args.push("-H", "Content-Type: application/json", "--data-binary", `@${bodyFile}`);
    const r = await execIn(c, args);
    const lines = r.output.trimEnd().split("\n");
    const status = Number(lines.pop());
    return { status: r.exitCode === 0 ? status : 0, body: lines.join("\n") };
}

async function waitForAdmin(c: Docker.Container, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const r = await admin(c, "GET", "/config/").catch(() => ({ status: 0, body: "" }));
        if (r.status === 200) return;
        if (Date.now() > deadline) throw new Error(`the edge router's admin API did not answer in ${timeoutMs / 1000} s`);
        await new Promise((res) => setTimeout(res, 200));
    }
}

/** Writes files into the container through the Engine API (a tar archive): nothing of their content is in any command line. */
export async function putFiles(c: Docker.Container, files: Array<{ path: string; content: string | Buffer; mode?: number }>): Promise<void> {
    await c.putArchive(tarFiles(files), { path: "/" });
}

/** Reads every entry stored on the edge volume. */
export async function readEntries(c: Docker.Container): Promise<EdgeEntry[]> {
    const r = await execIn(c, ["sh", "-c", `for f in ${EDGE_APPS_DIR}/*.json; do [ -f "$f" ] && cat "$f" && echo; done; true`]);
    if (r.exitCode !== 0) throw new Error(`reading the edge router's entries failed: ${r.output.trim()}`);
    return r.output.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as EdgeEntry);
}

/**
 * Stores (or, with `remove`, deletes) one entry and loads the config of all of them. Caddy
 * applies a new config without a restart; a config it refuses leaves the old one serving.
 */
export async function applyEntry(c: Docker.Container, host: EdgeHost, entry: EdgeEntry, remove = false): Promise<void> {
    await oneAtATime(c, async () => {
        const file = `${EDGE_APPS_DIR}/${entryId(entry)}.json`;
        if (remove) {
            await execIn(c, ["rm", "-f", file]);
        } else {
            await putFiles(c, [{ path: file, content: JSON.stringify(entry) + "\n" }]);
        }
        await loadConfig(c, host);
    });
}

/**
 * Points the app's entry at its web dynos (`ip:port`, as the app's router resolved them) and
 * loads the config: once the load returns, Caddy sends every new request to these only, so a dyno
 * the list left out can stop. Nothing to do without a running edge or an entry for the app (not
 * on the edge), or when the entry has these dynos already. A deploy calls it between starting new
 * dynos and stopping old ones, as it reloads the app's router.
 */
export async function followDynos(docker: Docker, app: string, stack: string, dynos: string[]): Promise<void> {
    const found = await findEdge(docker);
    const host = found && runningHost(found);
    if (!found?.State.Running || !host) return;
    const c = docker.getContainer(found.Id);
    // Most apps on a host with an edge are not on it: no lock for them.
    if (!(await readEntries(c)).some((e) => entryId(e) === entryId({ app, stack }))) return;
    await oneAtATime(c, async () => {
        const entry = (await readEntries(c)).find((e) => entryId(e) === entryId({ app, stack }));
        if (!entry || JSON.stringify(entry.dynos ?? []) === JSON.stringify(dynos)) return;
        await putFiles(c, [{ path: `${EDGE_APPS_DIR}/${entryId(entry)}.json`, content: JSON.stringify({ ...entry, dynos }) + "\n" }]);
        await loadConfig(c, host);
    });
}

const EDGE_LOCK = `${EDGE_DIR}/load.lock`;

/**
 * Runs `fn` holding the edge's lock (flock on its volume), so that changes to the entries and
 * config loads happen one at a time across commands and stacks: a load built from entries read
 * before another command's change can then never be served after that command returned (it
 * might still route to dynos the other command's deploy is about to stop). The lock is held by
 * an exec that lasts until its stdin closes, so it is let go when this process ends, too.
 */
export async function oneAtATime<T>(c: Docker.Container, fn: () => Promise<T>): Promise<T> {
    const exec = await c.exec({
        Cmd: ["flock", EDGE_LOCK, "sh", "-c", "echo locked; exec cat >/dev/null"],
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: true });
    try {
        await new Promise<void>((resolve, reject) => {
            let seen = "";
            const onData = (chunk: Buffer) => {
                seen += chunk.toString("latin1");
                if (seen.includes("locked")) {
                    stream.off("data", onData);
                    resolve();
                }
            };
            stream.on("data", onData);
            stream.on("error", reject);
            stream.on("end", () => reject(new Error(`could not take the edge router's lock: ${seen.trim()}`)));
        });
        return await fn();
    } finally {
        stream.end();
    }
}

/**
 * The server side of each established TCP connection to `ports` (`local-remote` in the kernel's
 * hex), from the text of /proc/net/tcp and /proc/net/tcp6. Pure.
 */
export function keptConnections(procNetTcp: string, ports: number[]): string[] {
    const hexPorts = new Set(ports.map((p) => p.toString(16).toUpperCase().padStart(4, "0")));
    const found: string[] = [];
    for (const line of procNetTcp.split("\n")) {
        // sl local_address rem_address st ...; state 01 is ESTABLISHED.
        const [, local, remote, state] = line.trim().split(/\s+/);
        if (state !== "01" || !local?.includes(":") || !remote) continue;
        if (hexPorts.has(local.slice(local.lastIndexOf(":") + 1))) found.push(`${local}-${remote}`);
    }
    return found;
}

/** How long a config load waits at most for kept connections to close: a client that sends nothing meanwhile keeps its idle one. */
const DRAIN_MAX_MS = 3_000;

async function clientConnections(c: Docker.Container, host: EdgeHost): Promise<Set<string>> {
    const r = await execIn(c, ["cat", "/proc/net/tcp", "/proc/net/tcp6"]);
    return new Set(keptConnections(r.output, [host.httpPort, host.httpsPort]));
}

/**
 * Runs `fn` (a config load) once the clients' kept connections have closed: with the drain file
 * (see EDGE_DRAIN_FILE) every answer closes its connection, so each client's next request, on a
 * connection open now, is the last on it. Waits until none of the connections open before is
 * left, or DRAIN_MAX_MS for connections no request comes on (idle clients). Connections opened
 * meanwhile carry one request each, which a load lets finish.
 */
async function drained<T>(c: Docker.Container, host: EdgeHost, fn: () => Promise<T>): Promise<T> {
    const open = await clientConnections(c, host);
    await execIn(c, ["touch", EDGE_DRAIN_FILE]);
    try {
        const deadline = Date.now() + DRAIN_MAX_MS;
        while (open.size && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 50));
            const now = await clientConnections(c, host);
            for (const k of open) if (!now.has(k)) open.delete(k);
        }
        return await fn();
    } finally {
        await execIn(c, ["rm", "-f", EDGE_DRAIN_FILE]);
    }
}

/**
 * Loads the config built from every stored entry, with the clients' kept connections drained
 * first (a load closes idle ones); a config equal to the one loaded is not loaded again. Two
 * stacks may change their entries at once (two deploys): after its load, each reads the entries
 * again and loads once more if they changed meanwhile, so the last config loaded has every entry
 * (a certificate obtained meanwhile waits for the next load to be a handover copy).
 */
export async function loadConfig(c: Docker.Container, host: EdgeHost): Promise<void> {
    let entries = await readEntries(c);
    for (;;) {
        const handover = await handoverCopies(c, entries);
        const config = JSON.stringify(edgeCaddyConfig(host, entries, handover.map((h) => h.cert)));
        const loaded = await execIn(c, ["cat", `${EDGE_DIR}/caddy.json`]);
        if (loaded.exitCode === 0 && loaded.output === config) return;
        // Its own file, so that a load running beside it cannot swap the body.
        const file = `${EDGE_DIR}/caddy.json.${crypto.randomBytes(6).toString("hex")}`;
        await putFiles(c, [{ path: file, content: config }, ...handover.flatMap((h) => h.files)]);
        const r = await drained(c, host, () => admin(c, "POST", "/load", file));
        // Kept only once loaded: it is what the next load compares with.
        await execIn(c, r.status === 200 ? ["mv", "-f", file, `${EDGE_DIR}/caddy.json`] : ["rm", "-f", file]);
        if (r.status !== 200) throw new Error(`the edge router refused its new config (HTTP ${r.status}): ${r.body.trim().slice(0, 400)}`);
        await dropHandoverCopies(c, handover.map((h) => h.cert));
        // Only the entries decide whether to load again. A certificate Caddy got or renewed
        // meanwhile is a new handover copy, but the next load copies it anyway; loading again
        // for it never ended under `certs:renew`: each load of its forced renewal renews again,
        // which made a new copy, which made a new load (20 renewals in 10 minutes, on Pebble).
        const now = await readEntries(c);
        if (JSON.stringify(now) === JSON.stringify(entries)) return;
        entries = now;
    }
}

/**
 * A handover copy (see {@link HandoverCert}) of each valid ACME certificate in Caddy's storage for
 * a domain the entries have Caddy manage, with the files that make it (written only with a config
 * that names them). A copy is named by the certificate's hash: a renewed certificate is a new
 * copy, so a new config.
 */
async function handoverCopies(c: Docker.Container, entries: EdgeEntry[]): Promise<Array<{ cert: HandoverCert; files: StoredFile[] }>> {
    const managed = new Set(entries.flatMap(acmeDomains));
    if (!managed.size) return [];
    const copies: Array<{ cert: HandoverCert; files: StoredFile[] }> = [];
    for (const { file, pem, key = "" } of await readPemFiles(c, [`${EDGE_STORAGE}/certificates`], true)) {
        const domain = file.slice(file.lastIndexOf("/") + 1, -".crt".length);
        if (!managed.has(domain)) continue;
        try {
            const leaf = new crypto.X509Certificate(pem);
            // Caddy writes a renewed certificate and its key one after the other: a pair read between them is skipped.
            if (!leaf.checkPrivateKey(crypto.createPrivateKey(key)) || Date.parse(leaf.validTo) <= Date.now()) continue;
        } catch {
            continue;
        }
        const name = crypto.createHash("sha256").update(pem).digest("hex").slice(0, 16);
        const cert = { domain, certFile: `${EDGE_HANDOVER_DIR}/${name}.crt`, keyFile: `${EDGE_HANDOVER_DIR}/${name}.key` };
        copies.push({ cert, files: [{ path: cert.certFile, content: handoverChain(pem) }, { path: cert.keyFile, content: key, mode: 0o600 }] });
    }
    return copies;
}

/** Deletes the handover copies the loaded config no longer names (`caddy run --resume` reads the ones it does). */
async function dropHandoverCopies(c: Docker.Container, kept: HandoverCert[]): Promise<void> {
    const keep = new Set(kept.flatMap((h) => [h.certFile, h.keyFile]));
    const r = await execIn(c, ["sh", "-c", `find ${EDGE_HANDOVER_DIR} -type f 2>/dev/null; true`]);
    const stale = r.output.split("\n").filter((f) => f.trim() && !keep.has(f.trim()));
    if (stale.length) await execIn(c, ["rm", "-f", ...stale]);
}

/** A certificate found on the edge volume: its PEM and where it is. */
export interface StoredCert {
    file: string;
    pem: string;
}

/** Every certificate on the edge volume: issued over ACME (Caddy's storage) and brought by users. */
export async function readCerts(c: Docker.Container): Promise<StoredCert[]> {
    return (await readPemFiles(c, [`${EDGE_STORAGE}/certificates`, EDGE_CERTS_DIR], false)).map(({ file, pem }) => ({ file, pem }));
}

/** A file to write into the edge (see {@link putFiles}). */
type StoredFile = { path: string; content: string; mode?: number };

/**
 * Each `*.crt` under `roots` (sorted), read in one exec; with `withKey`, the `.key` beside each
 * too, read right after it.
 */
async function readPemFiles(c: Docker.Container, roots: string[], withKey: boolean): Promise<Array<StoredCert & { key?: string }>> {
    const key = withKey ? `; echo "#KEY"; cat "\${f%.crt}.key"` : "";
    const r = await execIn(c, [
        "sh",
        "-c",
        `find ${roots.join(" ")} -name '*.crt' 2>/dev/null | sort | while read f; do echo "#FILE $f"; cat "$f"${key}; done; true`,
    ]);
    return r.output
        .split("#FILE ")
        .slice(1)
        .map((part) => {
            const nl = part.indexOf("\n");
            const [pem, keyPem] = part.slice(nl + 1).split("#KEY\n");
            return { file: part.slice(0, nl), pem, ...(withKey ? { key: keyPem ?? "" } : {}) };
        });
}

/** Stores a user's certificate and key (mode 600) under a name from the certificate's hash; the paths inside the edge. */
export async function storeCustomCert(c: Docker.Container, certPem: string, keyPem: string): Promise<{ certFile: string; keyFile: string }> {
    const name = crypto.createHash("sha256").update(certPem).digest("hex").slice(0, 16);
    const certFile = `${EDGE_CERTS_DIR}/${name}.crt`;
    const keyFile = `${EDGE_CERTS_DIR}/${name}.key`;
    await putFiles(c, [
        { path: certFile, content: certPem },
        { path: keyFile, content: keyPem, mode: 0o600 },
    ]);
    return { certFile, keyFile };
}

/** Copies a PEM file of ACME CA roots onto the edge volume; its path inside the edge. */
export async function storeCaRoot(c: Docker.Container, pem: string): Promise<string> {
    const name = crypto.createHash("sha256").update(pem).digest("hex").slice(0, 16);
    const file = `${EDGE_DIR}/ca-${name}.pem`;
    await putFiles(c, [{ path: file, content: pem }]);
    return file;
}
