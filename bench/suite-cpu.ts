/**
 * Where a test run's CPU goes: `node dist/bench/suite-cpu.js [test files or folders...]` runs the
 * suite's concurrent pass (the first `node --test …` of package.json's `test` script, on the
 * given paths instead of its own when paths are given) and samples /proc every second:
 * - per test file, the CPU of its process tree: the file's own process and everything it waited
 *   for (CLI commands, `pulumi` runs, provider hosts), from its utime + stime + cutime + cstime;
 * - the machine's long-lived processes, by kind: the Docker engine, the test labs' engines,
 *   containers' processes (dynos, add-on servers, routers), kernel threads;
 * - the machine's total from /proc/stat, so the ratios at the end say what share of the work the
 *   test files' trees and each kind are. Linux only; read-only (it changes nothing it samples).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PACKAGE_ROOT } from "../toolchain/paths";
import { machineLine, printTable } from "./report";

const HZ = 100; // USER_HZ: the unit of /proc's CPU times on Linux.
const EVERY_MS = 1000;

interface Proc {
    pid: number;
    ppid: number;
    /** Its start time (clock ticks since boot): with the pid, one process even when pids are reused. */
    start: string;
    comm: string;
    args: string[];
    /** utime + stime, s. */
    own: number;
    /** cutime + cstime: the children it waited for, s. */
    children: number;
    firstOwn: number;
    firstSeen: number;
    lastSeen: number;
}

/** The command of the suite's concurrent pass, from package.json's `test` script. */
export function concurrentPass(script: string, paths: string[]): string[] {
    const step = script.split("&&").map((s) => s.trim()).find((s) => /^node --test\b/.test(s));
    if (!step) throw new Error(`package.json's test script has no \`node --test\` step: ${script}`);
    const words = step.split(/\s+/);
    const flags = words.filter((w) => w.startsWith("--"));
    return paths.length ? ["node", ...flags, ...paths] : words;
}

/** `words` with each file-name pattern (`dir/*.test.js`) expanded as the shell that runs `npm test` would, sorted. */
export function expandGlobs(words: string[], cwd: string): string[] {
    return words.flatMap((w) => {
        if (!w.includes("*")) return [w];
        const dir = path.dirname(w);
        const re = new RegExp(`^${path.basename(w).split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*")}$`);
        const found = fs.readdirSync(path.join(cwd, dir)).filter((f) => re.test(f)).sort().map((f) => path.join(dir, f));
        return found.length ? found : [w];
    });
}

/**
 * A test file's own process under the runner: node with the runner's `--test-…` options and a
 * `.test.js` file as its last argument (`node --test` itself has `--test`; this script has neither).
 */
export function testFileOf(p: { comm: string; args: string[] }): string | undefined {
    const last = p.args[p.args.length - 1] ?? "";
    if (p.comm !== "node" || p.args.includes("--test") || !p.args.some((a) => a.startsWith("--test-")) || !last.endsWith(".test.js")) return undefined;
    return path.relative(path.join(PACKAGE_ROOT, "dist"), last);
}

/** What kind of long-lived process `p` is, or undefined for one a test file's tree accounts for. */
export function kindOf(p: { comm: string; args: string[]; pid: number; ppid: number }, ancestors: string[]): string | undefined {
    const dataRoot = p.args[p.args.indexOf("--data-root") + 1] ?? "";
    if (p.comm === "dockerd") return dataRoot.startsWith("/var/lib/docker") ? "dockerd (this machine's engine)" : "dockerd (test labs' engines)";
    if (p.comm === "containerd") return p.args.some((a) => a.startsWith("/var/run/docker/")) ? "containerd (this machine's)" : "containerd (test labs')";
    if (p.comm.startsWith("containerd-shim") || p.comm.startsWith("runc") || p.comm === "exe" || p.comm === "docker-proxy" || p.comm === "docker-init") return "container plumbing (shims, runc, proxies)";
    if (ancestors.some((a) => a.startsWith("containerd-shim"))) return "containers' processes (dynos, add-ons, routers)";
    if (p.pid === 2 || p.ppid === 2) return "kernel threads";
    if (p.comm === "sshd") return "sshd (test hosts)";
    return undefined;
}

function readProc(pid: string): Omit<Proc, "firstOwn" | "firstSeen" | "lastSeen" | "args"> | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // Fields from the state on (man proc_pid_stat): ppid is 4th, utime 14th ... cstime 17th, starttime 22nd.
        return {
            pid: Number(pid), ppid: Number(f[1]), comm, start: f[19],
            own: (Number(f[11]) + Number(f[12])) / HZ, children: (Number(f[13]) + Number(f[14])) / HZ,
        };
    } catch {
        return undefined; // gone between the listing and the read
    }
}

function machineCpu(): { busy: number; all: number } {
    const [, ...v] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
    const n = v.map(Number);
    const all = n.slice(0, 8).reduce((a, b) => a + b, 0) / HZ;
    return { busy: all - (n[3] + n[4]) / HZ, all };
}

async function main(): Promise<void> {
    const paths = process.argv.slice(2).filter((a) => !a.startsWith("--"));
    const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8"));
    const [cmd, ...args] = expandGlobs(concurrentPass(pkg.scripts.test, paths), PACKAGE_ROOT);
    process.stdout.write(`suite-cpu: ${[cmd, ...args].join(" ")}\n${machineLine()}\n`);

    const procs = new Map<string, Proc>(); // by pid and start time
    const sample = (first: boolean) => {
        const now = Date.now();
        for (const pid of fs.readdirSync("/proc")) {
            if (!/^\d+$/.test(pid)) continue;
            const p = readProc(pid);
            if (!p) continue;
            const key = `${pid}@${p.start}`;
            const known = procs.get(key);
            if (known) {
                Object.assign(known, { own: p.own, children: p.children, lastSeen: now });
                continue;
            }
            let argv: string[] = [];
            try {
                argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
            } catch {
                // a kernel thread or gone
            }
            // A process already running when sampling began counts only what it does from then on.
            procs.set(key, { ...p, args: argv, firstOwn: first ? p.own : 0, firstSeen: now, lastSeen: now });
        }
    };
    const t0 = machineCpu();
    const started = Date.now();
    sample(true);
    const timer = setInterval(() => sample(false), EVERY_MS);
    const child = spawn(cmd === "node" ? process.execPath : cmd, args, { cwd: PACKAGE_ROOT, stdio: ["ignore", "inherit", "inherit"] });
    const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
    clearInterval(timer);
    sample(false);
    const t1 = machineCpu();
    const wall = (Date.now() - started) / 1000;
    const machine = t1.busy - t0.busy;

    const byPid = new Map([...procs.values()].map((p) => [p.pid, p]));
    const ancestorsOf = (p: Proc) => {
        const out: Proc[] = [];
        for (let q = byPid.get(p.ppid); q && out.length < 64; q = byPid.get(q.ppid)) out.push(q);
        return out;
    };
    // A long-lived process a test file started and saw exit (a test lab's dockerd it stopped) is in
    // that file's cutime as well as in its kind: it is taken out of the file's tree.
    const kinds = new Map<string, number>();
    const reaped = new Map<Proc, number>();
    for (const p of procs.values()) {
        const ancestors = ancestorsOf(p);
        const kind = kindOf(p, ancestors.map((q) => q.comm));
        if (!kind) continue;
        kinds.set(kind, (kinds.get(kind) ?? 0) + p.own - p.firstOwn);
        const file = ancestors.find((q) => testFileOf(q));
        if (file && p.lastSeen < file.lastSeen) reaped.set(file, (reaped.get(file) ?? 0) + p.own);
    }
    const files: string[][] = [];
    let trees = 0;
    for (const p of procs.values()) {
        const file = testFileOf(p);
        if (!file) continue;
        const cpu = p.own + p.children - (reaped.get(p) ?? 0);
        trees += cpu;
        files.push([file, cpu.toFixed(1), ((p.lastSeen - p.firstSeen) / 1000).toFixed(0)]);
    }
    files.sort((a, b) => Number(b[1]) - Number(a[1]));
    const share = (cpu: number) => `${((100 * cpu) / machine).toFixed(0)} %`;
    printTable("Test files: CPU-s of each file's process tree (its own process and what it waited for), wall s as sampled", ["file", "CPU-s", "wall s", "share of the machine"], files.map((r) => [...r, share(Number(r[1]))]));
    const rows = [...kinds.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v.toFixed(1), share(v)]);
    const usage = process.cpuUsage();
    const sampler = (usage.user + usage.system) / 1e6;
    rows.push(["this sampler (reading /proc each second)", sampler.toFixed(1), share(sampler)]);
    const runner = child.pid === undefined ? undefined : byPid.get(child.pid);
    if (runner) rows.push(["the test runner (node --test, its own process)", runner.own.toFixed(1), share(runner.own)]);
    const known = trees + [...kinds.values()].reduce((a, b) => a + b, 0) + sampler + (runner?.own ?? 0);
    rows.push(["everything else (npm, short-lived processes outside the test trees, sampling loss)", (machine - known).toFixed(1), share(machine - known)]);
    printTable("Long-lived processes by kind: CPU-s while the pass ran", ["kind", "CPU-s", "share of the machine"], rows);
    process.stdout.write(
        `\nThe pass: ${wall.toFixed(0)} s wall; the machine did ${machine.toFixed(0)} CPU-s of work (${((100 * machine) / (t1.all - t0.all)).toFixed(0)} % busy on ${os.cpus().length} CPUs);` +
            ` the test files' trees ${trees.toFixed(0)} CPU-s (${share(trees)}); runner exit ${code}\n${machineLine()}\n`,
    );
    process.exitCode = code;
}

if (require.main === module) {
    main().catch((err) => {
        process.stderr.write(`suite-cpu: ${(err as Error).message}\n`);
        process.exitCode = 1;
    });
}
