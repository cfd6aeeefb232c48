import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { aptInstall, which } from "../../toolchain/docker-engine";
import { processRunning } from "../../toolchain/processes";
import { eventually } from "./poll";

// What the netns test machines share (test-hosts.ts: SSH servers; test-cluster.ts: a Swarm
// cluster): a bridge with a /24, one network namespace per machine on a veth pair, firewall rules
// that let the bridge pass, pid files, a lock so one test file holds a lab at a time, and an sshd
// per machine whose sessions reach that machine's engine (keys and known_hosts per lab). Every
// name starts with the lab's prefix, so a killed run's leftovers are found and removed before the
// next run starts (docs/ENVIRONMENT "Test hosts" is the recipe).

/** One iptables rule: table, chain, match and target. */
export type FirewallRule = [table: string, chain: string, rule: string[]];

/** A set of netns test machines: names, addresses and folders that no other lab uses. */
export interface NetnsLab {
    /** Namespaces are `<prefix><i>`, the bridge `<prefix>0`. */
    prefix: string;
    /** The first three octets: the bridge is .1, machine i is .(10 + i). */
    net: string;
    /** Data that outlives a run (engines' data roots, keys). */
    state: string;
    /** Sockets, pid files and the lock. */
    run: string;
    /** What the lab needs from this machine's firewall (inserted on start, removed on clean). */
    firewall: FirewallRule[];
}

/** Runs a command; a non-zero exit throws unless `ok`. */
export function sh(cmd: string, args: string[], opts: { ok?: boolean } = {}): string {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0 && !opts.ok) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout ?? "";
}

export const bridgeOf = (lab: NetnsLab) => `${lab.prefix}0`;
export const machineName = (lab: NetnsLab, i: number) => `${lab.prefix}${i}`;
export const machineAddress = (lab: NetnsLab, i: number) => `${lab.net}.${10 + i}`;
/** The file `ip netns add` makes for namespace `ns` (what `nsenter --net=` takes). */
export const netnsFile = (ns: string) => `/var/run/netns/${ns}`;
/** A pid file of the lab's machine `name` (`<run>/<name>-<what>.pid`). */
export const pidFile = (lab: NetnsLab, name: string, what: string) => path.join(lab.run, `${name}-${what}.pid`);

/**
 * Takes the lab's lock (a file naming this process's pid) unless a live process holds it; a dead
 * holder's lock is taken over. True when this process holds the lab (it may already have).
 */
export function tryAcquireLab(lab: NetnsLab): boolean {
    const lock = path.join(lab.run, "lock");
    fs.mkdirSync(lab.run, { recursive: true });
    for (let attempt = 1; ; attempt++) {
        try {
            fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
            return true;
        } catch {
            const owner = lockOwner(lab);
            // This process's own lock: a test file starting its lab again (node --test runs one file per process).
            if (owner === process.pid) return true;
            // No pid in it yet: another process is writing it (or died doing so, a minute ago at least).
            const stale = owner === undefined ? Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0) > 60_000 : !processRunning(owner);
            if (!stale || attempt > 1) return false;
            fs.rmSync(lock, { force: true });
        }
    }
}

/** The pid in the lab's lock, if there is one. */
function lockOwner(lab: NetnsLab): number | undefined {
    const text = fs.readFileSync(path.join(lab.run, "lock"), "utf8").trim();
    return Number(text) > 0 ? Number(text) : undefined;
}

/** Waits until this process holds the lab. */
export async function acquireLab(lab: NetnsLab, what: string): Promise<void> {
    await eventually(() => tryAcquireLab(lab), 30 * 60_000, `${what} (another test file holds them)`, 1000);
}

/**
 * Waits until this process holds one of `labs`: one it holds already, else the first no other
 * process holds. Test files running at once each get their own, so none waits for another.
 */
export async function acquireAnyLab(labs: NetnsLab[], what: string): Promise<NetnsLab> {
    const held = (lab: NetnsLab) => fs.existsSync(path.join(lab.run, "lock")) && lockOwner(lab) === process.pid;
    return eventually(() => labs.find(held) ?? labs.find(tryAcquireLab), 30 * 60_000, `${what} (other test files hold all ${labs.length})`, 1000);
}

export function releaseLab(lab: NetnsLab): void {
    const lock = path.join(lab.run, "lock");
    if (fs.existsSync(lock) && Number(fs.readFileSync(lock, "utf8")) === process.pid) fs.rmSync(lock);
}

export function readPid(file: string): number | undefined {
    const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8").trim()) : NaN;
    return pid > 0 ? pid : undefined;
}

/**
 * The pid in machine `ns`'s pid file for `what` (`sshd`, `docker`) while that process still runs
 * in the machine's network namespace; undefined when the file is stale. A machine killed whole
 * (a fault test's SIGKILL) leaves its pid files behind, and the number soon belongs to another
 * process, or to a thread, whose ID kill(2) takes for its whole process: in one CI run a lab's
 * teardown stopped, at the same second, the manager engine of the lab another file was using.
 */
export function machinePid(lab: NetnsLab, ns: string, what: string): number | undefined {
    const pid = readPid(pidFile(lab, ns, what));
    if (!pid) return undefined;
    try {
        const tgid = /^Tgid:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
        if (Number(tgid) !== pid) return undefined;
        const inode = /\[(\d+)\]/.exec(fs.readlinkSync(`/proc/${pid}/ns/net`))?.[1];
        return Number(inode) === fs.statSync(netnsFile(ns)).ino ? pid : undefined;
    } catch {
        return undefined; // gone, or its namespace is
    }
}

/** SIGTERM, then SIGKILL when the process has not exited in 30 s. */
export async function stopPid(pid: number | undefined, what: string): Promise<void> {
    if (!pid || !processRunning(pid)) return;
    process.kill(pid, "SIGTERM");
    try {
        await eventually(() => !processRunning(pid), 30_000, `${what} (pid ${pid}) to exit`);
    } catch {
        process.kill(pid, "SIGKILL");
    }
}

/** The lab's namespaces that exist now (a killed run's included). */
export function labNamespaces(lab: NetnsLab): string[] {
    return sh("ip", ["netns", "list"]).split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(lab.prefix));
}

/**
 * Kills whatever still runs in namespace `ns` (a containerd or shim of a killed dockerd), waits
 * until it has exited, and deletes the namespace and its veth pair (the pair outlives the name
 * while a process is still in the namespace, and the next run's `ip link add` would fail).
 */
export async function removeNamespace(ns: string): Promise<void> {
    const pids = sh("ip", ["netns", "pids", ns], { ok: true }).split("\n").map(Number).filter(Boolean);
    for (const pid of pids) {
        if (processRunning(pid)) process.kill(pid, "SIGKILL");
    }
    await eventually(() => pids.every((pid) => !processRunning(pid)), 30_000, `the processes in namespace ${ns} to exit`, 100);
    sh("ip", ["netns", "del", ns], { ok: true });
    sh("ip", ["link", "del", `${ns}h`], { ok: true });
}

/** Deletes the bridge and every copy of the lab's firewall rules (one per earlier run that did not remove its own). */
export function removeBridge(lab: NetnsLab): void {
    sh("ip", ["link", "del", bridgeOf(lab)], { ok: true });
    for (const [table, chain, rule] of lab.firewall) {
        while (spawnSync("iptables", ["-t", table, "-D", chain, ...rule]).status === 0) {
            // again: an earlier run's copy
        }
    }
}

/** The bridge at `<net>.1/24` and the lab's firewall rules. */
export function createBridge(lab: NetnsLab): void {
    const bridge = bridgeOf(lab);
    sh("ip", ["link", "add", bridge, "type", "bridge"]);
    sh("ip", ["addr", "add", `${lab.net}.1/24`, "dev", bridge]);
    sh("ip", ["link", "set", bridge, "up"]);
    for (const [table, chain, rule] of lab.firewall) sh("iptables", ["-t", table, "-I", chain, ...rule]);
}

/**
 * Machine `i` (1-based): its namespace on a veth pair to the bridge, its address, and a default
 * route through the bridge. Returns its name, address and namespace file (for `nsenter --net=`).
 */
export function addMachine(lab: NetnsLab, i: number): { name: string; address: string; netns: string } {
    const name = machineName(lab, i);
    const address = machineAddress(lab, i);
    const netns = netnsFile(name);
    sh("ip", ["netns", "add", name]);
    sh("ip", ["link", "add", `${name}h`, "type", "veth", "peer", "name", `${name}n`]);
    sh("ip", ["link", "set", `${name}h`, "master", bridgeOf(lab), "up"]);
    sh("ip", ["link", "set", `${name}n`, "netns", name]);
    const inNs = (args: string[]) => sh("nsenter", [`--net=${netns}`, ...args]);
    inNs(["ip", "link", "set", "lo", "up"]);
    inNs(["ip", "addr", "add", `${address}/24`, "dev", `${name}n`]);
    inNs(["ip", "link", "set", `${name}n`, "up"]);
    inNs(["ip", "route", "add", "default", "via", `${lab.net}.1`]);
    return { name, address, netns };
}

/**
 * Holds a lab for this process (`labs`: the first one free): takes its lock, removes what an
 * earlier run left (`clean`), makes the bridge, then runs `start`; its result gains the lab and a
 * `teardown` that cleans up and lets go of the lock. A failed start cleans up and lets go at once.
 */
export async function holdLab<T extends object>(
    labs: NetnsLab | NetnsLab[],
    what: string,
    clean: (lab: NetnsLab) => Promise<void>,
    start: (lab: NetnsLab) => Promise<T>,
): Promise<T & { lab: NetnsLab; teardown(): Promise<void> }> {
    const lab = Array.isArray(labs) ? await acquireAnyLab(labs, what) : (await acquireLab(labs, what), labs);
    try {
        await clean(lab);
        createBridge(lab);
        const started = await start(lab);
        const teardown = async () => {
            try {
                await clean(lab);
            } finally {
                releaseLab(lab);
            }
        };
        return { ...started, lab, teardown };
    } catch (err) {
        await clean(lab).catch(() => undefined);
        releaseLab(lab);
        throw err;
    }
}

/** Debian's openssh-server, installed once when sshd is missing (as doctor installs docker.io). */
export function ensureSshd(): string {
    const found = which("sshd");
    if (found) return found;
    // Installing must not start Debian's own sshd on this machine's port 22.
    const policy = "/usr/sbin/policy-rc.d";
    const ours = !fs.existsSync(policy);
    if (ours) fs.writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
    try {
        aptInstall(["openssh-server"]);
    } finally {
        if (ours) fs.rmSync(policy, { force: true });
    }
    return which("sshd")!;
}

function keygen(file: string, comment: string): void {
    if (!fs.existsSync(file)) sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
}

/** The SSH files of a lab (under `<state>/keys`, kept across runs). */
export interface LabKeys {
    /** The key every machine of the lab lets root in with. */
    keyFile: string;
    /** A key no machine knows. */
    wrongKeyFile: string;
    /** The machines' authorized_keys (the test key's public half). */
    authorizedKeys: string;
    /** known_hosts naming every machine's host key by address ({@link writeKnownHosts}). */
    knownHostsFile: string;
}

/** Makes the lab's keys (once) and its authorized_keys. */
export function labKeys(lab: NetnsLab): LabKeys {
    const dir = path.join(lab.state, "keys");
    fs.mkdirSync(dir, { recursive: true });
    const keys = {
        keyFile: path.join(dir, "id_ed25519"),
        wrongKeyFile: path.join(dir, "id_wrong"),
        authorizedKeys: path.join(dir, "authorized_keys"),
        knownHostsFile: path.join(dir, "known_hosts"),
    };
    keygen(keys.keyFile, "dynoform-test");
    keygen(keys.wrongKeyFile, "dynoform-test-unknown");
    fs.copyFileSync(`${keys.keyFile}.pub`, keys.authorizedKeys);
    return keys;
}

/** `ssh://root@<address>?identityFile=…&knownHostsFile=…`: the Docker host setting that reaches a machine through its sshd. Pure. */
export function sshDockerHost(address: string, keys: LabKeys): string {
    return `ssh://root@${address}?identityFile=${keys.keyFile}&knownHostsFile=${keys.knownHostsFile}`;
}

/** Writes the lab's known_hosts: one line per machine, its address and the public half of its host key. */
export function writeKnownHosts(keys: LabKeys, machines: Array<{ address: string; hostKey: string }>): void {
    const line = (m: { address: string; hostKey: string }) => `${m.address} ${fs.readFileSync(`${m.hostKey}.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`;
    fs.writeFileSync(keys.knownHostsFile, machines.map(line).join(""));
}

async function listening(address: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host: address, port, timeout: 1000 }, () => (s.destroy(), resolve(true)));
        s.on("error", () => resolve(false));
        s.on("timeout", () => (s.destroy(), resolve(false)));
    });
}

/**
 * Starts an sshd for machine `name` of `lab` (namespace file `netns`) on its address, port 22,
 * letting root in with the lab's key only; its sessions get `DOCKER_HOST=unix://<dockerSocket>`
 * (the namespaces share this machine's files: without it they would reach this machine's own
 * engine). Its host key, config and log are in `dir`; resolves to the host key file once it listens.
 */
export async function startSshd(lab: NetnsLab, o: { name: string; address: string; netns: string; dir: string; dockerSocket: string; keys: LabKeys }): Promise<string> {
    const sshd = ensureSshd();
    const hostKey = path.join(o.dir, "ssh_host_ed25519_key");
    keygen(hostKey, o.name);
    const config = path.join(o.dir, "sshd_config");
    fs.writeFileSync(config, [
        `ListenAddress ${o.address}`,
        `HostKey ${hostKey}`,
        `PidFile ${pidFile(lab, o.name, "sshd")}`,
        `AuthorizedKeysFile ${o.keys.authorizedKeys}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        `SetEnv DOCKER_HOST=unix://${o.dockerSocket}`,
        "",
    ].join("\n"));
    fs.mkdirSync("/run/sshd", { recursive: true });
    const log = fs.openSync(path.join(o.dir, "sshd.log"), "a");
    // A server of its own starts with a clean root: this machine's ~/.bashrc (here it runs pyenv's
    // init, about 1 CPU-s) would run at each SSH session (Debian's bash reads it for a command
    // from sshd), and each Docker connection is one. The sshd gets a mount namespace of its own
    // in which an empty file covers it.
    const rc = path.join(os.homedir(), ".bashrc");
    const empty = path.join(o.dir, "empty-bashrc");
    fs.writeFileSync(empty, "");
    const start = fs.existsSync(rc) ? 'mount --bind "$1" "$2" && exec "$3" -D -e -f "$4"' : 'exec "$3" -D -e -f "$4"';
    const server = spawn("nsenter", [`--net=${o.netns}`, "unshare", "--mount", "--propagation", "private", "sh", "-c", start, "sh", empty, rc, sshd, config], {
        detached: true,
        stdio: ["ignore", log, log],
    });
    server.unref();
    fs.closeSync(log);
    await eventually(() => listening(o.address, 22), 20_000, `sshd on ${o.address}:22`, 200);
    return hostKey;
}
