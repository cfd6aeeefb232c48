import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import { after, before, test } from "node:test";
import autocannon from "autocannon";
import * as path from "path";
import { imageLabels, imageRepository, swarmName } from "../../infra/docker/labels";
import { demuxLogs } from "../../infra/docker/logs";
import { createImage } from "../../infra/docker/image-ops";
import { PACKAGE_ROOT } from "../../toolchain/paths";
import { runningTasks, serviceTasks as allServiceTasks, ServiceTask } from "../../infra/swarm/tasks";
import { recordedBaseImages } from "../../toolchain/base-image-refs";
import { AppProject, appProject } from "../support/app-project";
import { describeLive } from "../support/engines";
import { freePort } from "../support/harness";
import { eventually } from "../support/poll";
import { escaped, startTestCluster, TestCluster } from "../support/test-cluster";
import { registryRequests, taskImages } from "../support/registry-probe";
import { clock, FailedAnswers, failedAnswersLine, ROUTER_LOAD, watchFailedAnswers } from "../support/load";

// examples/hello (router, Postgres, Redis, worker, release phase) on a 3-node Swarm cluster,
// deployed once through the real CLI and shared by the tests below, in order: web=6 over all
// nodes behind the router, `run` and `logs` across the nodes, a failing release that rolls
// nothing, a rolling `config:set` under load with no failed request, and a worker node's whole
// engine killed under load. The figures are printed as `# ...` lines.
let cluster: TestCluster | undefined;
let project: AppProject | undefined;
let url = "";

async function serviceTasks(type: string): Promise<ServiceTask[]> {
    const manager = cluster!.manager.engine;
    const [service] = await manager.listServices({ filters: { name: [swarmName.service(project!.app, project!.stack, type)] } });
    assert.ok(service, `a ${type} service`);
    return runningTasks(manager, service.ID);
}

const perNode = (tasks: Array<{ node: string }>) =>
    Object.fromEntries(["dfsw1", "dfsw2", "dfsw3"].map((n) => [n, tasks.filter((t) => t.node === n).length]));

async function get(path = "/"): Promise<{ status: number; body: string }> {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(15_000) });
    return { status: res.status, body: await res.text() };
}

function visitOf(body: string): number {
    const m = /visit (\d+)/.exec(body);
    assert.ok(m, `page shows a visit count: ${body}`);
    return Number(m[1]);
}

/** Load through the router until `stop()`: ROUTER_LOAD (8 connections, 400 requests a second) on `path`, as hello-app.live.test.ts does. */
function load(path: string) {
    let answered = 0;
    const errors = new Map<string, number>();
    const errorTimes: number[] = [];
    let instance: autocannon.Instance | undefined;
    let failed: FailedAnswers | undefined;
    const done = new Promise<autocannon.Result>((resolve, reject) => {
        instance = autocannon({ url: `${url}${path}`, ...ROUTER_LOAD, duration: 900, timeout: 20 }, (err, res) => (err ? reject(err) : resolve(res)));
        failed = watchFailedAnswers(instance);
        instance.on("response", () => answered++);
        instance.on("reqError", (err: NodeJS.ErrnoException) => {
            errors.set(err.code ?? err.message, (errors.get(err.code ?? err.message) ?? 0) + 1);
            errorTimes.push(Date.now());
        });
    });
    return {
        answered: () => answered,
        async stop() {
            instance!.stop();
            const result = await done;
            return Object.assign(result, { errorKinds: Object.fromEntries(errors), errorTimes, failedAnswers: failed! });
        },
    };
}

const failedOf = (r: autocannon.Result) => r.non2xx + r.errors + r.timeouts;
/** What a load run saw, with the status codes and error kinds of the failures, for the lead to quote. */
/** When the failed requests failed, in seconds after `t0`: `[3.1, 3.1, 12.0]`. */
const errorsAt = (r: { errorTimes: number[] }, t0: number) => JSON.stringify(r.errorTimes.map((t) => Math.round((t - t0) / 100) / 10));

/** The router task's nginx error log (its stderr) on the manager, or undefined when no router runs there. */
async function routerStderr(opts: { timestamps: boolean }): Promise<string | undefined> {
    const manager = cluster!.manager.engine;
    const [c] = await manager.listContainers({ filters: { label: [`com.docker.swarm.service.name=${swarmName.service(project!.app, project!.stack, "router")}`] } });
    if (!c) return undefined;
    return demuxLogs((await manager.getContainer(c.Id).logs({ stdout: false, stderr: true, timestamps: opts.timestamps, follow: false })) as unknown as Buffer);
}

/** The router's nginx errors (its stderr, on the manager) other than retried refusals, for a failure's message. */
async function routerErrors(): Promise<string> {
    const log = await routerStderr({ timestamps: false });
    if (log === undefined) return "no router container on the manager";
    return log.split("\n").filter((l) => l && !/\[notice\]|Connection refused/.test(l)).slice(-20).join("\n") || "none but retried refusals";
}

/**
 * For a failed load check: when the non-2xx answers came, the router's refused connections
 * around then (which addresses, from its error log), and every web task's state and when it got
 * there (the task history included), all as times of day.
 */
async function rolloutDiagnostics(seen: FailedAnswers): Promise<string> {
    const lines = [`non-2xx answers: ${failedAnswersLine(seen)}`];
    const manager = cluster!.manager.engine;
    const [router] = await manager.listContainers({ filters: { label: [`com.docker.swarm.service.name=${swarmName.service(project!.app, project!.stack, "router")}`] } });
    if (router && seen.times.length) {
        const from = seen.times[0] - 1000, to = seen.times[seen.times.length - 1] + 1000;
        const raw = (await manager.getContainer(router.Id).logs({ stdout: false, stderr: true, timestamps: true, follow: false })) as unknown as Buffer;
        const near = demuxLogs(raw).split("\n").filter((l) => {
            const at = Date.parse(l.slice(0, l.indexOf(" ")));
            return at >= from && at <= to && /Connection refused/.test(l);
        });
        const upstreams = near.map((l) => /upstream: "http:\/\/([\d.]+:\d+)/.exec(l)?.[1] ?? "?");
        const counts = [...new Set(upstreams)].map((u) => `${u} x${upstreams.filter((x) => x === u).length}`).join(", ");
        lines.push(`router refusals from a second before to a second after: ${near.length} (${counts || "none"})`);
    }
    const [web] = await manager.listServices({ filters: { name: [swarmName.service(project!.app, project!.stack, "web")] } });
    if (web) {
        for (const t of await allServiceTasks(manager, web.ID)) lines.push(`web.${t.slot} ${t.id.slice(0, 10)} on ${t.node}: ${t.state} (desired ${t.desired}) at ${clock(Date.parse(t.since))}`);
    }
    return lines.join("\n");
}

const loadLine = (r: autocannon.Result & { errorKinds: Record<string, number> }) => {
    const codes = Object.entries((r as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {})
        .filter(([code]) => !code.startsWith("2")).map(([code, s]) => `${code} x${s.count}`);
    const why = [...codes, ...Object.entries(r.errorKinds).map(([k, n]) => `${k} x${n}`)].join(", ");
    return `${r.requests.total} requests, ${failedOf(r)} failed (${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts${why ? `: ${why}` : ""}), p99 ${r.latency.p99} ms`;
};

describeLive("examples/hello on a 3-node Swarm cluster, through the CLI", { concurrency: false }, () => {
    before(async () => {
        // The test nodes reach no npm registry: the app's image is built here first (as `up` would
        // build it) and copied into the manager's engine, where `up` finds it by its content hash.
        const base = recordedBaseImages();
        const built = await createImage({ context: path.join(PACKAGE_ROOT, "examples", "hello"), nodeBaseImage: base.node, repository: imageRepository.app("hello"), labels: imageLabels("hello") });
        const started = Date.now();
        cluster = await startTestCluster(3, [...Object.values(base), built.outs.imageRef], { imagesOn: "manager" });
        process.stderr.write(`# 3 test engines started and formed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        const [manager, ...workers] = cluster.nodes;
        project = await appProject("hello", {
            cluster: { manager: manager.dockerHost, workers: workers.map((w) => w.dockerHost) },
            routerPort: String(await freePort()),
            formation: { web: { quantity: 6 }, worker: { quantity: 1 } },
        });
    });
    after(async () => {
        await project?.cleanup();
        // The add-ons' volumes are on the manager (the nodes' data roots outlive the test).
        const manager = cluster?.manager.engine;
        const ours = (name: string) => project && (name.startsWith(`${project.app}-${project.stack}-`) || name.startsWith(`${project.app}.${project.stack}.`));
        if (manager) {
            await eventually(async () => {
                for (const v of (await manager.listVolumes()).Volumes ?? []) if (ours(v.Name)) await manager.getVolume(v.Name).remove();
                return true;
            }, 60_000, "the add-ons' volumes removed from the manager").catch((err) => process.stderr.write(`# ${err.message}\n`));
        }
        await cluster?.teardown();
    });

    test("up: web=6 spread over the 3 nodes behind a router on the manager; the release phase ran; visits counted in Postgres", async () => {
        const started = Date.now();
        const r = await project!.cli(["up", "--yes"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        url = r.stdout.trim().split("\n").pop()!;
        assert.match(url, new RegExp(`^http://${escaped(cluster!.manager.address)}:\\d+$`), "the URL is the ingress node's (the manager's) address");
        const web = await serviceTasks("web");
        process.stderr.write(`# up of examples/hello (web=6, worker, postgres, redis, router) on 3 nodes: ${((Date.now() - started) / 1000).toFixed(1)} s, web per node ${JSON.stringify(perNode(web))}\n`);
        assert.deepEqual(perNode(web), { dfsw1: 2, dfsw2: 2, dfsw3: 2 });
        assert.deepEqual((await serviceTasks("postgres")).map((t) => t.node), ["dfsw1"], "Postgres runs beside its volume, on the manager");
        assert.deepEqual((await serviceTasks("router")).map((t) => t.node), ["dfsw1"], "the router runs on the ingress node");
        // Base images are named by ID, which Swarm starts tasks from without trying a pull first
        // (a tag it pulls before every task start: 10 s each of DNS timeouts with no registry in reach).
        for (const [type, base] of [["postgres", "postgres"], ["redis", "redis"], ["router", "nginx"]] as const) {
            const [service] = await cluster!.manager.engine.listServices({ filters: { name: [swarmName.service(project!.app, project!.stack, type)] } });
            const id = (await cluster!.manager.engine.getImage(recordedBaseImages()[base]).inspect()).Id;
            assert.equal((service.Spec!.TaskTemplate as { ContainerSpec?: { Image?: string } }).ContainerSpec?.Image, id, `${type}: ${recordedBaseImages()[base]} by its ID on the manager`);
        }
        // Images: pushed once to the cluster's registry; every node's web task runs it by the same digest.
        const images = await taskImages(cluster!.nodes, swarmName.service(project!.app, project!.stack, "web"));
        assert.deepEqual(images.map((i) => i.node), ["dfsw1", "dfsw1", "dfsw2", "dfsw2", "dfsw3", "dfsw3"]);
        const refs = [...new Set(images.map((i) => i.ref))];
        assert.equal(refs.length, 1, `one image reference on every node: ${JSON.stringify(images)}`);
        assert.match(refs[0], /^127\.0\.0\.1:5000\/hello@sha256:[0-9a-f]{64}$/);
        assert.equal(new Set(images.map((i) => i.imageId)).size, 1, "the same image ID (bytes) on every node");
        // A repo digest is there only once pulled from the registry (the manager's copy came in by ID, see before).
        assert.ok(images.every((i) => i.repoDigests.includes(refs[0])), `every node pulled ${refs[0]} from the registry: ${JSON.stringify(images)}`);
        assert.equal((await registryRequests(cluster!.manager.engine, /"PUT \/v2\/hello\/manifests\//)).length, 1, "the image was pushed once");
        assert.match(r.stdout + r.stderr, /release: schema ready|ReleasePhase/, "the release phase ran");
        const first = await get();
        assert.equal(first.status, 200, first.body);
        const second = await get();
        assert.equal(visitOf(second.body), visitOf(first.body) + 1, "the count comes from Postgres");
        // Every task answers through the router (round robin over tasks.<web service>).
        const dynos = new Set<string>();
        await eventually(async () => {
            dynos.add(/from (web\.\d+)/.exec((await get()).body)?.[1] ?? "");
            return dynos.size >= 6;
        }, 30_000, `all 6 web dynos answering through the router (seen: ${[...dynos].join(" ")})`, 50);
        await eventually(async () => Number(/jobs done by workers (\d+)/.exec((await get()).body)?.[1] ?? 0) >= 1, 30_000, "the worker to consume a job from Redis");
    });

    test("run: a one-off on the app's overlay network reaches Postgres; logs: every task's lines as app[web.N] with its node", async () => {
        // Options before `--`; the ones cli() adds after it become `sh`'s $0, $1…, which the script ignores.
        const script = "require('./db').pool().query('SELECT count(*)::int AS n FROM visits').then((q) => { console.log('visits=' + q.rows[0].n); process.exit(0); })";
        const r = await project!.cli(["run", "--cwd", project!.dir, "--stack", project!.stack, "--", "sh", "-c", `node -e "${script}"`]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /visits=\d+/);
        const logs = await project!.cli(["logs", "-n", "200"]);
        assert.equal(logs.code, 0, logs.stderr);
        for (const n of [1, 2, 3, 4, 5, 6]) assert.match(logs.stdout, new RegExp(`app\\[web\\.${n}\\]@dfsw[123]: web: listening on 5000`), logs.stdout);
        assert.match(logs.stdout, /app\[worker\.1\]@dfsw[123]: /);
        // --tail: a job done after it started, printed by the worker wherever it runs.
        const tail = spawn(process.execPath, [path.join(PACKAGE_ROOT, "dist", "cli", "main.js"), "logs", "--tail", "-n", "0", "--cwd", project!.dir, "--stack", project!.stack],
            { env: { ...process.env, ...project!.env }, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        tail.stdout.on("data", (d) => (out += d));
        tail.stderr.on("data", (d) => (err += d));
        try {
            await eventually(() => err.includes("--- following"), 60_000, "logs --tail to start following");
            assert.equal((await get()).status, 200);
            await eventually(() => /app\[worker\.1\]@dfsw[123]: worker: processed visit \d+/.test(out), 30_000, `the worker's line for the new visit (got: ${out})`);
        } finally {
            tail.kill("SIGINT");
        }
    });

    test("a failing release phase (exit 3) blocks the rollout: no task replaced, the old release serves", async () => {
        const before = (await serviceTasks("web")).map((t) => t.id);
        const r = await project!.cli(["config:set", "FAIL_RELEASE=1", "GREETING=Broken"]);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /release command `node release\.js` failed with exit code 3/);
        assert.deepEqual((await serviceTasks("web")).map((t) => t.id), before, "no web task replaced");
        assert.match((await get()).body, /^Hello from web\.\d/);
    });

    test("a rolling config:set under load through the router: every request answered", async () => {
        const countBefore = visitOf((await get()).body);
        const idsBefore = new Set((await serviceTasks("web")).map((t) => t.id));
        const traffic = load("/health");
        await eventually(() => traffic.answered() >= 50, 30_000, "the load generator to get answers");
        const started = Date.now();
        const r = await project!.cli(["config:set", "GREETING=Howdy"]);
        const rolledS = (Date.now() - started) / 1000;
        const atEnd = traffic.answered();
        await eventually(() => traffic.answered() >= atEnd + 200, 30_000, "200 answers after the change");
        const result = await traffic.stop();
        assert.equal(r.code, 0, r.stdout + r.stderr);
        process.stderr.write(`# rolling config:set of 6 web dynos + worker on 3 nodes under load: ${rolledS.toFixed(1)} s, ${loadLine(result)}\n`);
        assert.ok(result.requests.total > 100, "the load generator ran");
        assert.equal(
            failedOf(result),
            0,
            `no failed request; failures at ${errorsAt(result, started)} s after config:set began (at ${clock(started)}); the router's error log:\n` +
                `${await routerErrors()}\n${await rolloutDiagnostics(result.failedAnswers)}`,
        );
        const after = await serviceTasks("web");
        assert.ok(after.every((t) => !idsBefore.has(t.id) && t.state === "running"), "every web task was replaced");
        const page = await get();
        assert.match(page.body, /^Howdy from web\.\d/);
        assert.ok(visitOf(page.body) > countBefore, "Postgres data kept across the redeploy");
        // Same image, new config: nothing pushed again (one manifest PUT since up).
        assert.equal((await registryRequests(cluster!.manager.engine, /"PUT \/v2\/hello\/manifests\//)).length, 1, "no second push");
    });

    test("a worker node's engine killed under load: its dynos run again on the other nodes, Postgres data kept", async () => {
        const countBefore = visitOf((await get()).body);
        const victim = cluster!.nodes[2];
        const traffic = load("/health");
        await eventually(() => traffic.answered() >= 50, 30_000, "the load generator to get answers");
        const killedAt = Date.now();
        // The whole engine at once: dockerd, containerd, the shims and the dynos (`ip netns pids`).
        const pids = spawnSync("ip", ["netns", "pids", victim.netns], { encoding: "utf8" }).stdout.split("\n").map(Number).filter(Boolean);
        assert.ok(pids.includes(victim.dockerdPid()!), "the node's dockerd is among its processes");
        for (const pid of pids) {
            try {
                process.kill(pid, "SIGKILL");
            } catch (err) {
                // Listed, then gone by itself before its turn (a task's process at its end): what the kill was for.
                if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
            }
        }
        const back = await eventually(async () => {
            const tasks = await serviceTasks("web");
            return tasks.length === 6 && tasks.every((t) => t.state === "running" && t.node !== victim.name) ? tasks : undefined;
        }, 180_000, `6 web dynos running off ${victim.name}`, 250);
        const rescheduledS = (Date.now() - killedAt) / 1000;
        const atBack = traffic.answered();
        await eventually(() => traffic.answered() >= atBack + 200, 60_000, "200 answers after the dynos ran again");
        const result = await traffic.stop();
        process.stderr.write(`# ${victim.name}'s engine killed under load: all 6 web dynos running again after ${rescheduledS.toFixed(1)} s, per node ${JSON.stringify(perNode(back))}; ${loadLine(result)}${failedOf(result) ? `, at ${errorsAt(result, killedAt)} s after the kill` : ""}\n`);
        if (failedOf(result)) process.stderr.write(`# the router's error log: ${(await routerErrors()).trim().split("\n").join("\n#   ")}\n`);
        const page = await get();
        assert.equal(page.status, 200);
        assert.ok(visitOf(page.body) > countBefore, "Postgres data kept");
    });
});
