import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Docker = require("dockerode");
import { which } from "../../toolchain/docker-engine";
import { copyImages } from "../../toolchain/base-images";
import { seedDataRoot } from "./engine-seed";
import { connectDocker } from "../../infra/docker/client";
import { formSwarm, SwarmNode } from "../../infra/swarm/cluster";
import { eventually } from "./poll";
import {
    addMachine, ensureSshd, holdLab, labKeys, LabKeys, labNamespaces, machinePid, NetnsLab, pidFile, readPid, removeBridge, removeNamespace, sh, sshDockerHost, startSshd, stopPid, writeKnownHosts,
} from "./netns-hosts";

// A test Swarm cluster on this machine: per node a network namespace on a bridge, its own
// dockerd with its own hostname (`unshare --uts`, so the nodes have distinct names) and an sshd
// whose sessions reach that dockerd (netns-hosts.ts, as test-hosts.ts's servers), formed into
// one cluster (init on the first, join the others). A test file takes the first free lab of a
// small pool (netns-hosts.ts: prefix, subnet, folders, lock), so files running at once each have
// their own cluster and none waits for another; every lab differs from test-hosts.ts's. Whatever
// the lab, the nodes are named dfsw1…dfswN (their Swarm names); only their namespaces, addresses
// and folders tell the labs apart. A new data root starts with the base images (engine-seed.ts:
// hard links, no copy); the data roots stay (with the images copied into them); their Swarm
// state does not: each start is outside any old cluster.

/**
 * The labs a test cluster can take: as many as `npm test` runs files at once (2), and one more
 * for a bench or a test file run by hand meanwhile. The first is the lab of the one-lab design
 * (dfsw, 10.201.91.0/24, same folders and lock), so older checkouts on this machine share it.
 */
export const CLUSTER_LABS: NetnsLab[] = [1, 2, 3].map((slot) => {
    const prefix = `dfs${"wxy"[slot - 1]}`;
    const folder = `dynoform-test-cluster${slot === 1 ? "" : `-${slot}`}`;
    return {
        prefix,
        net: `10.201.${90 + slot}`,
        state: `/var/lib/${folder}`,
        run: `/run/${folder}`,
        firewall: [["filter", "DOCKER-USER", ["-i", `${prefix}0`, "-o", `${prefix}0`, "-j", "ACCEPT"]]],
    };
});

/** One node of the test cluster. */
export interface ClusterNode {
    /** Its hostname, which is its Swarm node name (`dfsw1`). */
    name: string;
    /** Its network namespace (`dfsx1` in the second lab): `ip netns pids` lists its engine's processes. */
    netns: string;
    address: string;
    /** `unix:///run/...sock`: its engine as a Docker host setting. */
    dockerHost: string;
    /** `ssh://root@<address>?identityFile=…&knownHostsFile=…`: the same engine through the node's sshd. */
    sshHost: string;
    /** How many SSH logins its sshd has accepted (its log's `Accepted publickey` lines). */
    sshLogins(): number;
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
    /** The lab it runs in. */
    lab: NetnsLab;
    /** The key the nodes' sshd let root in with, and the known_hosts naming their host keys. */
    keys: LabKeys;
    teardown(): Promise<void>;
}

/** Unmounts what a dockerd killed with SIGKILL left mounted under the lab's folders (container netns files, overlays). */
function unmountLeftovers(lab: NetnsLab): void {
    const mounts = fs.readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1]).filter(Boolean);
    for (const m of mounts.reverse()) {
        if (m.startsWith(`${lab.run}/`) || m.startsWith(`${lab.state}/`)) sh("umount", ["-l", m], { ok: true });
    }
}

/** Removes every namespace, process, bridge and rule a previous run in `lab` (killed or not) left; data roots stay. */
export async function cleanTestCluster(lab: NetnsLab): Promise<void> {
    const namespaces = labNamespaces(lab);
    // All engines at once: a Swarm node's dockerd takes seconds to shut down.
    await Promise.all(namespaces.map(async (ns) => {
        await stopPid(machinePid(lab, ns, "sshd"), `sshd of ${ns}`);
        await stopPid(machinePid(lab, ns, "docker"), `dockerd of ${ns}`);
    }));
    for (const ns of namespaces) await removeNamespace(ns);
    unmountLeftovers(lab);
    removeBridge(lab);
}

/** Starts node `i` (1-based) of `lab`: namespace, veth on the bridge, a dockerd under the hostname `dfsw<i>`, an sshd. */
async function startNode(lab: NetnsLab, i: number, keys: LabKeys): Promise<ClusterNode & { hostKey: string }> {
    const { name: ns, address, netns } = addMachine(lab, i);
    const name = `dfsw${i}`;
    const socket = path.join(lab.run, `${ns}-docker.sock`);
    const pids = pidFile(lab, ns, "docker");
    const engine = connectDocker(`unix://${socket}`);
    const start = () => startDockerd(lab, name, ns, netns, socket, pids, engine);
    // Started outside the last run's cluster (its Swarm state removed, as Docker's docs do by
    // hand): an engine that came up in it and left it could not tell the other nodes, leaving too,
    // and Docker 20.10 then keeps its network agent's port 7946 (moby/moby#47859), so the cluster
    // formed next had no overlay DNS on that node (CI: every push through the registry's forwarder
    // got EOF for minutes; the node's log: 'error in agentInit ... 7946: address already in use').
    fs.rmSync(path.join(lab.state, ns, "docker", "swarm"), { recursive: true, force: true });
    // The lab was cleaned (no engine of it runs): a pid file left by a killed engine is stale, and
    // dockerd refuses to start while its pid names any live process (seen: a pid reused meanwhile).
    // So is its containerd's: dockerd waits for a containerd whose pid is alive, and never starts its
    // own (seen after the machine restarted: "failed to start containerd: timeout").
    fs.rmSync(pids, { force: true });
    fs.rmSync(path.join(lab.run, `${ns}-exec`, "containerd", "containerd.pid"), { force: true });
    await start();
    const dir = path.join(lab.state, ns);
    const hostKey = await startSshd(lab, { name: ns, address, netns, dir, dockerSocket: socket, keys });
    return {
        name,
        netns: ns,
        address,
        hostKey,
        dockerHost: `unix://${socket}`,
        sshHost: sshDockerHost(address, keys),
        sshLogins: () => (fs.readFileSync(path.join(dir, "sshd.log"), "utf8").match(/^Accepted publickey /gm) ?? []).length,
        engine,
        dockerdPid: () => readPid(pids),
        restartEngine: async () => {
            await stopPid(machinePid(lab, ns, "docker"), `dockerd of ${name}`);
            await start();
        },
    };
}

/** A dockerd in namespace `ns` (file `netns`) under hostname `name`, its data root kept across starts; resolves once it answers. */
async function startDockerd(lab: NetnsLab, name: string, ns: string, netns: string, socket: string, pids: string, engine: Docker): Promise<void> {
    const dir = path.join(lab.state, ns);
    fs.mkdirSync(dir, { recursive: true });
    await seedDataRoot(path.join(dir, "docker"));
    const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
    const dockerd = [which("dockerd")!, "--data-root", path.join(dir, "docker"), "--exec-root", path.join(lab.run, `${ns}-exec`),
        "-H", `unix://${socket}`, "--pidfile", pids, "--log-level", "warn"];
    // exec keeps the pid: the pid file and `ip netns pids` name dockerd itself.
    const child = spawn("nsenter", [`--net=${netns}`, "unshare", "--uts", "sh", "-c", `hostname ${name} && exec "$@"`, "sh", ...dockerd],
        { detached: true, stdio: ["ignore", log, log] });
    child.unref();
    fs.closeSync(log);
    await eventually(async () => (await engine.ping()) !== undefined, 60_000, `the engine of test node ${name} (${ns})`, 250);
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
 * Starts a `count`-node Swarm cluster (the first node the manager) in the first free lab, after
 * removing whatever a killed run left there, with `images` (refs on the local engine) copied by ID
 * into every node's engine, or with `imagesOn: "manager"` into the manager's only (as on a real
 * cluster: the manager builds, and workers pull the app's image from the cluster's registry; a
 * worker would download the app's layers from the registry even if it had its base image, since
 * it never pulled them); with `form: false` the engines are left out of any cluster.
 */
export async function startTestCluster(count: number, images: string[] = [], opts: { form?: boolean; imagesOn?: "manager" | "every node" } = {}): Promise<TestCluster> {
    if (process.getuid?.() !== 0) throw new Error("a test cluster needs root (network namespaces, dockerd, sshd)");
    ensureSshd();
    return holdLab(CLUSTER_LABS, "a test cluster lab", cleanTestCluster, async (lab) => {
        const keys = labKeys(lab);
        // The nodes' engines start, empty and take their images side by side.
        const local = connectDocker();
        const started = await Promise.all(Array.from({ length: count }, async (_, i) => {
            const node = await startNode(lab, i + 1, keys);
            await resetEngine(node.engine);
            if (images.length && (i === 0 || opts.imagesOn !== "manager")) await copyImages(local, node.engine, images);
            return node;
        }));
        writeKnownHosts(keys, started);
        const nodes: ClusterNode[] = started.map(({ hostKey: _, ...node }) => node);
        // Unformed (`form: false`): a test forms the cluster itself (`doctor`).
        const swarm = opts.form === false ? [] : await formSwarm(nodes.map((n) => ({ engine: n.engine, address: n.address })));
        return { nodes, manager: nodes[0], swarm, keys };
    });
}

/** `text` for a RegExp that matches it literally (a node's address in an expected line). */
export const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
