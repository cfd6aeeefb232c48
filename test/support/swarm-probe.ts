import * as fs from "fs";
import * as path from "path";
import type Docker = require("dockerode");
import { AppProject, appProject } from "./app-project";
import { freePort } from "./harness";
import { eventually } from "./poll";
import type { TestCluster } from "./test-cluster";

// What the Swarm tests and bench/swarm.ts ask of a cluster app: a tiny web app whose dynos answer
// their `DYNO`, and a probe that runs in a container on the app's overlay network and asks every
// task of a service (`tasks.<service>`: dnsrr gives every task's address, most on other nodes).

/** Writes `<dir>/app`: a web process only, answering `DYNO` on `$PORT`. */
export function tinyApp(dir: string): void {
    const app = path.join(dir, "app");
    fs.rmSync(app, { recursive: true, force: true });
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "tiny", version: "1.0.0", private: true }));
    fs.writeFileSync(path.join(app, "index.js"), "require('http').createServer((q, s) => s.end(process.env.DYNO)).listen(process.env.PORT);\n");
    fs.writeFileSync(path.join(app, "Procfile"), "web: node index.js\n");
}

/** A project of {@link tinyApp} whose stack runs `web` web dynos on `cluster` (not deployed yet). */
export async function clusterAppProject(cluster: TestCluster, web: number): Promise<AppProject> {
    const [manager, ...workers] = cluster.nodes;
    const project = await appProject("hello", {
        cluster: { manager: manager.dockerHost, workers: workers.map((w) => w.dockerHost) },
        routerPort: String(await freePort()),
        formation: { web: { quantity: web } },
    });
    tinyApp(project.dir);
    return project;
}

/** Where a probe runs: the engine (a manager), an image with node, the overlay network. */
export interface ProbeSite {
    engine: Docker;
    image: string;
    network: string;
}

// Every 100 ms: resolve tasks.<service>, GET each address (1 s timeout), collect the answers;
// exits printing the time once `n` distinct answers came in one round.
const ALL_ANSWER = `const http = require("http"), dns = require("dns").promises;
const [service, n, port] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const get = (ip) => new Promise((ok) => { const r = http.get({ host: ip, port, timeout: 1000 }, (s) => { let b = ""; s.on("data", (d) => (b += d)); s.on("end", () => ok(s.statusCode === 200 ? b : undefined)); });
  r.on("error", () => ok(undefined)); r.on("timeout", () => (r.destroy(), ok(undefined))); });
console.log("probing");
(async () => { for (;;) {
  const ips = await dns.resolve4("tasks." + service).catch(() => []);
  const got = new Set((await Promise.all(ips.map(get))).filter(Boolean));
  if (got.size >= n) { console.log("all " + got.size + " answered at " + Date.now() + ": " + [...got].sort().join(" ")); return; }
  await new Promise((r) => setTimeout(r, 100));
} })();`;

/**
 * Starts a probe that waits until `n` tasks of `service` answer on `port`; resolves once it is
 * running. `answeredAt()` resolves with the epoch ms at which all `n` answered in one round
 * (the probe and this process share the clock: same kernel).
 */
export async function allAnswerProbe(site: ProbeSite, service: string, n: number, port = 5000): Promise<{ answeredAt(): Promise<number>; remove(): Promise<void> }> {
    // A node with no task on the overlay leaves it; attaching again can race with that for a
    // moment ("network … not found"), so the probe is started again until it runs.
    const c = await eventually(async () => {
        const created = await site.engine.createContainer({
            Image: site.image,
            Cmd: ["node", "-e", ALL_ANSWER, service, String(n), String(port)],
            Tty: true,
            HostConfig: { NetworkMode: site.network },
        });
        try {
            await created.start();
            return created;
        } catch (err) {
            await created.remove({ force: true }).catch(() => undefined);
            throw err;
        }
    }, 30_000, `the answer probe to attach to ${site.network}`, 500);
    const logs = async () => String(await c.logs({ stdout: true, stderr: true }));
    await eventually(async () => (await logs()).includes("probing"), 30_000, "the answer probe to start", 100);
    return {
        async answeredAt() {
            const { StatusCode } = await c.wait();
            const out = await logs();
            const line = /all (\d+) answered at (\d+)/.exec(out);
            if (StatusCode !== 0 || !line) throw new Error(`the answer probe for ${service} failed (exit ${StatusCode}): ${out.trim()}`);
            return Number(line[2]);
        },
        remove: () => c.remove({ force: true }).then(() => undefined, () => undefined),
    };
}

/**
 * The answers of every task of `service`, sorted (e.g. `web.1 … web.6`). An address that does not
 * answer in 3 s fails a round: after an engine restart the name lists the tasks that ran there
 * before for a while, and a connection to one hung until the kernel gave up (2 min). With
 * `until`, rounds repeat in the one probe container, a second apart, until every address
 * answers and there are `until.count` of them (the last round's failure after `until.ms`);
 * without it, one round.
 */
export async function answersOverTheOverlay(site: ProbeSite, service: string, port = 5000, until?: { count: number; ms: number }): Promise<string[]> {
    const script = `const http = require("http");
const round = () => require("dns").promises.resolve4("tasks.${service}").then((ips) => Promise.all(ips.map((ip) => new Promise((ok, no) =>
  http.get({ host: ip, port: ${port}, timeout: 3000 }, (r) => { let b = ""; r.on("data", (d) => (b += d)); r.on("end", () => ok(b)); })
    .on("error", no).on("timeout", function () { this.destroy(new Error("no answer from " + ip + " in 3 s")); })))));
const [count, deadline] = [${until?.count ?? 0}, Date.now() + ${until?.ms ?? 0}];
const again = (why) => { if (Date.now() >= deadline) { console.log(why); process.exit(1); } setTimeout(ask, 1000); };
const ask = () => round().then((got) => got.length >= count ? console.log("answers: " + got.sort().join(" ")) : again(got.length + " of " + count + " answered: " + got.sort().join(" ")), (err) => again(err.message));
ask();`;
    const c = await site.engine.createContainer({ Image: site.image, Cmd: ["node", "-e", script], Tty: true, HostConfig: { NetworkMode: site.network } });
    try {
        await c.start();
        const { StatusCode } = await c.wait();
        const out = String(await c.logs({ stdout: true, stderr: true })).trim();
        const line = /answers: (.*)/.exec(out);
        if (StatusCode !== 0 || !line) throw new Error(`asking tasks.${service}${until ? ` until ${until.count} answer (${until.ms / 1000} s)` : ""} failed (exit ${StatusCode}): ${out}`);
        return line[1].trim().split(" ");
    } finally {
        await c.remove({ force: true });
    }
}
