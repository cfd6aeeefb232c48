import assert from "node:assert/strict";
import * as fs from "fs";
import { after, before, test } from "node:test";
import { ADDON_LABEL } from "../../../components/addon";
import { connectDocker, pingDocker } from "../../../infra/docker/client";
import { LABEL } from "../../../infra/docker/labels";
import { demuxLogs } from "../../../infra/docker/logs";
import { ensureDockerEngine } from "../../../toolchain/docker-engine";
import { containersWith } from "../../support/harness";
import { helloOnce } from "../../support/hello-fixture";
import { fetchPage, visit, visitsSnapshot, VisitsSnapshot } from "../../support/hello-data";
import { describeLive } from "../../support/engines";

// The Docker daemon lost the way a host loses it (dockerd and its containerd killed with SIGKILL)
// and started again by Dynoform's own code (what `dynoform doctor` does): every dyno, add-on and
// the router of examples/hello come back by themselves, the same containers, the app answers
// through the router, the worker consumes jobs again, and the Postgres rows written before are
// all there. This disturbs every other test using Docker, so it lives in test/reliability/serial/,
// run after the concurrent pass, and it waits for /tmp/dynoform-no-restart to go before it
// restarts anything (and announces the restart in /tmp/dynoform-dockerd-restart).
const NO_RESTART = "/tmp/dynoform-no-restart";
const RESTARTING = "/tmp/dynoform-dockerd-restart";

const hello = helloOnce();
let written: VisitsSnapshot | undefined;
let containersBefore = new Map<string, { id: string; startedAt: string; restarts: number }>();

const log = (line: string) => process.stderr.write(`# daemon-restart: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid in a pid file if that process is alive, has this command name and is not a zombie. */
function livePid(pidFile: string, comm: string): number | undefined {
    const pid = Number(fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim() : NaN);
    if (!pid) return undefined;
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        return name === comm && state !== "Z" ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** Every container of the stack: name -> ID, state, health, start time and restart count. */
async function stackContainers() {
    const docker = connectDocker();
    const out = new Map<string, { id: string; running: boolean; health?: string; startedAt: string; restarts: number; addon: boolean }>();
    for (const c of await containersWith({ [LABEL.stack]: hello.project.stack })) {
        const info = await docker.getContainer(c.Id).inspect();
        out.set(c.Names[0].replace(/^\//, ""), {
            id: c.Id,
            running: info.State.Running,
            health: info.State.Health?.Status,
            startedAt: info.State.StartedAt,
            restarts: info.RestartCount,
            addon: Boolean(c.Labels[ADDON_LABEL]),
        });
    }
    return out;
}

/**
 * Polls `url` every 250 ms from `since` on and records each change in what it answered (`200`,
 * `502`, `no answer`, ...) with the second it was first seen, until stopped.
 */
function watchPage(url: string, since: number) {
    const timeline: string[] = [];
    let lastOkAt = -1;
    let stopped = false;
    const done = (async () => {
        let previous = "";
        // At most 5 minutes, so a failed test does not leave it polling.
        while (!stopped && Date.now() - since < 300_000) {
            const page = await fetchPage(url, 2000);
            const at = Date.now() - since;
            const seen = page ? String(page.status) : "no answer";
            if (seen !== previous) timeline.push(`${seen} at ${(at / 1000).toFixed(1)} s`);
            previous = seen;
            if (page?.status === 200) lastOkAt = at;
            await sleep(250);
        }
    })();
    return {
        timeline,
        /** Ms (since `since`) of a 200 seen at or after `ms`; throws when none came within `timeoutMs`. */
        async okAfter(ms: number, timeoutMs: number): Promise<number> {
            const deadline = Date.now() + timeoutMs;
            while (lastOkAt < ms) {
                if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms: ${timeline.join(" -> ")}`);
                await sleep(100);
            }
            return lastOkAt;
        },
        async stop(): Promise<void> {
            stopped = true;
            await done;
        },
    };
}

/** `jobs done by workers N` on the hello page. */
function jobsDone(body: string): number {
    const m = /jobs done by workers (\d+)/.exec(body);
    assert.ok(m, `page shows the jobs count: ${body}`);
    return Number(m[1]);
}

describeLive("the Docker daemon restarted: the app comes back by itself with its data", { concurrency: false }, () => {
    test("examples/hello deployed: web, worker, postgres, redis, router; visits written through the app", async (t) => {
        const { url } = await hello.deployed();
        for (let i = 1; i <= 5; i++) await visit(url);
        written = await visitsSnapshot(hello.project.stack);
        assert.ok(written.count >= 5);
        const containers = await stackContainers();
        // Names are <app>.<stack>.<type>.<n>.<suffix> (infra/docker/labels.ts dockerName).
        const roles = [...containers.keys()].map((n) => n.split(".")[2]).sort();
        assert.deepEqual(roles, ["postgres", "redis", "router", "web", "worker"]);
        for (const [name, c] of containers) assert.ok(c.running, `${name} runs`);
        containersBefore = new Map([...containers].map(([n, c]) => [n, { id: c.id, startedAt: c.startedAt, restarts: c.restarts }]));
    });

    test("dockerd and containerd killed (SIGKILL), started again by doctor's code: everything comes back by itself", async (t) => {
        assert.ok(written, "the app was deployed");
        while (fs.existsSync(NO_RESTART)) {
            log(`waiting: ${NO_RESTART} exists`);
            await sleep(20_000);
        }
        const dockerd = livePid("/var/run/docker.pid", "dockerd");
        assert.ok(dockerd, "dockerd's pid (from /var/run/docker.pid)");
        const containerd = livePid("/var/run/docker/containerd/containerd.pid", "containerd");

        fs.writeFileSync(RESTARTING, `${process.pid} restarting dockerd for ${hello.project.stack}\n`);
        let killedAt = 0;
        let daemonMs = 0;
        // What the app answers through the router from the kill on. `/` needs web, router, Postgres and Redis.
        let watcher: ReturnType<typeof watchPage> | undefined;
        try {
            killedAt = Date.now();
            watcher = watchPage(`${hello.url}/`, killedAt);
            process.kill(dockerd, "SIGKILL");
            if (containerd) process.kill(containerd, "SIGKILL");
            while (livePid("/var/run/docker.pid", "dockerd") === dockerd || (containerd && livePid("/var/run/docker/containerd/containerd.pid", "containerd") === containerd)) {
                await sleep(50);
            }
            const goneMs = Date.now() - killedAt;
            await assert.rejects(pingDocker(undefined, 1000), "the engine is gone");
            const startAt = Date.now();
            const status = await ensureDockerEngine((line) => log(`doctor: ${line} (${((Date.now() - startAt) / 1000).toFixed(1)} s into doctor's start)`));
            daemonMs = Date.now() - killedAt;
            log(`processes gone ${goneMs} ms after SIGKILL; doctor's start took ${((Date.now() - startAt) / 1000).toFixed(1)} s until the engine answered`);
            assert.equal(status.action, "started", "doctor's code started a new dockerd");
        } finally {
            fs.rmSync(RESTARTING, { force: true });
        }
        log(`killed dockerd ${dockerd} and containerd ${containerd ?? "(none)"}; engine answering again after ${(daemonMs / 1000).toFixed(1)} s`);

        // No `up`, no CLI: what comes back comes back by itself.
        let allMs = 0;
        let last = new Map<string, { id: string; running: boolean; health?: string }>();
        const deadline = Date.now() + 180_000;
        for (;;) {
            last = await stackContainers().catch(() => last);
            const back = [...containersBefore.keys()].every((n) => last.get(n)?.running && (!last.get(n)!.health || last.get(n)!.health === "healthy"));
            if (back) {
                allMs = Date.now() - killedAt;
                break;
            }
            if (Date.now() > deadline) {
                const states = [...containersBefore.keys()].map((n) => `${n}: ${last.get(n) ? `${last.get(n)!.running ? "running" : "not running"} ${last.get(n)!.health ?? ""}` : "gone"}`);
                assert.fail(`not every container came back within 180 s: ${states.join("; ")}`);
            }
            await sleep(250);
        }
        let appMs = 0;
        try {
            appMs = await watcher!.okAfter(allMs, 120_000);
        } finally {
            await watcher!.stop();
        }
        log(`every container running (add-ons healthy) ${(allMs / 1000).toFixed(1)} s after the kill; the app's / answered 200 through the router (again) ${(appMs / 1000).toFixed(1)} s after it`);
        log(`what / answered from the kill on: ${watcher!.timeline.join(" -> ")}`);
        const docker = connectDocker();
        for (const name of [...containersBefore.keys()].filter((n) => /\.(web|router)\./.test(n))) {
            const logs = (await docker.getContainer(name).logs({ stdout: true, stderr: true, since: Math.floor(killedAt / 1000) - 1 })) as unknown as Buffer;
            const lines = demuxLogs(logs).trim().split("\n").filter(Boolean);
            log(`${name} logs since the kill (${lines.length} lines, last 5): ${lines.slice(-5).join(" | ")}`);
        }

        const after = await stackContainers();
        for (const [name, c] of containersBefore) {
            const now = after.get(name)!;
            assert.equal(now.id, c.id, `${name} is the same container (brought back, not recreated)`);
            log(`${name}: ${c.id.slice(0, 12)} kept; started ${c.startedAt} -> ${now.startedAt}; restart count ${c.restarts} -> ${now.restarts}`);
        }
        assert.deepEqual([...after.keys()].sort(), [...containersBefore.keys()].sort(), "no container more or less");

        assert.deepEqual(await visitsSnapshot(hello.project.stack, written!.maxId), written, "the rows written before the restart are all there, unchanged");
        const now = await visitsSnapshot(hello.project.stack);
        const page = await fetchPage(`${hello.url}/`);
        assert.equal(page?.status, 200, page?.body);
        assert.match(page!.body, new RegExp(`visit ${now.count + 1},`), "the app counts the rows already there");
        log(`${written!.count} rows kept (digest ${written!.digest.slice(0, 8)}); the app then showed visit ${now.count + 1}`);

        // The worker is back too: a job queued now (in Redis) gets done (written to Postgres).
        const doneBefore = jobsDone(page!.body);
        const jobDeadline = Date.now() + 60_000;
        for (;;) {
            const p = await fetchPage(`${hello.url}/`);
            if (p?.status === 200 && jobsDone(p.body) > doneBefore) break;
            assert.ok(Date.now() < jobDeadline, "the worker consumed a job queued after the restart within 60 s");
            await sleep(1000);
        }
    });
});
