import assert from "node:assert/strict";
import * as path from "path";
import { after, before, test } from "node:test";
import { ROUTER_SYNC } from "../../infra/docker/router-config";
import { connectDocker } from "../../infra/docker/client";
import { dockerName, LABEL } from "../../infra/docker/labels";
import { containerIp, execIn } from "../support/docker";
import { containersWith } from "../support/harness";
import { CliProject, cliProject, CliResult, TINY_APP, tinyStack } from "../support/cli";
import { describeLive } from "../support/engines";

// Isolation between the host, the containers and two apps on one Docker host: ports published on
// loopback only (the router on the address the user sets), no privileged container and no Docker
// socket, each app on its own network (a dyno of one app cannot reach the other app's Postgres,
// tried by name and by IP), and processes that run as non-root users where the image allows.

let project: CliProject;
/** Two apps, each with its own Postgres; alpha also has a Redis, beta's router listens on 127.0.0.2. */
const apps = { alpha: { stack: "", url: "" }, beta: { stack: "", url: "" } };
type Inspect = Awaited<ReturnType<ReturnType<ReturnType<typeof connectDocker>["getContainer"]>["inspect"]>>;

async function ok(stack: string, ...args: string[]): Promise<CliResult> {
    const r = await project.cli([...args, "--stack", stack]);
    assert.equal(r.code, 0, `dynoform ${args.join(" ")} --stack ${stack}:\n${r.stderr}`);
    return r;
}

/** docker inspect of every container of a stack, keyed by dyno name (web.1, postgres.1, router.1, ...). */
async function containersOf(stack: string): Promise<Map<string, Inspect>> {
    const docker = connectDocker();
    const out = new Map<string, Inspect>();
    for (const c of await containersWith({ [LABEL.stack]: stack })) {
        out.set(c.Labels[LABEL.dyno] ?? c.Names[0], await docker.getContainer(c.Id).inspect());
    }
    return out;
}

/**
 * Pid, uid and command of every process in a container, read from /proc by a shell run with
 * `docker exec`: the shell itself is left out, and what it starts (sed) has pids the glob did
 * not list. Uid and name come from one read of /proc/<pid>/status, so a process that exits
 * meanwhile is listed whole or not at all (read from `status` and then `comm`, one that exited
 * between the two was a root process with no name: the CI run of 2026-12-03 16:37).
 */
async function processUsers(container: string): Promise<Array<{ pid: number; comm: string; uid: number }>> {
    const out = await execIn(
        container,
        'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = "$$" ] && continue; ' +
            'l=$(sed -n -e "/^Name:/h" -e "/^Uid:/{G;s/^Uid:[[:space:]]*\\([0-9]*\\).*\\nName:[[:space:]]*/\\1 /p}" $d/status 2>/dev/null); ' +
            '[ -n "$l" ] && echo "$p $l"; done',
    );
    return out
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => {
            const [pid, uid, ...comm] = l.trim().split(" ");
            return { pid: Number(pid), uid: Number(uid), comm: comm.join(" ") };
        })
        .filter((p) => !RUNC_STAGE.test(p.comm));
}

/**
 * runc's own stages while it starts an exec in a container (`runc:[1:CHILD]`, `runc:[2:INIT]`):
 * the runtime, as root, joining the container's namespaces before it takes on the exec's user and
 * replaces itself with the command. An add-on server's Docker health check is such an exec every
 * 3 s, so a listing can catch one (a clean-clone CI run, 2026-12-03 12:33: "redis: runc:[2:INIT]
 * (pid 50) is not root"); what the check then runs is listed under its own name and user.
 */
const RUNC_STAGE = /^runc:\[\d:[A-Z]+\]$/;

/** A Node.js script run in a dyno: TCP connect to each host on 5432, 3 s deadline; prints `{ host: outcome }`. */
const PROBE = [
    'const net = require("net");',
    "const probe = (host) => new Promise((done) => {",
    "  const s = net.connect({ host, port: 5432, timeout: 3000 });",
    '  s.on("connect", () => { s.destroy(); done("connected"); });',
    '  s.on("timeout", () => { s.destroy(); done("timeout after 3 s"); });',
    '  s.on("error", (e) => done(e.code || e.message));',
    "});",
    "(async () => { const out = {}; for (const h of process.argv.slice(1)) out[h] = await probe(h); console.log(JSON.stringify(out)); })();",
].join("\n");

async function probeFrom(dyno: string, hosts: string[]): Promise<Record<string, string>> {
    const script = Buffer.from(PROBE).toString("base64");
    const out = await execIn(dyno, `node -e "$(echo ${script} | base64 -d)" ${hosts.join(" ")}`);
    return JSON.parse(out.trim().split("\n").pop()!) as Record<string, string>;
}

describeLive("isolation: host ports, privileges, networks between apps, users", { concurrency: false }, () => {
    before(async () => {
        project = await cliProject("isolation", {
            files: { ...TINY_APP, "app.json": JSON.stringify({ name: "tiny", addons: ["heroku-postgresql"] }) },
        });
        apps.alpha.stack = project.stackName("a");
        apps.beta.stack = project.stackName("b");
        project.writeStack(apps.alpha.stack, await tinyStack({ app: "alpha", addons: { cache: { plan: "redis", as: "CACHE" } } }));
        project.writeStack(apps.beta.stack, await tinyStack({ app: "beta", routerHost: "127.0.0.2" }));
    });
    after(async () => {
        await project?.cleanup();
    });

    test("two apps deploy side by side; beta's router is on the address its stack file sets", async (t) => {
        const [a, b] = await Promise.all([ok(apps.alpha.stack, "up", "--yes"), ok(apps.beta.stack, "up", "--yes")]);
        apps.alpha.url = a.stdout.trim().split("\n").pop()!;
        apps.beta.url = b.stdout.trim().split("\n").pop()!;
        assert.match(apps.alpha.url, /^http:\/\/127\.0\.0\.1:\d+$/);
        assert.match(apps.beta.url, /^http:\/\/127\.0\.0\.2:\d+$/);
        assert.equal(await (await fetch(apps.alpha.url)).text(), "web.1 hello");
        assert.equal(await (await fetch(apps.beta.url)).text(), "web.1 hello");
        const betaPort = new URL(apps.beta.url).port;
        await assert.rejects(fetch(`http://127.0.0.1:${betaPort}/`), "beta's router is not on 127.0.0.1");
    });

    test("ports are published on loopback only, and only the router's; nothing privileged, no Docker socket", async (t) => {
        assert.ok(apps.beta.url, "the apps are deployed");
        const seen: string[] = [];
        for (const [app, { stack }] of Object.entries(apps)) {
            const all = await containersOf(stack);
            assert.deepEqual([...all.keys()].sort(), app === "alpha" ? ["cache.1", "postgres.1", "router.1", "web.1"] : ["postgres.1", "router.1", "web.1"]);
            for (const [dyno, c] of all) {
                const hc = c.HostConfig;
                const portBindings = (hc.PortBindings ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
                const bindings = Object.entries(portBindings).flatMap(([port, b]) => (b ?? []).map((x) => ({ port, ...x })));
                const published = Object.entries(c.NetworkSettings.Ports ?? {}).flatMap(([port, b]) => (b ?? []).map((x) => ({ port, ...x })));
                if (dyno === "router.1") {
                    const ip = app === "beta" ? "127.0.0.2" : "127.0.0.1";
                    const hostPort = new URL(apps[app as keyof typeof apps].url).port;
                    assert.deepEqual(bindings, [{ port: "80/tcp", HostIp: ip, HostPort: hostPort }], `${app} router: HostConfig.PortBindings`);
                    assert.deepEqual(published, [{ port: "80/tcp", HostIp: ip, HostPort: hostPort }], `${app} router: NetworkSettings.Ports`);
                } else {
                    assert.deepEqual(bindings, [], `${app} ${dyno}: nothing published (HostConfig.PortBindings)`);
                    assert.deepEqual(published, [], `${app} ${dyno}: nothing published (NetworkSettings.Ports)`);
                }
                assert.equal(hc.Privileged, false, `${app} ${dyno} not privileged`);
                assert.deepEqual(hc.CapAdd ?? [], [], `${app} ${dyno} adds no capability`);
                assert.ok(!["host"].includes(hc.NetworkMode ?? "") && !hc.PidMode && !hc.IpcMode?.startsWith("host"), `${app} ${dyno}: no host namespaces`);
                const sources = [...(hc.Binds ?? []), ...(c.Mounts ?? []).map((m) => `${m.Source ?? ""}:${m.Destination}`)];
                assert.ok(!sources.some((s) => /docker\.sock/.test(s)), `${app} ${dyno} does not mount the Docker socket: ${sources.join(", ")}`);
                assert.ok((c.Mounts ?? []).every((m) => m.Type === "volume"), `${app} ${dyno}: only named volumes, no host paths`);
                seen.push(`${app}/${dyno} ${published.map((p) => `${p.HostIp}:${p.HostPort}->${p.port}`).join(",") || "unpublished"} privileged=${hc.Privileged}`);
            }
        }
        process.stdout.write(`# containers: ${seen.join("; ")}\n`);
    });

    test("each app has its own network: alpha's dyno cannot reach beta's Postgres by name or IP, and the reverse", async (t) => {
        assert.ok(apps.beta.url, "the apps are deployed");
        const alpha = await containersOf(apps.alpha.stack);
        const beta = await containersOf(apps.beta.stack);
        const netOf = (c: Inspect) => Object.keys(c.NetworkSettings.Networks);
        assert.deepEqual(netOf(alpha.get("web.1")!), [dockerName.network("alpha", apps.alpha.stack)]);
        assert.deepEqual(netOf(beta.get("postgres.1")!), [dockerName.network("beta", apps.beta.stack)]);
        for (const [app, own, other] of [["alpha", alpha, beta], ["beta", beta, alpha]] as const) {
            const otherPg = other.get("postgres.1")!;
            const otherName = otherPg.Name.replace(/^\//, "");
            const otherIp = containerIp(otherPg);
            const ownIp = containerIp(own.get("postgres.1")!);
            assert.ok(otherIp && ownIp && otherIp !== ownIp);
            const r = await probeFrom(own.get("web.1")!.Id, ["postgres", ownIp, otherName, otherIp]);
            process.stdout.write(`# from ${app}'s web.1: ${JSON.stringify(r)}\n`);
            assert.equal(r.postgres, "connected", `${app} reaches its own Postgres by its alias (so the probe works)`);
            assert.equal(r[ownIp], "connected", `${app} reaches its own Postgres by IP`);
            assert.match(r[otherName], /^(ENOTFOUND|EAI_AGAIN)$/, `${app} cannot resolve the other app's Postgres container name`);
            assert.match(r[otherIp], /^(timeout after 3 s|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH)$/, `${app} cannot connect to the other app's Postgres IP`);
        }
    });

    test("dynos and add-on servers run as non-root users", async (t) => {
        assert.ok(apps.beta.url, "the apps are deployed");
        const alpha = await containersOf(apps.alpha.stack);
        const report: string[] = [];
        const web = alpha.get("web.1")!;
        assert.equal(web.Config.User, "1000", "built app images run as USER 1000");
        const webProcs = await processUsers(web.Id);
        assert.ok(webProcs.some((p) => p.comm === "node"), JSON.stringify(webProcs));
        for (const p of webProcs) assert.notEqual(p.uid, 0, `web.1: ${p.comm} (pid ${p.pid}) is not root`);
        assert.equal((await execIn(web.Id, "id -u")).trim(), "1000");
        report.push(`web.1 User=${web.Config.User}: ${webProcs.map((p) => `${p.comm}=${p.uid}`).join(" ")}`);

        const cache = alpha.get("cache.1")!;
        assert.equal(cache.Config.User, "redis");
        const redisProcs = await processUsers(cache.Id);
        assert.ok(redisProcs.some((p) => p.comm === "redis-server"), JSON.stringify(redisProcs));
        for (const p of redisProcs) assert.notEqual(p.uid, 0, `redis: ${p.comm} (pid ${p.pid}) is not root`);
        report.push(`redis User=${cache.Config.User}: ${redisProcs.map((p) => `${p.comm}=${p.uid}`).join(" ")}`);

        // Postgres starts as root only to chown a fresh data volume, then drops to `postgres`
        // (setpriv/gosu); docker-init (pid 1) stays root, and Docker runs the health check
        // (`sh -c pg_isready ...`, every second) as the container's user.
        const pg = alpha.get("postgres.1")!;
        const pgProcs = await processUsers(pg.Id);
        const servers = pgProcs.filter((p) => p.comm === "postgres");
        assert.ok(servers.length >= 1, JSON.stringify(pgProcs));
        const pgUid = Number((await execIn(pg.Id, "id -u postgres")).trim());
        assert.ok(pgUid > 0);
        for (const p of servers) assert.equal(p.uid, pgUid, `postgres: server process ${p.pid} runs as postgres`);
        const pgRoot = pgProcs.filter((p) => p.uid === 0 && !["docker-init", "sh", "pg_isready"].includes(p.comm));
        assert.deepEqual(pgRoot, [], "root in the postgres container: only docker-init and the health check");
        report.push(`postgres User=${pg.Config.User || "(root)"}: ${pgProcs.map((p) => `${p.comm}=${p.uid}`).join(" ")}`);

        // nginx: the master binds port 80 as root and runs its workers as www-data.
        const router = alpha.get("router.1")!;
        const routerProcs = await processUsers(router.Id);
        const workers = routerProcs.filter((p) => p.comm === "nginx" && p.uid !== 0);
        assert.ok(workers.length >= 1, `nginx workers are not root: ${JSON.stringify(routerProcs)}`);
        // Root there: docker-init, the nginx master, and the config sync loop (sh, sleep, its
        // once-a-second getent, and the sync script itself while a run of it is caught: its name,
        // as the kernel keeps 15 characters).
        const rootProcs = routerProcs.filter((p) => p.uid === 0);
        assert.equal(rootProcs.filter((p) => p.comm === "nginx").length, 1, "only the nginx master is root");
        const syncLoop = ["sh", "sleep", "getent", path.basename(ROUTER_SYNC).slice(0, 15)];
        assert.deepEqual([...new Set(rootProcs.map((p) => p.comm))].filter((c) => !["docker-init", "nginx", ...syncLoop].includes(c)), [], "no other root process");
        report.push(`router User=${router.Config.User || "(root)"}: ${routerProcs.map((p) => `${p.comm}=${p.uid}`).join(" ")}`);
        process.stdout.write(`# users: ${report.join("; ")}\n`);
    });
});
