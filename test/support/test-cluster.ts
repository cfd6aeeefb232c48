import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Docker = require("dockerode");
import { which } from "../../toolchain/docker-engine";
import { copyImages } from "../../toolchain/base-images";
import { connectDocker } from "../../infra/docker/client";
import { formSwarm, SwarmNode } from "../../infra/swarm/cluster";
import { processRunning } from "../../toolchain/processes";
import { eventually } from "./poll";

// A test Swarm cluster on this machine: per node a network namespace on a bridge and its own
// dockerd with its own hostname (`unshare --uts`, so the nodes have distinct names), formed into
// one cluster (init on the first, join the others). Its names (PREFIX, NET) differ from
// test-hosts.ts's, so the SSH hosts and this cluster can exist at once. Everything is named with
// PREFIX, so what a killed run left is found and removed before the next run starts its own; the
// engines' data roots stay (with the images copied into them) and leave any old cluster on start.

const PREFIX = "dfsw";
const BRIDGE = `${PREFIX}0`;
/** The bridge is .1, node i is .(10 + i). */
const NET = "10.201.91";
const STATE = "/var/lib/dynoform-test-cluster";
const RUN = "/run/dynoform-test-cluster";
const LOCK = path.join(RUN, "lock");

/** One node of the test cluster. */
export interface ClusterNode {
    /** Its hostname, which is its Swarm node name (`dfsw1`). */
    name: string;
    address: string;
    /** `unix:///run/...sock`: its engine as a Docker host setting. */
    dockerHost: string;
    engine: Docker;
    /** The pid of its dockerd (a fault test kills it). */
    dockerdPid(): number | undefined;
}

export interface TestCluster {
    /** The first node is the manager; the others are workers. */
    nodes: ClusterNode[];
    manager: ClusterNode;
    /** The cluster's nodes as the manager lists them once all were ready (none when not formed). */
    swarm: SwarmNode[];
    teardown(): Promise<void>;
}

function sh(cmd: string, args: string[], opts: { ok?: boolean } = {}): string {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    if (r.status !== 0 && !opts.ok) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout ?? "";
}

async function acquireLock(): Promise<void> {
    fs.mkdirSync(RUN, { recursive: true });
    await eventually(() => {
        try {
            fs.writeFileSync(LOCK, String(process.pid), { flag: "wx" });
            return true;
        } catch {
            const owner = Number(fs.readFileSync(LOCK, "utf8"));
            // This process's own lock: a test file starting its cluster again (node --test runs one file per process).
            if (owner === process.pid) return true;
            if (!owner || !processRunning(owner)) fs.rmSync(LOCK, { force: true });
            return false;
        }
    }, 30 * 60_000, "the test cluster (another test file holds it)", 1000);
}

function releaseLock(): void {
    if (fs.existsSync(LOCK) && Number(fs.readFileSync(LOCK, "utf8")) === process.pid) fs.rmSync(LOCK);
}

function readPid(file: string): number | undefined {
    const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8").trim()) : NaN;
    return pid > 0 ? pid : undefined;
}

async function stopPid(pid: number | undefined, what: string): Promise<void> {
    if (!pid || !processRunning(pid)) return;
    process.kill(pid, "SIGTERM");
    try {
        await eventually(() => !processRunning(pid), 30_000, `${what} (pid ${pid}) to exit`);
    } catch {
        process.kill(pid, "SIGKILL");
    }
}

const FIREWALL: Array<[string, string, string[]]> = [
    ["filter", "DOCKER-USER", ["-i", BRIDGE, "-o", BRIDGE, "-j", "ACCEPT"]],
];

/** Unmounts what a dockerd killed with SIGKILL left mounted under our folders (container netns files, overlays). */
function unmountLeftovers(): void {
    const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1]).filter(Boolean);
    for (const m of mounts.reverse()) {
        if (m.startsWith(`${RUN}/`) || m.startsWith(`${STATE}/`)) sh("umount", ["-l", m], { ok: true });
    }
}

/** Removes every namespace, process, bridge and rule a previous run (killed or not) left; data roots stay. */
export async function cleanTestCluster(): Promise<void> {
    const namespaces = sh("ip", ["netns", "list"]).split("\n").map((l) => l.split(" ")[0]).filter((n) => n.startsWith(PREFIX));
    // All engines at once: a Swarm node's dockerd takes seconds to shut down.
    await Promise.all(namespaces.map((ns) => stopPid(readPid(path.join(RUN, `${ns}-docker.pid`)), `dockerd of ${ns}`)));
    for (const ns of namespaces) {
        // Anything else still in the namespace (a containerd or shim of a killed dockerd) is ours.
        for (const pid of sh("ip", ["netns", "pids", ns], { ok: true }).split("\n").map(Number).filter(Boolean)) {
            if (processRunning(pid)) process.kill(pid, "SIGKILL");
        }
        sh("ip", ["netns", "del", ns], { ok: true });
    }
    unmountLeftovers();
    sh("ip", ["link", "del", BRIDGE], { ok: true });
    for (const [table, chain, rule] of FIREWALL) {
        while (spawnSync("iptables", ["-t", table, "-D", chain, ...rule]).status === 0) {
            // one rule per earlier run that did not remove its own
        }
    }
}

/** Starts node `i` (1-based): namespace, veth on the bridge, and a dockerd under its own hostname. */
async function startNode(i: number): Promise<ClusterNode> {
    const name = `${PREFIX}${i}`;
    const address = `${NET}.${10 + i}`;
    const netns = `/var/run/netns/${name}`;
    const dir = path.join(STATE, name);
    fs.mkdirSync(dir, { recursive: true });
    sh("ip", ["netns", "add", name]);
    sh("ip", ["link", "add", `${name}h`, "type", "veth", "peer", "name", `${name}n`]);
    sh("ip", ["link", "set", `${name}h`, "master", BRIDGE, "up"]);
    sh("ip", ["link", "set", `${name}n`, "netns", name]);
    const inNs = (args: string[]) => sh("nsenter", [`--net=${netns}`, ...args]);
    inNs(["ip", "link", "set", "lo", "up"]);
    inNs(["ip", "addr", "add", `${address}/24`, "dev", `${name}n`]);
    inNs(["ip", "link", "set", `${name}n`, "up"]);
    inNs(["ip", "route", "add", "default", "via", `${NET}.1`]);

    const socket = path.join(RUN, `${name}-docker.sock`);
    const pidFile = path.join(RUN, `${name}-docker.pid`);
    const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
    const dockerd = [which("dockerd")!, "--data-root", path.join(dir, "docker"), "--exec-root", path.join(RUN, `${name}-exec`),
        "-H", `unix://${socket}`, "--pidfile", pidFile, "--log-level", "warn"];
    // exec keeps the pid: the pid file and `ip netns pids` name dockerd itself.
    const child = spawn("nsenter", [`--net=${netns}`, "unshare", "--uts", "sh", "-c", `hostname ${name} && exec "$@"`, "sh", ...dockerd],
        { detached: true, stdio: ["ignore", log, log] });
    child.unref();

    const engine = connectDocker(`unix://${socket}`);
    await eventually(async () => (await engine.ping()) !== undefined, 60_000, `the engine of test node ${name}`, 250);
    return { name, address, dockerHost: `unix://${socket}`, engine, dockerdPid: () => readPid(pidFile) };
}

/** Leaves any cluster an earlier run left and removes its containers and networks; images stay. */
async function resetEngine(docker: Docker): Promise<void> {
    await docker.swarmLeave({ force: true }).catch(() => undefined);
    for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true, v: true });
    for (const n of await docker.listNetworks()) {
        if (!["bridge", "host", "none", "docker_gwbridge"].includes(n.Name) && n.Scope === "local") await docker.getNetwork(n.Id).remove();
    }
}

/**
 * Starts a `count`-node Swarm cluster (the first node the manager) after removing whatever a
 * killed run left, with `images` (refs on the local engine) copied into every node's engine by
 * ID; with `form: false` the engines are left out of any cluster. One test file holds it at a time.
 */
export async function startTestCluster(count: number, images: string[] = [], opts: { form?: boolean } = {}): Promise<TestCluster> {
    if (process.getuid?.() !== 0) throw new Error("a test cluster needs root (network namespaces, dockerd)");
    await acquireLock();
    try {
        await cleanTestCluster();
        sh("ip", ["link", "add", BRIDGE, "type", "bridge"]);
        sh("ip", ["addr", "add", `${NET}.1/24`, "dev", BRIDGE]);
        sh("ip", ["link", "set", BRIDGE, "up"]);
        for (const [table, chain, rule] of FIREWALL) sh("iptables", ["-t", table, "-I", chain, ...rule]);

        const nodes: ClusterNode[] = [];
        for (let i = 1; i <= count; i++) nodes.push(await startNode(i));
        const local = connectDocker();
        for (const n of nodes) {
            await resetEngine(n.engine);
            if (images.length) await copyImages(local, n.engine, images);
        }
        // Unformed (`form: false`): a test forms the cluster itself (`doctor`).
        const swarm = opts.form === false ? [] : await formSwarm(nodes.map((n) => ({ engine: n.engine, address: n.address })));
        return {
            nodes,
            manager: nodes[0],
            swarm,
            teardown: async () => {
                try {
                    await cleanTestCluster();
                } finally {
                    releaseLock();
                }
            },
        };
    } catch (err) {
        await cleanTestCluster().catch(() => undefined);
        releaseLock();
        throw err;
    }
}
