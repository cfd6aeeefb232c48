import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { after, before, test } from "node:test";
import YAML from "yaml";
import { describeLive } from "../support/engines";
import { connectDocker } from "../../infra/docker/client";
import { LABEL, swarmName } from "../../infra/docker/labels";
import { REGISTRY } from "../../infra/swarm/registry";
import { swarmNodes } from "../../infra/swarm/cluster";
import { runningTasks, serviceTasks, stoppingTasks } from "../../infra/swarm/tasks";
import { recordedBaseImages } from "../../toolchain/base-image-refs";
import { AppProject, appProject, runCli } from "../support/app-project";
import { eventually } from "../support/poll";
import { freePort } from "../support/harness";
import { escaped, startTestCluster, TestCluster } from "../support/test-cluster";
import { answersOverTheOverlay, ProbeSite, tinyApp } from "../support/swarm-probe";
import { registryRequests, taskImages } from "../support/registry-probe";

// A stack on a 3-node Swarm cluster (test/support/test-cluster.ts), through the real CLI, one
// deployment shared by the tests below, in order: doctor forms the cluster from the stack's
// hosts, `up` runs web=6 as one service spread over the nodes, `nodes` lists them, `ps:scale`
// adds a task and restarts none, `ps:resize` rolls them all, `nodes:drain` moves a node's dynos
// with no failed request (a client asking the dynos all along, as the router does: the addresses
// of tasks.<service> again every second, the next address on a refused connection), and
// `nodes:activate` puts it back; then the manager's engine is restarted and the cluster and the
// app come back; then the stack names its nodes by ssh:// (each node's sshd) and doctor, ps,
// ps:scale, logs and run go through SSH only; `promote` to a second stack; a job added with
// `scheduler:add` runs on the manager on a 10 s test minute; last, `destroy`.
let cluster: TestCluster | undefined;
let project: AppProject | undefined;

async function webService() {
    const manager = cluster!.manager.engine;
    const [service] = await manager.listServices({ filters: { label: [`${LABEL.stack}=${project!.stack}`, `${LABEL.processType}=web`] } });
    assert.ok(service, "a web service");
    return service;
}

async function webTasks() {
    return runningTasks(cluster!.manager.engine, (await webService()).ID);
}

/** Web tasks scaled away or replaced (desired state no longer running) that still run: none once a command has returned. */
async function webTasksStillStopping() {
    return stoppingTasks(await serviceTasks(cluster!.manager.engine, (await webService()).ID)).map((t) => `web.${t.slot} (${t.id}, desired ${t.desired})`);
}

/** How tasks ended, as the manager tells it (their status message, error and exit code, and their node's state), for a failure message. */
async function taskFates(ids: string[]): Promise<string> {
    if (ids.length === 0) return "none";
    const manager = cluster!.manager.engine;
    const nodes = new Map((await manager.listNodes()).map((n: any) => [n.ID, `${n.Description?.Hostname} ${n.Status?.State}/${n.Availability}`]));
    const tasks = (await manager.listTasks({ filters: { id: ids } })) as any[];
    return JSON.stringify(tasks.map((t) => ({ id: t.ID, slot: t.Slot, node: nodes.get(t.NodeID), desired: t.DesiredState, state: t.Status?.State, message: t.Status?.Message, err: t.Status?.Err, exit: t.Status?.ContainerStatus?.ExitCode })));
}

const site = (): ProbeSite => ({ engine: cluster!.manager.engine, image: recordedBaseImages().node, network: swarmName.network(project!.app, project!.stack) });

/** What each task answers, asked from a container on the app's overlay network on the manager. */
function answers(): Promise<string[]> {
    return answersOverTheOverlay(site(), swarmName.service(project!.app, project!.stack, "web"));
}

const perNode = (tasks: Array<{ node: string }>) =>
    Object.fromEntries(["dfsw1", "dfsw2", "dfsw3"].map((n) => [n, tasks.filter((t) => t.node === n).length]));

// Sends requests one after another, 2 ms apart (about 200 a second through a drain; unpaced it sent
// 2,000-3,000 a second and kept a core busy), until SIGTERM, then prints how many were answered and failed.
const CLIENT = `const http = require("http"), dns = require("dns").promises;
const service = process.argv[1]; let ips = [], next = 0, ok = 0, failed = 0, stop = false;
const refresh = async () => { ips = await dns.resolve4("tasks." + service).catch(() => ips); };
const get = (ip) => new Promise((done) => { const r = http.get({ host: ip, port: 5000, timeout: 2000 }, (s) => { s.resume(); s.on("end", () => done(s.statusCode === 200)); });
  r.on("error", () => done(false)); r.on("timeout", () => (r.destroy(), done(false))); });
process.on("SIGTERM", () => (stop = true));
(async () => { await refresh(); setInterval(refresh, 1000).unref(); console.log("sending");
  while (!stop) { let answered = false;
    for (let i = 0; i < Math.max(ips.length, 1) && !answered; i++) answered = await get(ips[next++ % Math.max(ips.length, 1)]);
    answered ? ok++ : failed++; await new Promise((r) => setTimeout(r, 2)); }
  console.log("requests ok " + ok + " failed " + failed); process.exit(0); })();`;

describeLive("a stack on a 3-node Swarm cluster", { concurrency: false }, () => {
    before(async () => {
        const started = Date.now();
        cluster = await startTestCluster(3, Object.values(recordedBaseImages()), { form: false, imagesOn: "manager" });
        process.stdout.write(`# 3 test engines started in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        const [manager, ...workers] = cluster.nodes;
        project = await appProject("hello", {
            cluster: { manager: manager.dockerHost, workers: workers.map((w) => w.dockerHost) },
            routerPort: String(await freePort()),
            formation: { web: { quantity: 6 } },
        });
        tinyApp(project.dir);
    });
    after(async () => {
        const started = Date.now();
        await project?.cleanup();
        process.stdout.write(`# destroy: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        await cluster?.teardown();
        process.stdout.write(`# destroy and teardown: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    });

    test("doctor forms the cluster from the stack's hosts and lists its 3 nodes; again, it changes nothing", async () => {
        const r = await project!.cli(["doctor"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /cluster: 3 nodes ready/);
        assert.match(r.stderr, new RegExp(`dfsw1 ${escaped(cluster!.nodes[0].address)} manager \\(leader\\) ready active`));
        assert.match(r.stderr, new RegExp(`dfsw3 ${escaped(cluster!.nodes[2].address)} worker ready active`));
        assert.match(r.stderr, /no IPVS: .*dnsrr endpoint mode/);
        assert.match(r.stderr, /cluster: registry dynoform-registry \(dynoform\/registry:\w+\) on the manager's node, at 127\.0\.0\.1:5000 on every node/);
        const ids = (await swarmNodes(cluster!.manager.engine)).map((n) => n.id);
        const again = await project!.cli(["doctor"]);
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual((await swarmNodes(cluster!.manager.engine)).map((n) => n.id), ids);
    });

    test("a cluster stack that also names a Docker host, or has a scheduled backup, is refused (exit 2) and the file is unchanged", async () => {
        const file = path.join(project!.dir, "stacks", `Pulumi.${project!.stack}.yaml`);
        const good = fs.readFileSync(file, "utf8");
        try {
            const doc = YAML.parse(good);
            doc.config["dynoform:dockerHost"] = cluster!.manager.dockerHost;
            fs.writeFileSync(file, YAML.stringify(doc));
            let r = await project!.cli(["up", "--yes"]);
            assert.equal(r.code, 2, r.stderr);
            assert.match(r.stderr, /Pulumi\.e2e-\w+\.yaml:\d+: `dynoform:cluster`: a stack runs on one Docker host or on a cluster: drop `dynoform:dockerHost`/);
            delete doc.config["dynoform:dockerHost"];
            doc.config["dynoform:addons"] = { postgres: "postgres" };
            doc.config["dynoform:scheduler"] = { "pg-backups": { schedule: "0 2 * * *", backup: "postgres" } };
            const bad = YAML.stringify(doc);
            fs.writeFileSync(file, bad);
            r = await project!.cli(["ps:scale", "web=2"]);
            assert.equal(r.code, 2, r.stderr);
            assert.match(r.stderr, /`dynoform:cluster`: scheduled backups \(`dynoform:scheduler\.pg-backups`, as pg:backups:schedule writes it\) do not run on a Swarm cluster yet/);
            assert.equal(fs.readFileSync(file, "utf8"), bad);
        } finally {
            fs.writeFileSync(file, good);
        }
    });

    test("up runs web=6 as one service spread over all 3 nodes; ps shows each dyno's node", async () => {
        const started = Date.now();
        const r = await project!.cli(["up", "--yes"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const tasks = await webTasks();
        process.stdout.write(`# up web=6 on 3 nodes: ${((Date.now() - started) / 1000).toFixed(1)} s, tasks per node ${JSON.stringify(perNode(tasks))}\n`);
        assert.equal(tasks.length, 6);
        assert.ok(tasks.every((t) => t.state === "running"), JSON.stringify(tasks));
        assert.deepEqual(perNode(tasks), { dfsw1: 2, dfsw2: 2, dfsw3: 2 });
        const ps = await project!.cli(["ps"]);
        assert.equal(ps.code, 0, ps.stderr);
        for (const t of tasks) assert.match(ps.stdout, new RegExp(`^web\\.${t.slot}: up .* on ${t.node} v1`, "m"));
        assert.match(ps.stdout, /=== web \(standard-1x\): 6 dynos/);
        assert.deepEqual(await answers(), ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6"]);
        // The image was built on the manager only and pushed once to the cluster's registry; the
        // workers pulled it from there (no copy): every task runs the same reference and image ID.
        const images = await taskImages(cluster!.nodes, swarmName.service(project!.app, project!.stack, "web"));
        assert.equal(images.length, 6);
        assert.equal(new Set(images.map((i) => i.ref)).size, 1, JSON.stringify(images));
        assert.match(images[0].ref, /^127\.0\.0\.1:5000\/hello@sha256:[0-9a-f]{64}$/);
        assert.equal(new Set(images.map((i) => i.imageId)).size, 1, JSON.stringify(images));
        assert.ok(images.every((i) => i.repoDigests.includes(images[0].ref)), JSON.stringify(images));
        assert.equal((await registryRequests(cluster!.manager.engine, /"PUT \/v2\/hello\/manifests\//)).length, 1, "pushed once");
        // Its port is published on every address of every node, but only the node itself is let in.
        const status = (...cmd: string[]) => spawnSync(cmd[0], [...cmd.slice(1), "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10"], { encoding: "utf8" }).stdout;
        const worker = cluster!.nodes[1];
        assert.equal(status("ip", "netns", "exec", worker.netns, "curl", "http://127.0.0.1:5000/v2/"), "200", "a node reaches the registry at 127.0.0.1");
        assert.equal(status("curl", `http://${worker.address}:5000/v2/`), "000", "from outside the node its port answers nothing");
    });

    test("nodes lists the 3 nodes with the app's dynos on each; a stack on one Docker host or an unknown node is a usage error (exit 2)", async () => {
        const r = await project!.cli(["nodes"]);
        assert.equal(r.code, 0, r.stderr);
        for (const t of await webTasks()) assert.match(r.stdout, new RegExp(`^${t.node} .* active: .*\\bweb\\.${t.slot}\\b`, "m"));
        assert.match(r.stdout, new RegExp(`^dfsw1 ${escaped(cluster!.manager.address)} manager \\(leader\\) ready active: web\\.\\d+ web\\.\\d+$`, "m"));
        const unknown = await project!.cli(["nodes:drain", "dfsw9"]);
        assert.equal(unknown.code, 2, unknown.stderr);
        assert.match(unknown.stderr, /nodes:drain: no node `dfsw9` in the cluster; its nodes: dfsw1, dfsw2, dfsw3/);
        const single = await appProject("hello", { routerPort: "5000" });
        try {
            const s = await single.cli(["nodes"]);
            assert.equal(s.code, 2, s.stderr);
            assert.match(s.stderr, /nodes: stack e2e-\w+ runs on one Docker host, not a cluster/);
        } finally {
            await single.cleanup();
        }
    });

    test("ps:scale web=7 keeps the 6 running tasks (same task IDs) and adds one", async () => {
        const before = await webTasks();
        const started = Date.now();
        const r = await project!.cli(["ps:scale", "web=7"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        // The dynos are tasks on three engines, not containers on the manager: no drift, no refresh.
        assert.doesNotMatch(r.stdout + r.stderr, /Drift:/);
        assert.match(r.stdout + r.stderr, /~ updated +swarm:Service hello-web .*\[replicas\]/);
        const after = await webTasks();
        process.stdout.write(`# ps:scale web=6 -> 7: ${((Date.now() - started) / 1000).toFixed(1)} s, tasks per node ${JSON.stringify(perNode(after))}\n`);
        assert.equal(after.length, 7);
        assert.ok(after.every((t) => t.state === "running"), JSON.stringify(after));
        const kept = new Set(after.map((t) => t.id));
        const replaced = before.filter((t) => !kept.has(t.id));
        assert.deepEqual(replaced, [], `no earlier task was replaced; what became of them: ${await taskFates(replaced.map((t) => t.id))}`);
        const ps = await project!.cli(["ps", "--json"]);
        const dynos = JSON.parse(ps.stdout) as Array<{ dyno: string; node: string; task: string }>;
        assert.deepEqual(dynos.map((d) => d.dyno), ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6", "web.7"]);
        assert.ok(dynos.every((d) => /^dfsw[123]$/.test(d.node)), ps.stdout);
    });

    test("ps:resize web=standard-2x replaces every task (rolling, start-first) with 1 GB limits; the dynos still answer", async () => {
        const before = new Set((await webTasks()).map((t) => t.id));
        const started = Date.now();
        const r = await project!.cli(["ps:resize", "web=standard-2x"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        // The plan says what Swarm will do, and checks memory against the nodes that take tasks.
        assert.match(r.stderr, /web: standard-1x -> standard-2x \(rolling: Swarm replaces each task, the new one started first\)/);
        assert.match(r.stderr, /Memory: the formation needs \d+ MiB; \d+ MiB of \d+ MiB on the cluster's 3 active nodes is not reserved by other apps/);
        const after = await webTasks();
        process.stdout.write(`# ps:resize of 7 web dynos: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        assert.equal(after.length, 7);
        assert.ok(after.every((t) => t.state === "running" && !before.has(t.id)), JSON.stringify(after));
        // The web service: the router is a service of the stack too.
        const [service] = await cluster!.manager.engine.listServices({ filters: { label: [`${LABEL.stack}=${project!.stack}`, `${LABEL.processType}=web`] } });
        const resources = service.Spec!.TaskTemplate!.Resources!;
        assert.deepEqual([resources.Limits!.MemoryBytes, resources.Reservations!.MemoryBytes], [1024 * 1024 * 1024, 1024 * 1024 * 1024]);
        assert.deepEqual(service.Spec!.UpdateConfig!.Order, "start-first");
        assert.equal(service.UpdateStatus?.State, "completed");
        assert.deepEqual(await answers(), ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6", "web.7"]);
    });

    test("nodes:drain dfsw3 returns once its dynos run on dfsw1 and dfsw2; the others are not restarted; no request fails", async () => {
        // The manager holds the registry on its volume: draining it is refused unless forced, and changes nothing.
        const refused = await project!.cli(["nodes:drain", "dfsw1"]);
        assert.equal(refused.code, 2, refused.stdout + refused.stderr);
        assert.match(refused.stderr, new RegExp(`nodes:drain: dfsw1 holds .*${REGISTRY.service}.*, pinned there with their volumes: .* pass --force to drain it anyway`));
        assert.equal((await swarmNodes(cluster!.manager.engine)).find((n) => n.hostname === "dfsw1")?.availability, "active");
        const before = await webTasks();
        const moving = before.filter((t) => t.node === "dfsw3");
        assert.ok(moving.length > 0, JSON.stringify(before));
        const docker = cluster!.manager.engine;
        const client = await docker.createContainer({
            Image: recordedBaseImages().node,
            Cmd: ["node", "-e", CLIENT, swarmName.service(project!.app, project!.stack, "web")],
            Tty: true,
            HostConfig: { NetworkMode: site().network },
        });
        let counts = "";
        try {
            await client.start();
            const r = await project!.cli(["nodes:drain", "dfsw3"]);
            assert.equal(r.code, 0, r.stdout + r.stderr);
            assert.match(r.stdout, /dfsw3 drained in [\d.]+ s; hello's dynos by node: dfsw1 \d, dfsw2 \d/);
            await client.stop({ t: 10 });
            counts = String(await client.logs({ stdout: true, stderr: true }));
        } finally {
            await client.remove({ force: true });
        }
        const after = await webTasks();
        process.stdout.write(`# drain of dfsw3: ${moving.length} dynos moved; ${/requests ok \d+ failed \d+/.exec(counts)?.[0]}\n`);
        assert.equal(after.length, 7);
        assert.ok(after.every((t) => t.state === "running" && t.node !== "dfsw3"), JSON.stringify(after));
        const stayed = before.filter((t) => t.node !== "dfsw3").map((t) => t.id);
        assert.deepEqual(stayed.filter((id) => !after.some((t) => t.id === id)), [], "dynos on dfsw1 and dfsw2 kept running");
        assert.equal((await swarmNodes(docker)).find((n) => n.hostname === "dfsw3")?.availability, "drain");
        const line = /requests ok (\d+) failed (\d+)/.exec(counts);
        assert.ok(line, counts);
        assert.ok(Number(line[1]) > 0, counts);
        assert.equal(Number(line[2]), 0, counts);
        assert.deepEqual(await answersOverTheOverlay(site(), swarmName.service(project!.app, project!.stack, "web")), ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6", "web.7"]);
        const nodes = await project!.cli(["nodes"]);
        assert.match(nodes.stdout, /^dfsw3 .* drain: no dynos$/m);
    });

    test("nodes:activate dfsw3 puts it back: availability active, and a scale-out places dynos there again", async () => {
        const r = await project!.cli(["nodes:activate", "dfsw3"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /dfsw3 is active/);
        assert.equal((await swarmNodes(cluster!.manager.engine)).find((n) => n.hostname === "dfsw3")?.availability, "active");
        const scaled = await project!.cli(["ps:scale", "web=8"]);
        assert.equal(scaled.code, 0, scaled.stdout + scaled.stderr);
        assert.ok((await webTasks()).some((t) => t.node === "dfsw3"), "a new dyno runs on dfsw3");
    });

    test("the manager's engine restarted: the 3 nodes are ready again, all 8 dynos run and answer, and ps:scale still works", async () => {
        const manager = cluster!.manager;
        const started = Date.now();
        await manager.restartEngine();
        const since = () => ((Date.now() - started) / 1000).toFixed(1);
        const engineUp = since();
        await eventually(async () => (await swarmNodes(manager.engine)).filter((n) => n.state === "ready").length === 3, 180_000, "the 3 nodes to be ready again", 500);
        const nodesReady = since();
        const service = swarmName.service(project!.app, project!.stack, "web");
        await eventually(async () => (await webTasks()).filter((t) => t.state === "running").length === 8, 180_000, "8 web tasks running again", 500);
        const tasksRunning = since();
        // One probe container asks every second until all 8 answer (a container a second cost ~50 starts on the overlay).
        // (Started again only when the probe cannot start or times out.)
        await eventually(() => answersOverTheOverlay(site(), service, 5000, { count: 8, ms: 120_000 }), 150_000, "8 dynos answering", 1000);
        process.stdout.write(`# manager engine restarted: engine up in ${engineUp} s, 3 nodes ready at ${nodesReady} s, 8 tasks running at ${tasksRunning} s, 8 dynos answering at ${since()} s\n`);
        assert.deepEqual(await answersOverTheOverlay(site(), service), ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6", "web.7", "web.8"]);
        const ps = await project!.cli(["ps"]);
        assert.equal(ps.code, 0, ps.stderr);
        // standard-2x: resized above.
        assert.match(ps.stdout, /=== web \(standard-2x\): 8 dynos/);
        const scaled = await project!.cli(["ps:scale", "web=6"]);
        assert.equal(scaled.code, 0, scaled.stdout + scaled.stderr);
        assert.equal((await webTasks()).length, 6);
        assert.deepEqual(await webTasksStillStopping(), [], "the 2 tasks scaled away have stopped when ps:scale returns");
    });

    test("through ssh:// only (each node's sshd): doctor checks the cluster, ps, ps:scale web=5 restarts no task, logs show a request through the router, run is on the overlay; 14 requests at once all answer", async () => {
        const file = path.join(project!.dir, "stacks", `Pulumi.${project!.stack}.yaml`);
        const good = fs.readFileSync(file, "utf8");
        const [manager, ...workers] = cluster!.nodes;
        const doc = YAML.parse(good);
        doc.config["dynoform:cluster"] = { manager: manager.sshHost, workers: workers.map((w) => w.sshHost) };
        const logins = cluster!.nodes.map((n) => n.sshLogins());
        const started = Date.now();
        const took: string[] = [];
        const step = async (args: string[], inProject = true) => {
            const at = Date.now();
            const r = await (inProject ? project!.cli(args) : runCli(args, project!.env));
            took.push(`${args[0]} ${((Date.now() - at) / 1000).toFixed(1)} s`);
            return r;
        };
        try {
            fs.writeFileSync(file, YAML.stringify(doc));
            const doctor = await step(["doctor"]);
            assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
            assert.match(doctor.stderr, new RegExp(`docker: engine \\S+ at ssh://root@${escaped(manager.address)}\\?`));
            assert.match(doctor.stderr, /cluster: 3 nodes ready/);
            assert.match(doctor.stderr, new RegExp(`dfsw1 ${escaped(manager.address)} manager \\(leader\\) ready active`));
            assert.match(doctor.stderr, /cluster: registry dynoform-registry \(dynoform\/registry:\w+\) on the manager's node/);
            // Every node was reached through its sshd (doctor asks each worker whether it is in the cluster).
            assert.ok(cluster!.nodes.every((n, i) => n.sshLogins() > logins[i]), `SSH logins before ${logins}, after ${cluster!.nodes.map((n) => n.sshLogins())}`);

            const before = await webTasks();
            assert.equal(before.length, 6);
            const ps = await step(["ps"]);
            assert.equal(ps.code, 0, ps.stderr);
            for (const t of before) assert.match(ps.stdout, new RegExp(`^web\\.${t.slot}: up .* on ${t.node} `, "m"));

            const scaled = await step(["ps:scale", "web=5"]);
            assert.equal(scaled.code, 0, scaled.stdout + scaled.stderr);
            assert.match(scaled.stdout + scaled.stderr, /~ updated +swarm:Service hello-web .*\[replicas\]/);
            const after = await webTasks();
            assert.equal(after.length, 5);
            const kept = new Set(before.map((t) => t.id));
            assert.ok(after.every((t) => t.state === "running" && kept.has(t.id)), `no task replaced: ${JSON.stringify(after)}`);
            assert.deepEqual(await webTasksStillStopping(), [], "the task scaled away has stopped when ps:scale returns");

            const probe = `/through-ssh-${Date.now()}`;
            const res = await fetch(`http://${manager.address}:${doc.config["dynoform:routerPort"]}${probe}`);
            assert.equal(res.status, 200);
            // Swarm scales down by spreading over the nodes, not by slot: the 5 kept may include web.8.
            const answered = await res.text();
            assert.ok(after.some((t) => answered === `web.${t.slot}`), `${answered} is one of the 5 running dynos: ${after.map((t) => t.slot).join(", ")}`);
            // Swarm gathers a task's lines from its node: the line may take a moment to arrive.
            const logs = await eventually(async () => {
                const r = await step(["logs", "-n", "50", "--source", "dynoform"]);
                if (r.code !== 0 || !r.stdout.includes(probe)) throw new Error(`exit ${r.code}: ${(r.stdout + r.stderr).slice(-1500)}`);
                return r.stdout;
            }, 30_000, `the router's line for ${probe} in logs`, 500);
            assert.match(logs, new RegExp(`dynoform\\[router\\]@dfsw1: .*"GET ${probe} HTTP/1\\.1" 200`));

            const web = swarmName.service(project!.app, project!.stack, "web");
            // Options before `--`: after it, everything is the command's.
            const script = `require("dns").promises.resolve4("tasks.${web}").then((a) => { console.log(a.length + " dynos"); process.exit(7); })`;
            const run = await step(["run", "--cwd", project!.dir, "--stack", project!.stack, "--no-tty", "--", "node", "-e", script], false);
            assert.equal(run.code, 7, run.stdout + run.stderr);
            assert.match(run.stdout, /^5 dynos$/m);

            // More requests at once than sshd lets one connection carry (MaxSessions, 10 by default): all answer.
            const viaSsh = connectDocker(manager.sshHost);
            const many = await Promise.allSettled(Array.from({ length: 14 }, () => viaSsh.listServices()));
            assert.deepEqual(many.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason)), []);
        } finally {
            fs.writeFileSync(file, good);
            process.stdout.write(`# through ssh:// only: ${took.join(", ")}; ${((Date.now() - started) / 1000).toFixed(1)} s in all\n`);
        }
    });

    test("promote to a second stack on the cluster: its services run the same registry digest, no layer pushed again; releases shows it", async () => {
        // Not a name the source's begins (Docker's name filters match prefixes: the destroy test lists by name).
        const target = `to-${project!.stack}`;
        const dir = project!.dir;
        const doc = YAML.parse(fs.readFileSync(path.join(dir, "stacks", `Pulumi.${project!.stack}.yaml`), "utf8"));
        doc.config["dynoform:routerPort"] = String(await freePort());
        doc.config["dynoform:formation"] = { web: { quantity: 1 } };
        fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${target}.yaml`), YAML.stringify(doc));
        const onTarget = (args: string[]) => runCli([...args, "--cwd", dir, "--stack", target], project!.env);
        const manager = cluster!.manager.engine;
        const blobUploads = /"POST \/v2\/hello\/blobs\/uploads\//;
        const uploadsBefore = (await registryRequests(manager, blobUploads)).length;
        // Not destroyed here: the cluster's teardown removes its services (its state is in the project folder).
        const started = Date.now();
        const r = await project!.cli(["promote", "--from", project!.stack, "--to", target]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const source = await taskImages(cluster!.nodes, swarmName.service(project!.app, project!.stack, "web"));
        const promoted = await taskImages(cluster!.nodes, swarmName.service(project!.app, target, "web"));
        process.stdout.write(`# promote to a second stack on the cluster (web=1, router): ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        assert.equal(promoted.length, 1);
        assert.equal(promoted[0].ref, source[0].ref, "the target runs the source's repo@sha256");
        assert.equal((await registryRequests(manager, blobUploads)).length, uploadsBefore, "no layer uploaded again: the digest moved, not the bytes");
        const short = /hello@sha256:[0-9a-f]{12}/.exec(source[0].ref)![0];
        const releases = await onTarget(["releases"]);
        assert.equal(releases.code, 0, releases.stderr);
        assert.match(releases.stdout, new RegExp(`^v1\\* Promote from ${project!.stack} \\(${short}\\)`, "m"));
        const info = await onTarget(["releases:info", "--json"]);
        assert.equal(JSON.parse(info.stdout).imageRef, source[0].ref);
    });

    test("scheduler:add on the cluster: the job runs on time on the manager, on the app's network; logs show scheduler[tick], scheduler its exit code", async () => {
        // The scheduler's test clock (infra/docker/scheduler.ts): a cron minute lasts 10 s.
        const TICK = 10;
        const { dir, stack } = project!;
        const cli = (args: string[]) => runCli([...args, "--cwd", dir, "--stack", stack], { ...project!.env, DYNOFORM_SCHEDULER_TICK_SECONDS: String(TICK) });
        const began = Date.now();
        const add = await runCli(["scheduler:add", "* * * * *", "--name", "tick", "--no-up", "--cwd", dir, "--stack", stack, "--", "sh", "-c", 'echo "tick $DYNO"; exit 3'], project!.env);
        assert.equal(add.code, 0, add.stderr);
        const preview = await cli(["preview"]);
        assert.equal(preview.code, 0, preview.stderr);
        assert.match(preview.stdout, /^Scheduler \(UTC\):\n  \+ tick \(\* \* \* \* \*\): sh -c 'echo .*exit 3'$/m, preview.stdout);
        const added = ((Date.now() - began) / 1000).toFixed(1);
        const started = Date.now();
        const up = await cli(["up", "--yes"]);
        assert.equal(up.code, 0, up.stdout + up.stderr);
        const manager = cluster!.manager.engine;
        const run = await eventually(async () => (await manager.listContainers({ all: true, filters: { label: [`${LABEL.stack}=${stack}`, `${LABEL.dyno}=scheduler.tick`], status: ["exited"] } }))[0], 120_000, "the tick job's first run to finish on the manager", 250);
        const info = await manager.getContainer(run.Id).inspect();
        const firstRun = ((Date.now() - started) / 1000).toFixed(1);
        const late = Date.parse(info.State.StartedAt) % (TICK * 1000);
        assert.ok(late < (TICK * 1000) / 2, `started on the (test) minute: ${late} ms after it began (at ${info.State.StartedAt})`);
        assert.deepEqual(Object.keys(info.NetworkSettings.Networks), [swarmName.network(project!.app, stack)]);
        const ran = Date.now();
        const text = await cli(["scheduler"]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, /scheduler: running; times are UTC\n/, text.stdout);
        assert.match(text.stdout, /^tick\s+\* \* \* \* \*\s+sh -c .*\(last run \S+: exit 3(; running since \S+)?, next \S+\)$/m, text.stdout);
        const logs = await cli(["logs", "-n", "300"]);
        assert.equal(logs.code, 0, logs.stderr);
        assert.match(logs.stdout, /scheduler\[tick\]: tick scheduler\.tick$/m, logs.stdout);
        assert.match(logs.stdout, /dynoform\[scheduler\]: tick: \S+ exited with status 3$/m, logs.stdout);
        process.stdout.write(`# scheduler on the cluster: scheduler:add and preview ${added} s, up to the first run's end ${firstRun} s, scheduler and logs ${((Date.now() - ran) / 1000).toFixed(1)} s\n`);
    });

    test("destroy removes the service and the app's overlay network from the cluster", async () => {
        const r = await project!.cli(["destroy", "--confirm", project!.app]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const manager = cluster!.manager.engine;
        assert.deepEqual(await manager.listServices({ filters: { label: [`${LABEL.stack}=${project!.stack}`] } }), []);
        const networks = await manager.listNetworks({ filters: { name: [swarmName.network(project!.app, project!.stack)] } });
        assert.deepEqual(networks.map((n: { Name: string }) => n.Name), []);
    });
});
