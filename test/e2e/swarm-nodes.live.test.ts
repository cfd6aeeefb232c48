import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { describeLive } from "../support/engines";
import { LABEL, swarmName } from "../../infra/docker/labels";
import { swarmNodes } from "../../infra/swarm/cluster";
import { runningTasks } from "../../infra/swarm/tasks";
import { recordedBaseImages } from "../../toolchain/base-image-refs";
import { AppProject, appProject } from "../support/app-project";
import { eventually } from "../support/poll";
import { answersOverTheOverlay, clusterAppProject, ProbeSite } from "../support/swarm-probe";
import { escaped, startTestCluster, TestCluster } from "../support/test-cluster";

// `dynoform nodes`, `nodes:drain` and `nodes:activate` on a 3-node test cluster through the real
// CLI: the drain returns once the drained node's dynos run on the other two, the dynos elsewhere
// are left as they were, and a client asking the dynos all along (as the router does: the
// addresses of tasks.<service> again every second, the next address on a refused connection)
// sees no failed request. Last, the manager's engine is restarted: the cluster and the app come back.
let cluster: TestCluster | undefined;
let project: AppProject | undefined;

const site = (): ProbeSite => ({ engine: cluster!.manager.engine, image: recordedBaseImages().node, network: swarmName.network(project!.app, project!.stack) });

async function webTasks() {
    const manager = cluster!.manager.engine;
    const [service] = await manager.listServices({ filters: { label: [`${LABEL.stack}=${project!.stack}`, `${LABEL.processType}=web`] } });
    return runningTasks(manager, service.ID);
}

// Sends requests one after another until SIGTERM, then prints how many were answered and failed.
const CLIENT = `const http = require("http"), dns = require("dns").promises;
const service = process.argv[1]; let ips = [], next = 0, ok = 0, failed = 0, stop = false;
const refresh = async () => { ips = await dns.resolve4("tasks." + service).catch(() => ips); };
const get = (ip) => new Promise((done) => { const r = http.get({ host: ip, port: 5000, timeout: 2000 }, (s) => { s.resume(); s.on("end", () => done(s.statusCode === 200)); });
  r.on("error", () => done(false)); r.on("timeout", () => (r.destroy(), done(false))); });
process.on("SIGTERM", () => (stop = true));
(async () => { await refresh(); setInterval(refresh, 1000).unref(); console.log("sending");
  while (!stop) { let answered = false;
    for (let i = 0; i < Math.max(ips.length, 1) && !answered; i++) answered = await get(ips[next++ % Math.max(ips.length, 1)]);
    answered ? ok++ : failed++; }
  console.log("requests ok " + ok + " failed " + failed); process.exit(0); })();`;

describeLive("dynoform nodes, nodes:drain and nodes:activate on a 3-node Swarm cluster", { concurrency: false }, () => {
    before(async () => {
        cluster = await startTestCluster(3, Object.values(recordedBaseImages()));
        project = await clusterAppProject(cluster, 6);
        const r = await project.cli(["up", "--yes"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
    });
    after(async () => {
        await project?.cleanup();
        await cluster?.teardown();
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

    test("nodes:drain dfsw3 returns once its dynos run on dfsw1 and dfsw2; the others are not restarted; no request fails", async () => {
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
        assert.equal(after.length, 6);
        assert.ok(after.every((t) => t.state === "running" && t.node !== "dfsw3"), JSON.stringify(after));
        const stayed = before.filter((t) => t.node !== "dfsw3").map((t) => t.id);
        assert.deepEqual(stayed.filter((id) => !after.some((t) => t.id === id)), [], "dynos on dfsw1 and dfsw2 kept running");
        assert.equal((await swarmNodes(docker)).find((n) => n.hostname === "dfsw3")?.availability, "drain");
        const line = /requests ok (\d+) failed (\d+)/.exec(counts);
        assert.ok(line, counts);
        assert.ok(Number(line[1]) > 0, counts);
        assert.equal(Number(line[2]), 0, counts);
        assert.deepEqual(await answersOverTheOverlay(site(), swarmName.service(project!.app, project!.stack, "web")), ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6"]);
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
        const engineUp = (Date.now() - started) / 1000;
        await eventually(async () => (await swarmNodes(manager.engine)).filter((n) => n.state === "ready").length === 3, 180_000, "the 3 nodes to be ready again", 500);
        const service = swarmName.service(project!.app, project!.stack, "web");
        await eventually(async () => (await webTasks()).filter((t) => t.state === "running").length === 8, 180_000, "8 web tasks running again", 500);
        await eventually(async () => (await answersOverTheOverlay(site(), service)).length === 8, 120_000, "8 dynos answering", 1000);
        process.stdout.write(`# manager engine restarted: engine up in ${engineUp.toFixed(1)} s, cluster and 8 dynos answering in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
        assert.deepEqual(await answersOverTheOverlay(site(), service), ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6", "web.7", "web.8"]);
        const ps = await project!.cli(["ps"]);
        assert.equal(ps.code, 0, ps.stderr);
        assert.match(ps.stdout, /=== web \(standard-1x\): 8 dynos/);
        const scaled = await project!.cli(["ps:scale", "web=6"]);
        assert.equal(scaled.code, 0, scaled.stdout + scaled.stderr);
        assert.equal((await webTasks()).length, 6);
    });
});
