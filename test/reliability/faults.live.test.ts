import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import { after, before, test } from "node:test";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { openStack, stackCheckpointFiles, stackLockFiles } from "../../infra/engine/workspace";
import { containersWith } from "../support/harness";
import { CliProject, cliProject, CliResult, envOf, TINY_APP, tinyStack } from "../support/cli";
import { readPresent } from "../support/files";
import { eventually } from "../support/poll";
import { describeLive } from "../support/engines";

// Faults, through the real CLI on real Docker and Pulumi, one deploy shared by every check:
// a dyno killed with SIGKILL, a dyno crashing in a loop, a dyno container removed by hand, an
// `up` interrupted by SIGINT then SIGKILL, and a formation the host has not the memory for.

/** A worker that runs until it is killed once, then exits 3 on every start: a crash loop. */
const CRASH_LOOP_WORKER = "if [ -e /tmp/booted ]; then echo worker crashed >&2; exit 3; fi; touch /tmp/booted; exec sleep 100000";
const APP_FILES = { ...TINY_APP, Procfile: `${TINY_APP.Procfile}worker: ${CRASH_LOOP_WORKER}\n` };
/** performance-l is 14336 MiB: two of them are more than this 24 GiB host has in all. */
const PERFORMANCE_L_MB = 14336;
const STANDARD_1X_MB = 512;

let project: CliProject;
let stack: string;
let url = "";
const docker = connectDocker();

async function cli(...args: string[]): Promise<CliResult> {
    return project.cli([...args, "--stack", stack]);
}

async function ok(...args: string[]): Promise<CliResult> {
    const r = await cli(...args);
    assert.equal(r.code, 0, `dynoform ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r;
}

/** The stack's containers (every role), by container name. */
async function stackContainers() {
    return (await containersWith({ [LABEL.stack]: stack })).map((c) => ({
        name: c.Names[0].replace(/^\//, ""),
        id: c.Id,
        dyno: c.Labels[LABEL.dyno],
        role: c.Labels[LABEL.role],
    }));
}

/** Dyno containers by dyno name (`web.1`). */
async function dynoContainer(dyno: string) {
    const [c] = (await stackContainers()).filter((x) => x.role === "dyno" && x.dyno === dyno);
    assert.ok(c, `a container for ${dyno}`);
    return docker.getContainer(c.id).inspect();
}

/**
 * SIGKILL of the container's init process from the host: Docker sees the container die on its
 * own (exit 137), a crash its restart policy acts on. `docker kill` would count as a manual stop.
 */
async function crash(dyno: string): Promise<{ id: string; pid: number; at: number }> {
    const info = await dynoContainer(dyno);
    assert.ok(info.State.Running && info.State.Pid > 0, `${dyno} runs before the kill`);
    const at = Date.now();
    process.kill(info.State.Pid, "SIGKILL");
    return { id: info.Id, pid: info.State.Pid, at };
}

/** A container event as the engine streams it. */
interface EngineEvent {
    action: string;
    ms: number;
    name: string;
    exitCode?: string;
}

/**
 * Follows the engine's container events live (the engine keeps only its last 256 events, which
 * other tests running at the same time overwrite, so the history cannot be queried afterwards).
 */
async function followEvents(filters: Record<string, string[]>): Promise<{ events: EngineEvent[]; stop(): void }> {
    const stream = (await docker.getEvents({ filters: { type: ["container"], ...filters } })) as NodeJS.ReadableStream & { destroy(): void };
    const events: EngineEvent[] = [];
    let buf = "";
    stream.on("data", (chunk: Buffer) => {
        buf += chunk.toString();
        const lines = buf.split("\n");
        buf = lines.pop()!;
        for (const line of lines.filter((l) => l.trim())) {
            const e = JSON.parse(line) as { Action: string; timeNano: number; Actor: { Attributes: Record<string, string> } };
            const event = { action: e.Action, ms: e.timeNano / 1e6, name: e.Actor.Attributes.name, exitCode: e.Actor.Attributes.exitCode };
            events.push(event);
        }
    });
    stream.on("error", () => undefined);
    return { events, stop: () => stream.destroy() };
}

type PsRow = { dyno: string; state: string; restarts: number; exitCode?: number; container?: string };

async function psJson(): Promise<PsRow[]> {
    return JSON.parse((await ok("ps", "--json")).stdout) as PsRow[];
}

/** Every process under `pid` (children first found through /proc). */
function descendants(pid: number): number[] {
    let out: string;
    try {
        out = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
    } catch {
        return [];
    }
    const kids = out.split(/\s+/).filter(Boolean).map(Number);
    return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
        return false;
    }
}

/** The stack's checkpoint in the file backend, read directly (opening the stack would clear its stale lock). */
function checkpoint(): { resources: Array<{ id?: string; outputs?: Record<string, unknown> }>; pending_operations?: Array<{ type: string; resource: { urn: string } }> } {
    const [file] = stackCheckpointFiles(project.env.PULUMI_BACKEND_URL, stack);
    assert.ok(file, "the stack has a checkpoint file");
    return JSON.parse(fs.readFileSync(file, "utf8")).checkpoint.latest;
}

function stateContainerIds(resources: Array<{ outputs?: Record<string, unknown> }>): Set<string> {
    return new Set(resources.map((r) => r.outputs?.containerId).filter((v): v is string => typeof v === "string" && v !== ""));
}

describeLive("faults: dynoform under crashes, removals, interruptions and memory pressure", { concurrency: false }, () => {
    before(async () => {
        project = await cliProject("faults", { files: APP_FILES });
        stack = project.stackName("dev");
        project.writeStack(stack, await tinyStack({ formation: { web: { quantity: 1 }, worker: { quantity: 1 } } }));
    });
    after(async () => {
        await project?.cleanup();
    });

    test("deploy: one web and one worker dyno", async (t) => {
        const started = Date.now();
        const up = await ok("up", "--yes");
        t.diagnostic(`first up: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        url = up.stdout.trim().split("\n").pop()!;
        assert.equal(await (await fetch(url)).text(), "web.1 hello");
        assert.deepEqual((await psJson()).map((d) => `${d.dyno}:${d.state}:${d.restarts}`), ["web.1:up:0", "worker.1:up:0"]);
    });

    test("a web dyno killed with SIGKILL is restarted by Docker; ps shows the restart count", async (t) => {
        const watch = await followEvents({ container: [(await dynoContainer("web.1")).Id], event: ["die", "start"] });
        const killed = await crash("web.1");
        await eventually(
            async () => {
                const s = await docker.getContainer(killed.id).inspect();
                return s.State.Running && s.RestartCount === 1;
            },
            30_000,
            "web.1 to run again after the SIGKILL",
        );
        const restartedMs = Date.now() - killed.at;
        // The event stream can lag behind inspect.
        const dieThenStart = () => watch.events.some((e) => e.action === "start" && watch.events.some((d) => d.action === "die" && d.ms <= e.ms));
        await eventually(dieThenStart, 10_000, "the engine's die and start events");
        watch.stop();
        const events = watch.events;
        const die = events.find((e) => e.action === "die");
        assert.equal(die?.exitCode, "137", "died of SIGKILL (128 + 9)");
        const start = events.find((e) => e.action === "start" && e.ms >= die!.ms);
        assert.ok(start, "Docker started it again by itself");
        t.diagnostic(`web.1 (pid ${killed.pid}) exit ${die!.exitCode}; restarted by Docker ${Math.round(start.ms - die!.ms)} ms after it died, seen running ${restartedMs} ms after the kill`);

        const ps = await ok("ps");
        // Its use against its size, the restart, and why it last stopped (SIGKILL: exit 137, Docker restarted it).
        assert.match(ps.stdout, /^web\.1: up \d+s ago v1 \[mem [\d.]+\/\d+ MiB [\d.]+%, cpu [\d.]+%\] \(1 restart, last stop \d\d:\d\d:\d\d: crashed with exit 137, restarted by Docker\)$/m);
        t.diagnostic(`ps: ${ps.stdout.split("\n").find((l) => l.startsWith("web.1"))}`);
        const web = (await psJson()).find((d) => d.dyno === "web.1")!;
        assert.equal(web.state, "up");
        assert.equal(web.restarts, 1);
        assert.equal((await dynoContainer("web.1")).Id, killed.id, "same container, restarted in place");
        assert.equal(await (await fetch(url)).text(), "web.1 hello", "the app answers again");
    });

    test("a worker crashing in a loop is backed off by Docker and shown by ps as crashed, with its exit code", async (t) => {
        const watch = await followEvents({ container: [(await dynoContainer("worker.1")).Id], event: ["die", "start"] });
        const killed = await crash("worker.1");
        // Docker waits 100 ms, then twice as long after each quick exit: the 8th wait is 12.8 s,
        // time enough for `ps` to look while Docker holds the dyno back.
        await eventually(
            async () => {
                const s = await docker.getContainer(killed.id).inspect();
                return s.State.Restarting && s.RestartCount >= 7;
            },
            90_000,
            "worker.1 to crash-loop 7 times",
        );
        const looping = Date.now() - killed.at;
        const [text, json] = await Promise.all([ok("ps"), psJson()]);
        const line = text.stdout.split("\n").find((l) => l.startsWith("worker.1"));
        t.diagnostic(`ps: ${line}`);
        assert.match(text.stdout, /^=== worker \(standard-1x\): 1 dyno$/m, "not hidden");
        assert.match(line ?? "", /^worker\.1: crashed \d+s ago v1 \((\d+) restarts, last stop \d\d:\d\d:\d\d: crashed with exit 3, restarted by Docker\)$/);
        const worker = json.find((d) => d.dyno === "worker.1")!;
        assert.equal(worker.state, "crashed");
        assert.equal(worker.exitCode, 3);
        assert.ok(worker.restarts >= 7, `restarts ${worker.restarts}`);
        t.diagnostic(`ps --json worker.1: state ${worker.state}, exitCode ${worker.exitCode}, restarts ${worker.restarts}; 7 restarts reached ${(looping / 1000).toFixed(1)} s after the kill`);

        // Docker's back-off: the gap from each death to the next start grows. RestartCount counts a
        // restart once it is scheduled: the 7th start comes 6.4 s later.
        const gapsSeen = () => {
            const dies = watch.events.filter((e) => e.action === "die");
            return dies.map((d) => watch.events.find((e) => e.action === "start" && e.ms > d.ms)).flatMap((s, i) => (s ? [s.ms - dies[i].ms] : []));
        };
        await eventually(() => gapsSeen().length >= 7, 60_000, "the 7th restart's start event");
        watch.stop();
        const dies = watch.events.filter((e) => e.action === "die");
        assert.equal(dies[0].exitCode, "137", "the first death was the SIGKILL");
        assert.ok(dies.slice(1).every((e) => e.exitCode === "3"), "then the worker's own exit 3, every time");
        const gaps = gapsSeen();
        t.diagnostic(`die -> start gaps (ms): ${gaps.map((g) => Math.round(g)).join(", ")}`);
        assert.ok(gaps.length >= 7, `${gaps.length} restarts seen in the event log`);
        assert.ok(gaps[6] >= 6000, `the 7th restart waited ${Math.round(gaps[6])} ms (Docker's back-off: 6.4 s)`);
        // Each gap is Docker's wait plus the time a start takes (about 1 s here, several on a loaded
        // host): the waits go 0.1 s -> 6.4 s, so the 7th gap is seconds longer than the 1st.
        assert.ok(gaps[6] - gaps[0] >= 4000, `back-off grows: ${Math.round(gaps[0])} ms then ${Math.round(gaps[6])} ms`);
    });

    test("a dyno container removed by hand: refresh reports it missing; up brings it back with the same name and env", async (t) => {
        const old = await dynoContainer("web.1");
        const oldName = old.Name.replace(/^\//, "");
        await docker.getContainer(old.Id).remove({ force: true });
        assert.match((await ok("ps")).stdout, /^web\.1: missing/m);

        const refresh = await ok("refresh");
        assert.match(refresh.stdout, /^drift: tiny-web-1 is missing \(`dynoform up` brings it back\)$/m);
        assert.match(refresh.stdout, /^refreshed: \d+ dyno\(s\) drifted$/m);
        t.diagnostic(`refresh: ${refresh.stdout.trim().split("\n").join(" | ")}`);

        const started = Date.now();
        const up = await ok("up", "--yes");
        t.diagnostic(`up after the removal: ${((Date.now() - started) / 1000).toFixed(1)} s; ${up.stdout.split("\n")[0]}`);
        const back = await dynoContainer("web.1");
        assert.equal(back.Name.replace(/^\//, ""), oldName, "same container name");
        assert.notEqual(back.Id, old.Id, "a new container");
        assert.ok(back.State.Running);
        assert.deepEqual(envOf(back), envOf(old), "same environment");
        assert.ok(Object.keys(envOf(back)).length >= 3, "the environment was compared, not two empty lists");
        assert.equal(await (await fetch(url)).text(), "web.1 hello");
        assert.equal((await psJson()).find((d) => d.dyno === "web.1")?.state, "up");
    });

    test("a formation the host has not the memory for: preview says so, up and ps:scale refuse and change nothing", async (t) => {
        const total = Math.floor((await docker.info()).MemTotal / 2 ** 20);
        assert.ok(2 * PERFORMANCE_L_MB > total, `two performance-l dynos (${2 * PERFORMANCE_L_MB} MiB) exceed this host's ${total} MiB`);
        const needed = 2 * PERFORMANCE_L_MB + STANDARD_1X_MB;
        const before = await stackContainers();
        const stackFile = project.readStack(stack);
        // The message names what does not fit; its wording around the figures is the plan's.
        const refusal = new RegExp(`^dynoform: not enough memory on the Docker host: .*needs ${needed} MiB.*; nothing was changed$`, "m");

        await ok("ps:scale", "web=2:performance-l", "--no-up");
        try {
            const preview = await ok("preview");
            const memoryLine = preview.stdout.split("\n").find((l) => l.startsWith("Memory:"));
            assert.match(memoryLine ?? "", new RegExp(`^Memory: the formation needs ${needed} MiB; \\d+ MiB of ${total} MiB on the Docker host is not reserved by other apps — NOT ENOUGH$`));
            assert.match(preview.stdout, /^ {2}web: 1 -> 2 \(\+1\), standard-1x -> performance-l/m);
            assert.match(preview.stderr, /warning: the Docker host does not have the memory this formation needs; `up` will refuse it/);
            t.diagnostic(`preview: ${memoryLine}`);

            const up = await cli("up", "--yes");
            assert.equal(up.code, 1, up.stderr);
            assert.match(up.stderr, refusal);
            t.diagnostic(`up: exit ${up.code}: ${up.stderr.trim().split("\n").pop()}`);
            assert.deepEqual(await stackContainers(), before, "up created, replaced or removed no container");
        } finally {
            fs.writeFileSync(`${project.dir}/stacks/Pulumi.${stack}.yaml`, stackFile);
        }

        const scale = await cli("ps:scale", "web=2:performance-l");
        assert.equal(scale.code, 1, scale.stderr);
        assert.match(scale.stderr, refusal);
        t.diagnostic(`ps:scale: exit ${scale.code}: ${scale.stderr.trim().split("\n").pop()}`);
        assert.equal(project.readStack(stack), stackFile, "the stack file says what runs");
        assert.deepEqual(await stackContainers(), before, "ps:scale created, replaced or removed no container");
    });

    test("up interrupted (SIGINT, then SIGKILL) mid-way: the next up clears the lock and pending operations, and converges", async (t) => {
        await ok("ps:scale", "web=4", "worker=0", "--no-up");
        // The first container operation: a container the stack did not have (polled: it does
        // not depend on an event stream, and a create is seen well before the dyno has booted).
        const baseline = new Set((await stackContainers()).map((c) => c.id));
        let polling = true;
        const firstCreate = (async () => {
            while (polling) {
                const fresh = (await stackContainers()).find((c) => !baseline.has(c.id));
                if (fresh) return fresh.name;
                await new Promise((r) => setTimeout(r, 100));
            }
            return "";
        })();
        const started = Date.now();
        const run = project.spawnCli(["up", "--yes", "--stack", stack]);
        const created = await Promise.race([firstCreate, run.exited.then((code) => `exited ${code}`)]);
        polling = false;
        assert.doesNotMatch(created, /^exited/, `up ended before creating a container:\n${run.err()}`);
        t.diagnostic(`first container created after ${((Date.now() - started) / 1000).toFixed(1)} s: ${created}`);

        // Ctrl-C, then kill -9 before Pulumi could stop: SIGKILL reaches the CLI and every pulumi
        // process at once, mid-operation (a SIGINT alone stops cleanly: the next test).
        const cliPid = run.child.pid!;
        const tree = new Set(descendants(cliPid));
        for (const p of [...tree]) for (const d of descendants(p)) tree.add(d);
        // For the diagnostic only: a process that ended since it was listed is named as such.
        const names = [...tree].map((p) => {
            const [read] = readPresent([`/proc/${p}/cmdline`]);
            return read ? read.bytes.toString().split("\0").slice(0, 2).join(" ").replace(/^.*\//, "") : `${p} (ended)`;
        });
        run.child.kill("SIGINT");
        for (const p of [cliPid, ...tree]) {
            try {
                process.kill(p, "SIGKILL");
            } catch {
                // already gone
            }
        }
        t.diagnostic(`SIGINT, then SIGKILL to the CLI and its ${tree.size} child processes: ${names.join("; ")}`);
        await run.exited;
        await eventually(() => [cliPid, ...tree].every((p) => !alive(p)), 10_000, "the CLI and its pulumi processes to be gone");

        // What the interruption left: a lock, a pending create, and a container the state does not know.
        assert.ok(stackLockFiles(project.env.PULUMI_BACKEND_URL, stack).length > 0, "a lock file is left");
        const interrupted = checkpoint();
        const pending = (interrupted.pending_operations ?? []).map((o) => `${o.type} ${o.resource.urn.split("::").pop()}`);
        assert.ok(pending.some((p) => /^creating tiny-web-[234]$/.test(p)), `pending operations: ${pending.join(", ")}`);
        const known = stateContainerIds(interrupted.resources);
        const orphans = (await stackContainers()).filter((c) => !known.has(c.id));
        assert.ok(orphans.length > 0, "a container the state does not know");
        t.diagnostic(`left behind: pending ${pending.join(", ")}; containers not in state: ${orphans.map((c) => c.name).join(", ")}`);

        const resumed = Date.now();
        const up = await ok("up", "--yes");
        t.diagnostic(`next up: exit ${up.code} in ${((Date.now() - resumed) / 1000).toFixed(1)} s; ${up.stdout.split("\n")[0]}`);
        const messages = up.stderr.split("\n").filter((l) => /stale lock|interrupted|removed container|pending operation/.test(l));
        for (const m of messages) t.diagnostic(m);
        assert.match(up.stderr, new RegExp(`^dynoform: removed a stale lock on stack ${stack}: the update started \\S+ by pid \\d+ was interrupted$`, "m"));
        assert.match(
            up.stderr,
            new RegExp(`^dynoform: the last update of stack ${stack} was interrupted with ${pending.length} operation\\(s\\) in flight \\(${pending.join(", ")}\\); Dynoform checks their containers against the state$`, "m"),
        );
        for (const o of orphans) {
            assert.match(up.stderr, new RegExp(`^dynoform: removed container ${o.name.replace(/\./g, "\\.")} \\(${o.dyno.replace(".", "\\.")}\\): an interrupted or failed update started it but never recorded it in state$`, "m"));
        }
        assert.match(up.stderr, new RegExp(`^dynoform: cleared ${pending.length} pending operation\\(s\\) from the state of stack ${stack}$`, "m"));

        // Converged: the formation asked for, one container per dyno, every container in state.
        assert.deepEqual((await psJson()).map((d) => `${d.dyno}:${d.state}`), ["web.1:up", "web.2:up", "web.3:up", "web.4:up"]);
        const containers = await stackContainers();
        const perDyno = new Map<string, number>();
        for (const c of containers) perDyno.set(c.dyno, (perDyno.get(c.dyno) ?? 0) + 1);
        assert.deepEqual(Object.fromEntries([...perDyno].sort()), { "router.1": 1, "web.1": 1, "web.2": 1, "web.3": 1, "web.4": 1 });
        const state = await (await openStack({ projectDir: project.dir, stack, program: async () => ({}), env: project.env })).exportStack();
        assert.deepEqual(state.deployment.pending_operations ?? [], []);
        const inState = stateContainerIds(state.deployment.resources);
        assert.deepEqual(containers.filter((c) => !inState.has(c.id)).map((c) => c.name), [], "no orphan container");
        t.diagnostic(`after: ${containers.length} containers (${[...perDyno.keys()].sort().join(", ")}), all ${containers.length} in state`);
        const bodies = new Set<string>();
        for (let i = 0; i < 12; i++) bodies.add(await (await fetch(url)).text());
        assert.ok([...bodies].every((b) => /^web\.[1-4] hello$/.test(b)), [...bodies].join(", "));
    });

    test("SIGINT during up, to the CLI alone or to its process group: Pulumi stops cleanly (no lock, no pending operation, no orphan), exit 130; the next up finishes the job", async (t) => {
        await ok("ps:scale", "web=6", "--no-up");
        const baseline = new Set((await stackContainers()).map((c) => c.id));
        const run = project.spawnCli(["up", "--yes", "--stack", stack]);
        await eventually(async () => (await stackContainers()).some((c) => !baseline.has(c.id)) || run.child.exitCode !== null, 120_000, "up to create its first container");
        assert.equal(run.child.exitCode, null, `up ended before creating a container:\n${run.err()}`);
        const cliPid = run.child.pid!;
        const tree = new Set(descendants(cliPid));
        const signalled = Date.now();
        run.child.kill("SIGINT"); // the CLI alone, as a CI runner sends it (SIGTERM takes the same path: test/cli/interrupt.test.ts)
        const code = await run.exited;
        const seconds = ((Date.now() - signalled) / 1000).toFixed(1);
        t.diagnostic(`exit ${code} ${seconds} s after SIGINT; stderr: ${run.err().split("\n").filter((l) => /SIGINT/.test(l)).join(" | ")}`);
        assert.equal(code, 130, run.err());
        assert.match(run.err(), /^dynoform: SIGINT: stopping up once the operations in flight finish/m);
        assert.match(run.err(), /^dynoform: up stopped by SIGINT; what it finished is in the stack's state/m);
        await eventually(() => [...tree].every((p) => !alive(p)), 10_000, "pulumi and its provider processes to end with the CLI");

        // Clean: no lock, nothing pending, every container of the stack recorded in state.
        assert.deepEqual(stackLockFiles(project.env.PULUMI_BACKEND_URL, stack), [], "the lock was released");
        const stopped = checkpoint();
        assert.deepEqual(stopped.pending_operations ?? [], [], "no operation left in flight");
        const known = stateContainerIds(stopped.resources);
        const containers = await stackContainers();
        assert.deepEqual(containers.filter((c) => !known.has(c.id)).map((c) => c.name), [], "no container the state does not know");
        const webs = containers.filter((c) => c.role === "dyno" && c.dyno.startsWith("web.")).map((c) => c.dyno).sort();
        t.diagnostic(`after the stop: ${webs.length} web dynos (${webs.join(", ")}), all in state`);

        const up = await ok("up", "--yes");
        assert.doesNotMatch(up.stderr, /stale lock|was interrupted|pending operation/, "nothing to clear up");
        assert.deepEqual((await psJson()).map((d) => `${d.dyno}:${d.state}`), ["web.1:up", "web.2:up", "web.3:up", "web.4:up", "web.5:up", "web.6:up"]);

        // A SIGINT to the whole process group, as a terminal's Ctrl-C or a runner sends it: Pulumi
        // gets it directly and says so; the CLI must not send it a second one (Pulumi's "terminate
        // immediately", which would leave a pending operation behind).
        await ok("ps:scale", "web=8", "--no-up");
        const six = new Set((await stackContainers()).map((c) => c.id));
        const group = project.spawnCli(["up", "--yes", "--stack", stack], { detached: true });
        await eventually(async () => (await stackContainers()).some((c) => !six.has(c.id)) || group.child.exitCode !== null, 120_000, "up to create its first container");
        assert.equal(group.child.exitCode, null, `up ended before creating a container:\n${group.err()}`);
        process.kill(-group.child.pid!, "SIGINT");
        const groupCode = await group.exited;
        t.diagnostic(`group SIGINT: exit ${groupCode}; ${group.err().split("\n").filter((l) => /\^C|SIGINT/.test(l)).join(" | ")}`);
        assert.equal(groupCode, 130, group.err());
        assert.deepEqual(stackLockFiles(project.env.PULUMI_BACKEND_URL, stack), [], "the lock was released");
        const afterGroup = checkpoint();
        assert.deepEqual(afterGroup.pending_operations ?? [], [], "no operation left in flight");
        const knownAfterGroup = stateContainerIds(afterGroup.resources);
        assert.deepEqual((await stackContainers()).filter((c) => !knownAfterGroup.has(c.id)).map((c) => c.name), [], "no container the state does not know");
        const last = await ok("up", "--yes");
        assert.doesNotMatch(last.stderr, /stale lock|was interrupted|pending operation/, "nothing to clear up");
        assert.deepEqual((await psJson()).map((d) => d.dyno), ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6", "web.7", "web.8"]);
        assert.ok((await psJson()).every((d) => d.state === "up"));
    });
});
