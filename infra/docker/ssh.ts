import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import type { Duplex } from "stream";

// The Docker engine of a server, reached over SSH as `docker -H ssh://…` does: one SSH connection
// per process (ssh2, the library docker-modem already depends on), and per HTTP connection one
// channel running `docker system dial-stdio` on the server, which pipes it to that server's engine.
// A server allows a few such sessions per connection (OpenSSH's MaxSessions, 10 by default):
// requests beyond that go over another connection to the same server.
// Host keys are checked against known_hosts; keys come from ssh-agent, ~/.ssh or a named file.

/** Where an `ssh://` Docker host points, and the files that prove who is who. */
export interface SshTarget {
    user: string;
    host: string;
    port: number;
    /** A private key file (`?identityFile=`); else the agent and ~/.ssh/id_* are tried. */
    identityFile?: string;
    /** The known_hosts file (`?knownHostsFile=`); ~/.ssh/known_hosts by default. */
    knownHostsFile: string;
}

/** An ssh:// host that is malformed, refused, unknown or unreachable: always one line. */
export class SshHostError extends Error {
    override readonly name = "SshHostError";
}

const QUERY_KEYS = ["identityFile", "knownHostsFile"];

/**
 * Parses `ssh://[user@]host[:port][?identityFile=PATH&knownHostsFile=PATH]`. Paths may start
 * with `~/`; relative paths are taken from `baseDir` (the project folder for a stack setting).
 */
export function parseSshHost(url: string, baseDir = process.cwd(), home = os.homedir()): SshTarget {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        throw new SshHostError(`Docker host "${url}" is not a valid ssh://user@host[:port] address`);
    }
    if (u.protocol !== "ssh:" || !u.hostname || (u.pathname !== "" && u.pathname !== "/")) {
        throw new SshHostError(`Docker host "${url}" is not a valid ssh://user@host[:port] address`);
    }
    for (const key of u.searchParams.keys()) {
        if (!QUERY_KEYS.includes(key)) {
            throw new SshHostError(`Docker host "${url}": unknown option "${key}" (the options are ${QUERY_KEYS.join(", ")})`);
        }
    }
    const file = (p: string | null) => {
        if (!p) return undefined;
        if (p === "~" || p.startsWith("~/")) return path.join(home, p.slice(1));
        return path.resolve(baseDir, p);
    };
    return {
        user: decodeURIComponent(u.username) || os.userInfo().username,
        host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: u.port ? Number(u.port) : 22,
        identityFile: file(u.searchParams.get("identityFile")),
        knownHostsFile: file(u.searchParams.get("knownHostsFile")) ?? path.join(home, ".ssh", "known_hosts"),
    };
}

/** `host` for port 22, `[host]:port` otherwise: how OpenSSH names a host in known_hosts. */
export function knownHostsName(host: string, port: number): string {
    return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's fingerprint of a public key blob: `SHA256:` and unpadded base64. */
export function fingerprint(blob: Buffer): string {
    return "SHA256:" + crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "");
}

/** The key type written inside an SSH public key blob (`ssh-ed25519`, `rsa-sha2-…` keys say `ssh-rsa`). */
export function keyType(blob: Buffer): string {
    const len = blob.readUInt32BE(0);
    return blob.subarray(4, 4 + len).toString("latin1");
}

function globMatch(pattern: string, name: string): boolean {
    const re = new RegExp("^" + pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$", "i");
    return re.test(name);
}

/** Whether a known_hosts host field (`a,b,[c]:2222`, `|1|salt|hash`, globs, `!negations`) names `name`. */
export function hostFieldMatches(field: string, name: string): boolean {
    if (field.startsWith("|1|")) {
        const [, , salt, hash] = field.split("|");
        const mac = crypto.createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
        return mac === hash;
    }
    let matched = false;
    for (const pattern of field.split(",")) {
        if (pattern.startsWith("!")) {
            if (globMatch(pattern.slice(1), name)) return false;
        } else if (globMatch(pattern, name)) {
            matched = true;
        }
    }
    return matched;
}

/** What known_hosts says of a host's key: known, never seen, or different from the one recorded. */
export type HostKeyVerdict = "known" | "unknown" | "changed" | "revoked";

/** Checks a host key blob against the text of a known_hosts file (pure). */
export function checkHostKey(knownHosts: string, name: string, blob: Buffer): HostKeyVerdict {
    const type = keyType(blob);
    let sameTypeDiffers = false;
    for (const raw of knownHosts.split("\n")) {
        const line = raw.trim();
        if (!line || line.startsWith("#")) continue;
        const fields = line.split(/\s+/);
        const marker = fields[0].startsWith("@") ? fields.shift() : undefined;
        const [hosts, type2, key] = fields;
        if (!key || marker === "@cert-authority") continue;
        const matches = marker === "@revoked" ? true : hostFieldMatches(hosts, name);
        if (!matches) continue;
        const recorded = Buffer.from(key, "base64");
        if (marker === "@revoked") {
            if (recorded.equals(blob)) return "revoked";
            continue;
        }
        if (recorded.equals(blob)) return "known";
        if (type2 === type) sameTypeDiffers = true;
    }
    return sameTypeDiffers ? "changed" : "unknown";
}

/** The one line that stops a command whose server's host key is not the known one. */
export function hostKeyMessage(verdict: Exclude<HostKeyVerdict, "known">, target: SshTarget, blob: Buffer): string {
    const name = knownHostsName(target.host, target.port);
    const fp = `${keyType(blob)} key ${fingerprint(blob)}`;
    const scan = `ssh-keyscan${target.port === 22 ? "" : ` -p ${target.port}`} ${target.host} >> ${target.knownHostsFile}`;
    switch (verdict) {
        case "unknown":
            return `the host key of ${name} is not in ${target.knownHostsFile}: it offered ${fp}; if that is your server's key, accept it with \`${scan}\` (or connect once with ssh) and run the command again`;
        case "changed":
            return `the host key of ${name} has CHANGED (it now offers ${fp}, not the one in ${target.knownHostsFile}): someone may be in the middle; if the server was reinstalled, run \`ssh-keygen -R ${name} -f ${target.knownHostsFile}\` and then \`${scan}\``;
        case "revoked":
            return `the host key of ${name} (${fp}) is marked @revoked in ${target.knownHostsFile}: refusing to connect`;
    }
}

/** The private keys to try, in OpenSSH's order, and their passphrase from DYNOFORM_SSH_PASSPHRASE. */
function privateKeys(target: SshTarget, home: string): Array<{ file: string; key: Buffer }> {
    const files = target.identityFile
        ? [target.identityFile]
        : ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => path.join(home, ".ssh", f));
    const found: Array<{ file: string; key: Buffer }> = [];
    for (const file of files) {
        try {
            found.push({ file, key: fs.readFileSync(file) });
        } catch (err) {
            if (target.identityFile) throw new SshHostError(`cannot read the SSH key ${file}: ${(err as NodeJS.ErrnoException).code}`);
        }
    }
    return found;
}

const READY_TIMEOUT_MS = 8000;

/**
 * True for a server refusing to open a channel on a connection that works (ssh2 gives the
 * server's reason code): for a session, OpenSSH does so ("open failed") once MaxSessions are
 * open on that connection. Pure.
 */
export function sessionRefused(err: unknown): boolean {
    const e = err as { reason?: unknown; message?: unknown } | undefined;
    return typeof e?.reason === "number" && /^\(SSH\) Channel open failure/.test(String(e.message));
}

/** A session the server refused on a connection that has others open: try another connection. */
class SessionRefused extends Error {}

/**
 * One SSH connection to a server, opened on first use and again after it drops. Its socket keeps
 * the process alive only while a channel is open, so a command ends when its work does.
 */
class SshConnection {
    private ready?: Promise<import("ssh2").Client>;
    private channels = 0;
    /** The server refused a session and none has closed since: it would refuse another. */
    private refusing = false;

    constructor(private readonly target: SshTarget) {}

    /** Whether the server would refuse another session on this connection now. */
    get full(): boolean {
        return this.refusing;
    }

    /** A new duplex stream to the server's engine API; {@link SessionRefused} when the server allows no more sessions on this connection. */
    async dial(): Promise<Duplex> {
        // Counted from now: the socket must keep the process alive while the channel is being opened.
        this.channels++;
        let client: import("ssh2").Client;
        let stream: Duplex;
        try {
            client = await this.connect();
            this.hold(client, 0);
            stream = await new Promise<Duplex>((resolve, reject) =>
                client.exec("docker system dial-stdio", (err, channel) => (err ? reject(err) : resolve(channel as unknown as Duplex))),
            ).catch((err) => {
                const where = `ssh ${this.target.user}@${knownHostsName(this.target.host, this.target.port)}`;
                if (sessionRefused(err)) {
                    // Refused with no other channel open or opening: it allows none.
                    if (this.channels === 1) throw new SshHostError(`${where}: the server refuses a session (its sshd's MaxSessions?): ${(err as Error).message}`);
                    this.refusing = true;
                    throw new SessionRefused((err as Error).message);
                }
                this.ready = undefined;
                throw new SshHostError(`${where}: ${(err as Error).message}`);
            });
        } catch (err) {
            this.channels--;
            throw err;
        }
        // http.Agent expects a socket; a channel lacks the socket-only methods. The agent unrefs a
        // channel it keeps for the next request and refs it again when it reuses it: an idle
        // channel must not keep the process alive.
        let held = true;
        const hold = (on: boolean) => {
            if (held !== on) this.hold(client, on ? 1 : -1);
            held = on;
        };
        stream.once("close", () => {
            this.refusing = false;
            hold(false);
        });
        const s = stream as Duplex & Record<string, unknown>;
        for (const m of ["setTimeout", "setNoDelay", "setKeepAlive"]) {
            if (typeof s[m] !== "function") s[m] = () => s;
        }
        s.ref = () => (hold(true), s);
        s.unref = () => (hold(false), s);
        return stream;
    }

    /** Opens and closes a forwarded TCP connection to `host:port` from the server. */
    async probe(host: string, port: number, timeoutMs: number): Promise<boolean> {
        this.channels++;
        let client: import("ssh2").Client | undefined;
        try {
            client = await this.connect();
            this.hold(client, 0);
            const c = client;
            return await new Promise<boolean>((resolve) => {
                const timer = setTimeout(() => resolve(false), timeoutMs);
                c.forwardOut("127.0.0.1", 0, host, port, (err, channel) => {
                    clearTimeout(timer);
                    if (err) return resolve(false);
                    channel.close();
                    resolve(true);
                });
            });
        } catch {
            return false;
        } finally {
            if (client) this.hold(client, -1);
            else this.channels--;
        }
    }

    private hold(client: import("ssh2").Client, delta: number) {
        this.channels += delta;
        const sock = (client as unknown as { _sock?: { ref(): void; unref(): void } })._sock;
        if (this.channels > 0) sock?.ref();
        else sock?.unref();
    }

    private connect(): Promise<import("ssh2").Client> {
        this.ready ??= this.open().catch((err) => {
            this.ready = undefined;
            throw err;
        });
        return this.ready;
    }

    private open(): Promise<import("ssh2").Client> {
        const { Client } = require("ssh2") as typeof import("ssh2");
        const t = this.target;
        const home = os.homedir();
        const name = knownHostsName(t.host, t.port);
        let knownHosts = "";
        try {
            knownHosts = fs.readFileSync(t.knownHostsFile, "utf8");
        } catch {
            // no file: every host is unknown, and the message says how to accept it
        }
        const passphrase = process.env.DYNOFORM_SSH_PASSPHRASE;
        const methods: Array<Record<string, unknown>> = [];
        if (process.env.SSH_AUTH_SOCK && !t.identityFile) methods.push({ type: "agent", username: t.user, agent: process.env.SSH_AUTH_SOCK });
        for (const { key } of privateKeys(t, home)) methods.push({ type: "publickey", username: t.user, key, passphrase });
        return new Promise((resolve, reject) => {
            const client = new Client();
            let hostKeyProblem: string | undefined;
            client.once("ready", () => {
                client.removeAllListeners("error");
                client.on("error", () => (this.ready = undefined));
                client.once("close", () => (this.ready = undefined));
                resolve(client);
            });
            client.once("error", (err: Error & { level?: string }) => {
                const where = `ssh ${t.user}@${name}`;
                if (hostKeyProblem) return reject(new SshHostError(hostKeyProblem));
                if (err.level === "client-authentication") {
                    return reject(new SshHostError(`${where}: the server refused every key (${methods.length ? `tried ${methods.map((m) => (m.type === "agent" ? "ssh-agent" : "a key file")).join(", ")}` : "no ssh-agent and no key in ~/.ssh"}): check the user and that your public key is in its authorized_keys`));
                }
                if (err.level === "client-timeout") return reject(new SshHostError(`${where}: no answer within ${READY_TIMEOUT_MS / 1000} s (is the server up?)`));
                const code = (err as NodeJS.ErrnoException).code;
                reject(new SshHostError(code ? `${where}: cannot reach the server (${code})` : `${where}: ${err.message}`));
            });
            try {
                client.connect({
                    host: t.host,
                    port: t.port,
                    username: t.user,
                    readyTimeout: READY_TIMEOUT_MS,
                    // No keepalive timer: ssh2's would keep every command alive after its work is done.
                    authHandler: methods as never,
                    hostVerifier: (blob: Buffer) => {
                        const verdict = checkHostKey(knownHosts, name, blob);
                        if (verdict === "known") return true;
                        hostKeyProblem = hostKeyMessage(verdict, t, blob);
                        return false;
                    },
                });
            } catch (err) {
                reject(new SshHostError(`ssh ${t.user}@${name}: ${(err as Error).message}`));
            }
        });
    }
}

/**
 * The SSH connections of this process to one server: the first, and another each time every
 * open one holds as many sessions as the server allows on a connection.
 */
class SshConnections {
    private readonly open: SshConnection[] = [];

    constructor(private readonly target: SshTarget) {}

    /** A new duplex stream to the server's engine API, over the first connection with room. */
    async dial(): Promise<Duplex> {
        for (;;) {
            const conn = this.open.find((c) => !c.full) ?? this.add();
            try {
                return await conn.dial();
            } catch (err) {
                if (!(err instanceof SessionRefused)) throw err;
            }
        }
    }

    /** See {@link connectsFromServer}: a forwarded TCP channel, not a session. */
    probe(host: string, port: number, timeoutMs: number): Promise<boolean> {
        return (this.open[0] ?? this.add()).probe(host, port, timeoutMs);
    }

    private add(): SshConnection {
        const conn = new SshConnection(this.target);
        this.open.push(conn);
        return conn;
    }
}

const connections = new Map<string, SshConnections>();

function connectionsTo(target: SshTarget): SshConnections {
    const key = JSON.stringify(target);
    let conns = connections.get(key);
    if (!conns) connections.set(key, (conns = new SshConnections(target)));
    return conns;
}

const agents = new Map<string, http.Agent>();

/**
 * The http.Agent of a server (one per process): its connections are channels to the server's
 * engine over this process's SSH connections to it. A channel is kept for the next request (each
 * new one starts `docker system dial-stdio` on the server, half a second on a busy one), a few
 * at most: idle ones still count against the server's sessions.
 */
export function sshAgent(target: SshTarget): http.Agent {
    const key = JSON.stringify(target);
    const known = agents.get(key);
    if (known) return known;
    const conns = connectionsTo(target);
    const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 4 });
    (agent as unknown as { createConnection: unknown }).createConnection = (_opts: unknown, cb: (err: Error | null, s?: Duplex) => void) => {
        conns.dial().then((s) => cb(null, s), (err) => cb(err));
        return undefined;
    };
    agents.set(key, agent);
    return agent;
}

/**
 * Whether `host:port` accepts a TCP connection as seen from the server (an SSH direct-tcpip
 * channel): a container's address on a remote engine is on that server's networks, not ours.
 */
export async function connectsFromServer(target: SshTarget, host: string, port: number, timeoutMs = 1000): Promise<boolean> {
    return connectionsTo(target).probe(host, port, timeoutMs);
}
