import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { test } from "node:test";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { containersWith } from "../support/harness";
import { cliProject, CliResult, deployOnce, TINY_APP, tinyStack, usageLine } from "../support/cli";
import { eventually } from "../support/poll";
import { describeLive } from "../support/engines";

// What `ps` and `releases` say, through the real CLI on real Docker and Pulumi: scaling and
// resizing are not releases (as on Heroku), `ps` reads a dyno's size from the limits it runs
// with and shows an OOM kill as Heroku's R15 with its time, an add-on's plan says it makes a
// release, and `router` (the router's own name) is refused as a Procfile type.

/** Waits 1.5 s (past the boot check), then allocates 16 MiB Buffers until the kernel kills it. */
const HOG = `node -e "setTimeout(() => { const a = []; setInterval(() => a.push(Buffer.alloc(16 << 20, 1)), 20); }, 1500)"`;
/** Exits 3 after 1.5 s: a crash Docker restarts. */
const CRASHER = `node -e "setTimeout(() => process.exit(3), 1500)"`;
// An app name of its own: the image tag dynoform/<app>:<hash> is not shared with other tests.
const shared = deployOnce("ps", { files: { ...TINY_APP, Procfile: `${TINY_APP.Procfile}hog: ${HOG}\ncrasher: ${CRASHER}\n` }, settings: { app: "pstiny" } });

async function ok(...args: string[]): Promise<CliResult> {
    const r = await shared.project.cli([...args, "--stack", shared.stack]);
    assert.equal(r.code, 0, `dynoform ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r;
}

const releases = async () => JSON.parse((await ok("releases", "--json")).stdout) as Array<{ version: number; description: string }>;

interface PsEntry {
    dyno: string;
    state: string;
    size: string;
    restarts: number;
    error?: string;
    oomKilledAt?: string;
    oomKills?: number;
    lastStop?: { reason: string; exitCode: number; error?: string; restartedByDocker: boolean };
    usage?: { memoryMb: number; limitMb: number; memoryPercent: number; cpuPercent: number };
}
const ps = async () => JSON.parse((await ok("ps", "--json")).stdout) as PsEntry[];

/**
 * Whether Docker has restarted a dyno's container (after an OOM kill or a crash): polled through
 * Docker, which is cheap, before `ps` (about 1 CPU-s a run) is asked what it shows.
 */
async function restartedByDocker(dyno: string): Promise<boolean> {
    const [c] = await containersWith({ [LABEL.stack]: shared.stack, [LABEL.dyno]: dyno });
    return c !== undefined && (await connectDocker().getContainer(c.Id).inspect()).RestartCount >= 1;
}

describeLive("ps and releases", { concurrency: false }, () => {
    test("ps:scale makes no release; the plan says so; ps shows the formation", async (t) => {
        await shared.deployed();
        const before = await releases();
        assert.deepEqual(before.map((r) => r.version), [1]);

        const file = path.join(shared.project.dir, "stacks", `Pulumi.${shared.stack}.yaml`);
        const original = fs.readFileSync(file);
        await ok("ps:scale", "web=2", "--no-up");
        assert.match((await ok("preview")).stdout, /^Release: v1 \(a formation change is not a release\)$/m);
        fs.writeFileSync(file, original);

        const scale = await ok("ps:scale", "web=2");
        assert.match(scale.stderr, /Release: v1 \(a formation change is not a release\)/);
        assert.match(scale.stdout, /release v1 /);
        assert.match((await ok("ps")).stdout, /=== web \(standard-1x\): 2 dynos/);
        await ok("ps:scale", "web=1");
        assert.deepEqual((await releases()).map((r) => r.version), [1], "no release for scaling");
    });

    test("ps after ps:resize says the size the containers run with; the resize is not a release", async (t) => {
        await shared.deployed();
        const versions = (await releases()).map((r) => r.version);
        await ok("ps:resize", "web=standard-2x");
        const [web] = await containersWith({ [LABEL.stack]: shared.stack, [LABEL.dyno]: "web.1" });
        const info = await connectDocker().getContainer(web.Id).inspect();
        assert.equal(info.HostConfig.Memory, 1024 * 2 ** 20);
        assert.equal(info.HostConfig.CpuShares, 2048);
        assert.match((await ok("ps")).stdout, /^=== web \(standard-2x\): 1 dyno$/m);
        assert.deepEqual((await ps()).map((d) => `${d.dyno}:${d.size}`), ["web.1:standard-2x"]);
        assert.deepEqual((await releases()).map((r) => r.version), versions, "no release for resizing");
    });

    test("an OOM-killed dyno: ps and ps --json show R15 with the time of the kill", async (t) => {
        await shared.deployed();
        const started = Date.now();
        await ok("ps:scale", "hog=1:custom-128mb");
        try {
            await eventually(() => restartedByDocker("hog.1"), 60_000, "hog.1 restarted by Docker (after its first OOM kill)", 100);
            const hog = await eventually(async () => (await ps()).find((d) => d.dyno === "hog.1" && d.oomKilledAt), 60_000, "hog.1 OOM-killed in ps --json");
            assert.equal(hog.error, "R15");
            assert.equal(hog.size, "custom-128mb");
            assert.ok(hog.oomKills! >= 1);
            const at = Date.parse(hog.oomKilledAt!);
            assert.ok(at >= started - 1000 && at <= Date.now(), `${hog.oomKilledAt} is during this test`);
            // The hog keeps being killed: the text shows the latest kill, at or after the one above.
            const text = (await ok("ps")).stdout;
            const m = /^hog\.1: \w+ .*\(R15: memory quota vastly exceeded, OOM-killed at (\d\d):(\d\d):(\d\d)/m.exec(text);
            assert.ok(m, text);
            const shown = new Date(at);
            shown.setHours(Number(m[1]), Number(m[2]), Number(m[3]), 999);
            assert.ok(shown.getTime() >= at && shown.getTime() <= Date.now() + 1000, `${m[0]}: not the kill at ${hog.oomKilledAt} or a later one`);
            // Why it last stopped: the kill for memory, and Docker restarting it.
            const stopped = await eventually(async () => (await ps()).find((d) => d.dyno === "hog.1" && d.lastStop?.reason === "oom-killed"), 60_000, "hog.1's last stop an OOM kill");
            assert.equal(stopped.lastStop!.error, "R15");
            assert.equal(stopped.lastStop!.restartedByDocker, true);
            assert.match((await ok("ps")).stdout, /^hog\.1: .*last stop \d\d:\d\d:\d\d: R15 OOM-killed \(exit 137\), restarted by Docker/m);
        } finally {
            await ok("ps:scale", "hog=0");
        }
        assert.deepEqual((await releases()).map((r) => r.version), [1]);
    });

    test("ps: each running dyno's memory and CPU use against its size; a crashed dyno's exit code and Docker's restart", async (t) => {
        await shared.deployed();
        const web = (await ps()).find((d) => d.dyno === "web.1");
        assert.ok(web?.usage, JSON.stringify(web));
        assert.equal(web.usage.limitMb, web.size === "standard-2x" ? 1024 : 512);
        assert.ok(web.usage.memoryMb > 1 && web.usage.memoryMb < web.usage.limitMb, JSON.stringify(web.usage));
        assert.ok(web.usage.cpuPercent >= 0);
        assert.match((await ok("ps")).stdout, /^web\.1: up .*\[mem [\d.]+\/(512|1024) MiB [\d.]+%, cpu [\d.]+%\]/m);
        await ok("ps:scale", "crasher=1");
        try {
            await eventually(() => restartedByDocker("crasher.1"), 60_000, "crasher.1 restarted by Docker (after its first crash)", 100);
            const c = await eventually(async () => (await ps()).find((d) => d.dyno === "crasher.1" && d.lastStop?.reason === "crashed"), 60_000, "crasher.1 crashed in ps --json");
            assert.equal(c.lastStop!.exitCode, 3);
            assert.equal(c.error, undefined, "a crash is not an OOM kill");
            assert.match((await ok("ps")).stdout, /^crasher\.1: .*last stop \d\d:\d\d:\d\d: crashed with exit 3/m);
        } finally {
            await ok("ps:scale", "crasher=0");
        }
    });

    test("addons:create: the plan names the add-on and the release it makes", async (t) => {
        await shared.deployed();
        const file = path.join(shared.project.dir, "stacks", `Pulumi.${shared.stack}.yaml`);
        const original = fs.readFileSync(file);
        try {
            await ok("addons:create", "redis", "--no-up");
            const preview = (await ok("preview")).stdout;
            assert.match(preview, /^Add-ons: redis as REDIS_URL attached$/m);
            assert.match(preview, /^Release: v1 -> v2$/m);
        } finally {
            fs.writeFileSync(file, original);
        }
    });
});

describeLive("reserved process type names", () => {
    test("a Procfile type named router is refused by preview and up with file and line; nothing is created", async (t) => {
        const project = await cliProject("psrouter", { files: { ...TINY_APP, Procfile: "web: node server.js\nrouter: node server.js\n" } });
        try {
            const stack = project.stackName("s");
            project.writeStack(stack, await tinyStack());
            for (const verb of [["preview"], ["up", "--yes"]]) {
                const line = usageLine(await project.cli([...verb, "--stack", stack]));
                assert.match(line, /Procfile:2: `Procfile line 2`: process type name "router" is reserved for the app's HTTP router/);
            }
            assert.deepEqual(await containersWith({ [LABEL.stack]: stack }), []);
        } finally {
            await project.cleanup();
        }
    });
});
