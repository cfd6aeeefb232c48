import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { test } from "node:test";
import { acquireAnyLab, machinePid, NetnsLab, pidFile, releaseLab } from "./support/netns-hosts";
import { eventually } from "./support/poll";

// The locks that give each test file its own lab of a pool (test-cluster.ts): a file never waits
// while a lab is free, takes a lab back from a dead holder, and keeps the one it holds.
function pool(n: number): NetnsLab[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-labs-"));
    return Array.from({ length: n }, (_, i) => ({ prefix: `t${i}`, net: `10.255.${i}`, state: dir, run: path.join(dir, `run${i}`), firewall: [] }));
}
const lockOf = (lab: NetnsLab) => path.join(lab.run, "lock");
const holdAs = (lab: NetnsLab, pid: number) => (fs.mkdirSync(lab.run, { recursive: true }), fs.writeFileSync(lockOf(lab), String(pid)));

test("a lab another live process holds is passed over for the next free one, at once", async () => {
    const labs = pool(3);
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
        holdAs(labs[0], other.pid!);
        const started = Date.now();
        const got = await acquireAnyLab(labs, "a lab");
        assert.equal(got, labs[1]);
        assert.ok(Date.now() - started < 500, "no waiting");
        assert.equal(fs.readFileSync(lockOf(labs[1]), "utf8"), String(process.pid));
        assert.equal(fs.readFileSync(lockOf(labs[0]), "utf8"), String(other.pid), "the other's lock is left alone");
        // Asked again (a file starting its cluster again), this process keeps the lab it holds.
        assert.equal(await acquireAnyLab(labs, "a lab"), labs[1]);
        releaseLab(labs[1]);
        assert.equal(fs.existsSync(lockOf(labs[1])), false);
    } finally {
        other.kill();
        fs.rmSync(labs[0].state, { recursive: true, force: true });
    }
});

test("a dead holder's lab is taken over (first in the pool, so its leftovers get cleaned)", async () => {
    const labs = pool(2);
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((r) => dead.on("exit", r));
    try {
        holdAs(labs[0], dead.pid!);
        assert.equal(await acquireAnyLab(labs, "a lab"), labs[0]);
        assert.equal(fs.readFileSync(lockOf(labs[0]), "utf8"), String(process.pid));
        releaseLab(labs[0]);
    } finally {
        fs.rmSync(labs[0].state, { recursive: true, force: true });
    }
});

test("every lab held by live processes: waits until one is let go", async () => {
    const labs = pool(2);
    const others = labs.map(() => spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]));
    try {
        labs.forEach((lab, i) => holdAs(lab, others[i].pid!));
        // Its first look (made at once) finds none free; the next, after the holder has gone, takes that one.
        const waiting = acquireAnyLab(labs, "a lab");
        others[1].kill();
        assert.equal(await waiting, labs[1]);
        releaseLab(labs[1]);
    } finally {
        for (const o of others) o.kill();
        fs.rmSync(labs[0].state, { recursive: true, force: true });
    }
});

// A machine's pid file is trusted only while its process runs in the machine's namespace: a lab's
// teardown must not signal whatever has since taken a killed machine's pid (or a thread's ID).
test("machinePid: the pid file's process in the machine's namespace; a stale file, another namespace's process or a thread's ID is none", async (t) => {
    if (process.getuid?.() !== 0) {
        if (process.env.CI === "true") assert.fail("needs root to make a network namespace (CI runs as root)");
        process.stderr.write("# SKIPPED machinePid: needs root to make a network namespace\n");
        return t.skip("needs root");
    }
    const lab = pool(1)[0];
    const ns = `dfpid${process.pid}`;
    execFileSync("ip", ["netns", "add", ns]);
    const inside = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", "setTimeout(() => {}, 60000)"]);
    try {
        fs.mkdirSync(lab.run, { recursive: true });
        const write = (pid: number) => fs.writeFileSync(pidFile(lab, ns, "docker"), String(pid));
        assert.equal(machinePid(lab, ns, "docker"), undefined, "no pid file");
        // `ip netns exec` execs the command in the namespace: the child's pid is node's.
        const threads = () => fs.readdirSync(`/proc/${inside.pid}/task`).map(Number).filter((tid) => tid !== inside.pid);
        await eventually(() => fs.readlinkSync(`/proc/${inside.pid}/ns/net`) !== fs.readlinkSync("/proc/self/ns/net") && threads().length > 0, 5000, "node to start in the namespace", 20);
        write(inside.pid!);
        assert.equal(machinePid(lab, ns, "docker"), inside.pid);
        write(process.pid);
        assert.equal(machinePid(lab, ns, "docker"), undefined, "a process outside the namespace");
        write(threads()[0]);
        assert.equal(machinePid(lab, ns, "docker"), undefined, "a thread's ID (in the namespace)");
        const dead = spawn(process.execPath, ["-e", ""]);
        await new Promise((r) => dead.on("exit", r));
        write(dead.pid!);
        assert.equal(machinePid(lab, ns, "docker"), undefined, "a process that has exited");
    } finally {
        inside.kill("SIGKILL");
        execFileSync("ip", ["netns", "del", ns]);
        fs.rmSync(lab.state, { recursive: true, force: true });
    }
});
