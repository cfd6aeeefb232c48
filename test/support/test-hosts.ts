import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import Docker = require("dockerode");
import { which } from "../../toolchain/docker-engine";
import { copyImages } from "../../toolchain/base-images";
import { seedDataRoot } from "./engine-seed";
import { connectDocker } from "../../infra/docker/client";
import { eventually } from "./poll";
import {
    addMachine, ensureSshd, holdLab, labKeys, LabKeys, labNamespaces, machinePid, NetnsLab, pidFile, readPid, removeBridge, removeNamespace, sshDockerHost, startSshd, stopPid, writeKnownHosts,
} from "./netns-hosts";

// Test "servers" on this machine: per host a network namespace on a bridge, its own dockerd
// (data root, exec root, socket, pid file) and an sshd whose sessions reach that engine
// (SetEnv DOCKER_HOST). The namespaces, bridge, lock, firewall rules and sshd are netns-hosts.ts's.

const STATE = "/var/lib/dynoform-test-hosts";
const RUN = "/run/dynoform-test-hosts";
const NET = "10.201.90";
/**
 * The hosts reach each other across the bridge (the host dockerd's FORWARD policy drops bridged
 * traffic otherwise) and, NATed as this machine, the package registries this machine reaches
 * (`npm install` in an image build on a test host), as a real server would.
 */
const LAB: NetnsLab = {
    prefix: "dfth",
    net: NET,
    state: STATE,
    run: RUN,
    firewall: [
        ["filter", "DOCKER-USER", ["-i", "dfth0", "-j", "ACCEPT"]],
        ["filter", "DOCKER-USER", ["-o", "dfth0", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"]],
        ["nat", "POSTROUTING", ["-s", `${NET}.0/24`, "!", "-o", "dfth0", "-j", "MASQUERADE"]],
    ],
};

/** One test server. */
export interface TestHost {
    name: string;
    address: string;
    /** `ssh://root@<address>?identityFile=…&knownHostsFile=…`: the stack setting that reaches it. */
    dockerHost: string;
    /** Its engine, reached directly through its socket (for the tests' own checks). */
    engine: Docker;
    /** Kills the sshd processes serving open sessions (a dropped connection), not the listener. */
    killSshSessions(): number;
}

export interface TestHosts {
    hosts: TestHost[];
    /** The authorized test key and one the hosts do not know. */
    keyFile: string;
    wrongKeyFile: string;
    /** known_hosts naming every host's key. */
    knownHostsFile: string;
    /** An address on the bridge where nothing answers (a host that is down). */
    downAddress: string;
    teardown(): Promise<void>;
}

/** Removes every namespace, process, bridge and rule a previous run (killed or not) left. */
export async function cleanTestHosts(): Promise<void> {
    for (const ns of labNamespaces(LAB)) {
        await stopPid(machinePid(LAB, ns, "sshd"), `sshd of ${ns}`);
        await stopPid(machinePid(LAB, ns, "docker"), `dockerd of ${ns}`);
        await removeNamespace(ns);
    }
    removeBridge(LAB);
}

/** Starts host `i` (1-based): namespace, veth on the bridge, dockerd, sshd. */
async function startHost(i: number, keys: LabKeys): Promise<{ name: string; address: string; socket: string; hostKey: string }> {
    const { name, address, netns } = addMachine(LAB, i);
    const dir = path.join(STATE, name);
    fs.mkdirSync(dir, { recursive: true });
    await seedDataRoot(path.join(dir, "docker"));

    const socket = path.join(RUN, `${name}-docker.sock`);
    const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
    const dockerd = spawn("nsenter", [`--net=${netns}`, which("dockerd")!,
        "--data-root", path.join(dir, "docker"), "--exec-root", path.join(RUN, `${name}-exec`),
        "-H", `unix://${socket}`, "--pidfile", pidFile(LAB, name, "docker"), "--log-level", "warn"],
    { detached: true, stdio: ["ignore", log, log] });
    dockerd.unref();

    const hostKey = await startSshd(LAB, { name, address, netns, dir, dockerSocket: socket, keys });
    await eventually(async () => (await connectDocker(`unix://${socket}`).ping()) !== undefined, 60_000, `the engine of test host ${name}`, 250);
    return { name, address, socket, hostKey };
}

/** Removes what an earlier test left in a host's engine (containers, volumes, networks); images stay. */
async function emptyEngine(docker: Docker): Promise<void> {
    for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true, v: true });
    for (const n of await docker.listNetworks()) {
        if (!["bridge", "host", "none"].includes(n.Name)) await docker.getNetwork(n.Id).remove();
    }
    const { Volumes } = await docker.listVolumes();
    for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true });
}

/**
 * Starts `count` test hosts after removing any a killed run left, with `images` (refs on the
 * local engine) copied into each host's engine. One test file holds them at a time.
 */
export async function startTestHosts(count: number, images: string[] = []): Promise<TestHosts> {
    if (process.getuid?.() !== 0) throw new Error("test hosts need root (network namespaces, dockerd, sshd)");
    ensureSshd();
    return holdLab(LAB, "the test hosts", cleanTestHosts, async () => {
        const keys = labKeys(LAB);
        const { keyFile, wrongKeyFile, knownHostsFile } = keys;
        const started = [];
        for (let i = 1; i <= count; i++) started.push(await startHost(i, keys));
        writeKnownHosts(keys, started);

        const local = connectDocker();
        const hosts: TestHost[] = [];
        for (const h of started) {
            const engine = connectDocker(`unix://${h.socket}`);
            await emptyEngine(engine);
            if (images.length) await copyImages(local, engine, images);
            hosts.push({
                name: h.name,
                address: h.address,
                dockerHost: sshDockerHost(h.address, keys),
                engine,
                killSshSessions: () => killSessions(readPid(pidFile(LAB, h.name, "sshd"))),
            });
        }
        return {
            hosts,
            keyFile,
            wrongKeyFile,
            knownHostsFile,
            downAddress: `${NET}.99`,
        };
    });
}

/** SIGKILLs the children of the listening sshd: the processes serving open sessions. */
function killSessions(listener: number | undefined): number {
    if (!listener) return 0;
    let killed = 0;
    for (const entry of fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            if (ppid === listener) {
                process.kill(Number(entry), "SIGKILL");
                killed++;
            }
        } catch {
            // gone meanwhile
        }
    }
    return killed;
}
