import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Docker = require("dockerode");
import { which } from "../../toolchain/docker-engine";
import { copyImages } from "../../toolchain/base-images";
import { connectDocker } from "../../infra/docker/client";
import { formSwarm, SwarmNode } from "../../infra/swarm/cluster";
import { eventually } from "./poll";
import { addMachine, holdLab, labNamespaces, NetnsLab, pidFile, readPid, removeBridge, removeNamespace, sh, stopPid } from "./netns-hosts";

// A test Swarm cluster on this machine: per node a network namespace on a bridge and its own
// dockerd with its own hostname (`unshare --uts`, so the nodes have distinct names), formed into
// one cluster (init on the first, join the others). Its lab (netns-hosts.ts: prefix, subnet, lock)
// differs from test-hosts.ts's, so the SSH hosts and this cluster can exist at once. The
// engines' data roots stay (with the images copied into them) and leave any old cluster on start.

const STATE = "/var/lib/dynoform-test-cluster";
const RUN = "/run/dynoform-test-cluster";
const LAB: NetnsLab = {
    prefix: "dfsw",
    net: "10.201.91",
    state: STATE,
    run: RUN,
    firewall: [["filter", "DOCKER-USER", ["-i", "dfsw0", "-o", "dfsw0", "-j", "ACCEPT"]]],
};

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
    /** Stops its dockerd (SIGTERM, as `systemctl restart docker` does) and starts it again on the same data root. */
    restartEngine(): Promise<void>;
}

export interface TestCluster {
    /** The first node is the manager; the others are workers. */
    nodes: ClusterNode[];
    manager: ClusterNode;
    /** The cluster's nodes as the manager lists them once all were ready (none when not formed). */
    swarm: SwarmNode[];
    teardown(): Promise<void>;
}

/** Unmounts what a dockerd killed with SIGKILL left mounted under our folders (container netns files, overlays). */
function unmountLeftovers(): void {
    const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1]).filter(Boolean);
    for (const m of mounts.reverse()) {
        if (m.startsWith(`${RUN}/`) || m.startsWith(`${STATE}/`)) sh("umount", ["-l", m], { ok: true });
    }
}

/** Removes every namespace, process, bridge and rule a previous run (killed or not) left; data roots stay. */
export async function cleanTestCluster(): Promise<void> {
    const namespaces = labNamespaces(LAB);
    // All engines at once: a Swarm node's dockerd takes seconds to shut down.
    await Promise.all(namespaces.map((ns) => stopPid(readPid(pidFile(LAB, ns, "docker")), `dockerd of ${ns}`)));
    for (const ns of namespaces) await removeNamespace(ns);
    unmountLeftovers();
    removeBridge(LAB);
}

/** Starts node `i` (1-based): namespace, veth on the bridge, and a dockerd under its own hostname. */
async function startNode(i: number): Promise<ClusterNode> {
    const { name, address, netns } = addMachine(LAB, i);
    const socket = path.join(RUN, `${name}-docker.sock`);
    const pids = pidFile(LAB, name, "docker");
    const engine = connectDocker(`unix://${socket}`);
    const start = () => startDockerd(name, netns, socket, pids, engine);
    await start();
    return {
        name,
        address,
        dockerHost: `unix://${socket}`,
        engine,
        dockerdPid: () => readPid(pids),
        restartEngine: async () => {
            await stopPid(readPid(pids), `dockerd of ${name}`);
            await start();
        },
    };
}

/** A dockerd in namespace `netns` under hostname `name`, its data root kept across starts; resolves once it answers. */
async function startDockerd(name: string, netns: string, socket: string, pids: string, engine: Docker): Promise<void> {
    const dir = path.join(STATE, name);
    fs.mkdirSync(dir, { recursive: true });
    const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
    const dockerd = [which("dockerd")!, "--data-root", path.join(dir, "docker"), "--exec-root", path.join(RUN, `${name}-exec`),
        "-H", `unix://${socket}`, "--pidfile", pids, "--log-level", "warn"];
    // exec keeps the pid: the pid file and `ip netns pids` name dockerd itself.
    const child = spawn("nsenter", [`--net=${netns}`, "unshare", "--uts", "sh", "-c", `hostname ${name} && exec "$@"`, "sh", ...dockerd],
        { detached: true, stdio: ["ignore", log, log] });
    child.unref();
    fs.closeSync(log);
    await eventually(async () => (await engine.ping()) !== undefined, 60_000, `the engine of test node ${name}`, 250);
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
    return holdLab(LAB, "the test cluster", cleanTestCluster, async () => {
        const nodes: ClusterNode[] = [];
        for (let i = 1; i <= count; i++) nodes.push(await startNode(i));
        const local = connectDocker();
        for (const n of nodes) {
            await resetEngine(n.engine);
            if (images.length) await copyImages(local, n.engine, images);
        }
        // Unformed (`form: false`): a test forms the cluster itself (`doctor`).
        const swarm = opts.form === false ? [] : await formSwarm(nodes.map((n) => ({ engine: n.engine, address: n.address })));
        return { nodes, manager: nodes[0], swarm };
    });
}
