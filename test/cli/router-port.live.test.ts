import assert from "node:assert/strict";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { after, before, test } from "node:test";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { containersWith, freePort } from "../support/harness";
import { CliProject, cliProject, CliResult, TINY_APP, tinyStack, usageLine } from "../support/cli";
import { describeLive } from "../support/engines";

// The router port through the real CLI on real Docker and Pulumi: a port held by another app's
// router or by another process is refused by preview and up before anything exists; moving the
// router to a busy port leaves the app answering on its old one; moving it to a free port starts
// the new router before the old one stops; a first up whose dynos fail leaves no router.

const APP = "rporttiny";
let project: CliProject;
/** The deployed stack and its router port. */
let first = "";
let port = 0;
const docker = connectDocker();

async function cli(stack: string, ...args: string[]): Promise<CliResult> {
    return project.cli([...args, "--stack", stack]);
}

/** Everything on the engine that belongs to a stack: containers, volumes and networks, by name. */
async function stackObjects(stack: string): Promise<string[]> {
    const containers = (await docker.listContainers({ all: true }))
        .filter((c) => c.Labels[LABEL.stack] === stack || c.Names.some((n) => n.includes(stack)))
        .map((c) => `container ${c.Names[0]}`);
    const volumes = ((await docker.listVolumes()).Volumes ?? [])
        .filter((v) => v.Labels?.[LABEL.stack] === stack || v.Name.includes(stack))
        .map((v) => `volume ${v.Name}`);
    const networks = (await docker.listNetworks())
        .filter((n) => n.Labels?.[LABEL.stack] === stack || n.Name.includes(stack))
        .map((n) => `network ${n.Name}`);
    return [...containers, ...volumes, ...networks].sort();
}

/** A plain TCP listener on 127.0.0.1:port held by this test process. */
function holdPort(p: number): Promise<net.Server> {
    return new Promise((resolve, reject) => {
        const server = net.createServer((s) => s.destroy());
        server.once("error", reject);
        server.listen(p, "127.0.0.1", () => resolve(server));
    });
}

/** GET http://127.0.0.1:p/ with a short timeout: the status, or 0 when nothing answers. */
async function status(p: number): Promise<number> {
    try {
        return (await fetch(`http://127.0.0.1:${p}/`, { signal: AbortSignal.timeout(2000) })).status;
    } catch {
        return 0;
    }
}

/** Polls ports every 50 ms while `during` runs; returns each sample's statuses. */
async function pollWhile<T>(ports: number[], during: Promise<T>): Promise<{ result: T; samples: number[][] }> {
    const samples: number[][] = [];
    let done = false;
    const polling = (async () => {
        while (!done) {
            samples.push(await Promise.all(ports.map(status)));
            await new Promise((r) => setTimeout(r, 50));
        }
    })();
    const result = await during.finally(() => (done = true));
    await polling;
    return { result, samples };
}

/** One line on stderr naming the port, a non-zero exit. */
function refusal(r: CliResult, p: number, holder: RegExp): void {
    assert.notEqual(r.code, 0, `expected a refusal, got exit 0:\n${r.stdout}\n${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
    assert.match(lines[0], new RegExp(`router port 127\\.0\\.0\\.1:${p} is already in use by `));
    assert.match(lines[0], holder);
    assert.match(lines[0], /dynoform router:port <port>/);
}

describeLive("the router port", { concurrency: false }, () => {
    before(async () => {
        project = await cliProject("rport", { files: TINY_APP });
        first = project.stackName("a");
        // An app name of its own: the image tag dynoform/<app>:<hash> is not shared with other tests.
        const settings = await tinyStack({ app: APP });
        port = settings.routerPort as number;
        project.writeStack(first, settings);
    });
    after(async () => {
        await project?.cleanup();
    });

    test("a second stack on the same port: preview and up refuse naming the other router; nothing is created", async (t) => {
        const up = await cli(first, "up", "--yes");
        assert.equal(up.code, 0, up.stderr);
        assert.equal(await status(port), 200);
        const second = project.stackName("b");
        project.writeStack(second, await tinyStack({ app: APP, routerPort: port }));
        const before = await stackObjects(second);
        assert.deepEqual(before, []);
        const holder = new RegExp(`the router of app ${APP} \\(stack ${first}\\)`);
        refusal(await cli(second, "preview"), port, holder);
        refusal(await cli(second, "up", "--yes"), port, holder);
        assert.deepEqual(await stackObjects(second), before, "no container, volume or network of the second stack");
        assert.equal(await status(port), 200, "the first app still answers");
    });

    test("a port held by another process: preview and up name that process; nothing is created", async (t) => {
        const busy = await freePort();
        const server = await holdPort(busy);
        try {
            const third = project.stackName("c");
            project.writeStack(third, await tinyStack({ app: APP, routerPort: busy }));
            const holder = new RegExp(`process ${process.pid} \\(node\\)`);
            refusal(await cli(third, "preview"), busy, holder);
            refusal(await cli(third, "up", "--yes"), busy, holder);
            assert.deepEqual(await stackObjects(third), []);
        } finally {
            server.close();
        }
    });

    test("a busy new port, by hand-edited stack file and up or by router:port: refused; the app answers on its old port throughout", async (t) => {
        const busy = await freePort();
        const server = await holdPort(busy);
        const fileBefore = project.readStack(first);
        const routers = async () => (await containersWith({ [LABEL.stack]: first, [LABEL.processType]: "router" })).map((c) => c.Id);
        const routerBefore = await routers();
        const restore = () => fs.writeFileSync(path.join(project.dir, "stacks", `Pulumi.${first}.yaml`), fileBefore);
        try {
            // The stack file edited by hand, then `up` (issue 12 item 5).
            project.writeStack(first, { app: APP, source: "app", routerPort: busy });
            const up = await pollWhile([port], cli(first, "up", "--yes"));
            assert.ok(up.samples.length > 0);
            assert.deepEqual(up.samples.filter(([s]) => s !== 200), [], "every request to the old port answered 200 during up");
            refusal(up.result, busy, new RegExp(`process ${process.pid} \\(node\\)`));
            assert.deepEqual(await routers(), routerBefore, "the old router is untouched");
            restore();

            const { result, samples } = await pollWhile([port], cli(first, "router:port", String(busy)));
            refusal(result, busy, new RegExp(`process ${process.pid} \\(node\\)`));
            assert.deepEqual(samples.filter(([s]) => s !== 200), [], "every request to the old port answered 200");
            assert.equal(project.readStack(first), fileBefore, "the stack file is unchanged");
            assert.deepEqual(await routers(), routerBefore);
            assert.equal(await status(port), 200);
        } finally {
            server.close();
            restore();
        }
    });

    test("router:port to a free port: the new router answers before the old one stops; router:port prints it", async (t) => {
        const next = await freePort();
        const { result, samples } = await pollWhile([port, next], cli(first, "router:port", String(next)));
        assert.equal(result.code, 0, result.stderr);
        assert.ok(samples.length > 10, `${samples.length} samples`);
        const gaps = samples.filter(([a, b]) => a !== 200 && b !== 200);
        assert.deepEqual(gaps, [], "at every sample one of the two ports answered 200");
        assert.equal(await status(next), 200);
        assert.equal(await status(port), 0, "the old router is gone");
        assert.match(project.readStack(first), new RegExp(`dynoform:routerPort: "${next}"`));
        assert.equal((await cli(first, "router:port")).stdout.trim(), String(next));
        assert.equal((await containersWith({ [LABEL.stack]: first, [LABEL.processType]: "router" })).length, 1);
        port = next;
    });

    test("router:port with a bad port: exit 2, one line, nothing changed", async (t) => {
        const fileBefore = project.readStack(first);
        for (const bad of ["0", "70000", "http"]) {
            assert.equal(usageLine(await cli(first, "router:port", bad)), `dynoform: router:port: \`${bad}\` is not a port from 1 to 65535`);
        }
        assert.equal(project.readStack(first), fileBefore);
    });

    test("a first up whose web dyno cannot boot leaves nothing half-made (no router, no dyno, no network)", async (t) => {
        const broken = project.stackName("d");
        project.writeStack(broken, await tinyStack({ app: APP, procfile: "web: echo no server here; exit 1\n" }));
        const up = await cli(broken, "up", "--yes");
        assert.notEqual(up.code, 0);
        assert.deepEqual(await containersWith({ [LABEL.stack]: broken, [LABEL.processType]: "router" }), [], "no router container");
        // Nothing half-made: no container or network of the stack, and an empty state.
        assert.match(up.stderr, /the first up failed: removed the \d+ resources it had created/);
        assert.deepEqual(await containersWith({ [LABEL.stack]: broken }), [], "no container of the stack");
        const networks = await connectDocker().listNetworks({ filters: { label: [`${LABEL.stack}=${broken}`] } });
        assert.deepEqual(networks.map((n) => n.Name), [], "no network of the stack");
        const ps = await cli(broken, "ps", "--json");
        assert.equal(ps.code, 0, ps.stderr);
    });
});
