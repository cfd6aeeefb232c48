import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { test } from "node:test";
import { describeLive } from "../support/engines";
import autocannon from "autocannon";
import YAML from "yaml";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import type { ReleaseRecord } from "../../infra/release";
import { deployOnce, usageLine } from "../support/cli";
import { dynoContainers } from "../support/app-project";
import { ROUTER_LOAD } from "../support/load";
import { eventually } from "../support/poll";

// A rollout that cannot go wrong, through the real CLI, Pulumi and Docker, under load through the
// router: a release whose web dynos fail their HTTP check, a release command that exits 1, and a
// worker that crashes on boot each end with exit 1 and one line, the previous release serving
// every request, and the failed release in `releases` with its reason and log lines.

const FILES: Record<string, string> = {
    Procfile: "web: node server.js\nworker: node worker.js\nrelease: node release.js\n",
    "package.json": JSON.stringify({ name: "rollout", version: "1.0.0", private: true }) + "\n",
    "app.json": JSON.stringify(
        {
            formation: { web: { quantity: 2 }, worker: { quantity: 1 } },
            healthchecks: {
                web: [{ type: "startup", path: "/health", attempts: 3, wait: 1, timeout: 2 }],
                // A command check: the worker says it is ready (a slow start under load is not taken for a boot).
                worker: [{ command: ["test", "-f", "/tmp/worker-ready"], attempts: 60, wait: 1 }],
            },
        },
        null,
        2,
    ) + "\n",
    "server.js": [
        '"use strict";',
        'const http = require("http");',
        "const status = Number(process.env.HEALTH_STATUS || 200);",
        "const server = http.createServer((req, res) => {",
        '  if (req.url === "/health") {',
        "    if (status !== 200) console.log(`health check answered ${status} on purpose`);",
        "    res.statusCode = status;",
        "    return res.end(String(status));",
        "  }",
        '  res.end(`${process.env.DYNO} ${process.env.GREETING || "hello"}`);',
        "});",
        "server.listen(process.env.PORT, () => console.log(`listening on ${process.env.PORT}`));",
        'process.on("SIGTERM", () => server.close(() => process.exit(0)));',
        "",
    ].join("\n"),
    "worker.js": [
        "if (process.env.CRASH_WORKER) {",
        '  console.log("worker: CRASH_WORKER is set, crashing on boot");',
        "  process.exit(4);",
        "}",
        'require("fs").writeFileSync("/tmp/worker-ready", "");',
        'console.log("worker up");',
        "const timer = setInterval(() => {}, 1000);",
        'process.on("SIGTERM", () => clearInterval(timer));',
        "",
    ].join("\n"),
    "release.js": [
        "if (process.env.FAIL_RELEASE) {",
        '  console.log("release: FAIL_RELEASE is set, failing on purpose");',
        "  process.exit(1);",
        "}",
        'console.log("release: ok");',
        "",
    ].join("\n"),
};

const shared = deployOnce("rollout", { files: FILES });

function url(): string {
    return `http://127.0.0.1:${shared.settings.routerPort}`;
}

/** Runs a CLI command while autocannon sends requests through the router, from before it starts until it ends. */
async function underLoad(args: string[]) {
    let instance: autocannon.Instance | undefined;
    let answered = 0;
    const load = new Promise<autocannon.Result>((resolve, reject) => {
        instance = autocannon({ url: `${url()}/`, ...ROUTER_LOAD, duration: 900 }, (err, res) => (err ? reject(err) : resolve(res)));
        instance.on("response", () => answered++);
    });
    // The load is running before the command starts: its first answers are in.
    await eventually(() => answered >= 8, 30_000, "the load generator to get answers", 20);
    const r = await shared.project.cli([...args, "--stack", shared.stack]);
    instance!.stop();
    const result = await load;
    process.stderr.write(
        `# ${args.join(" ")} under load: ${result.requests.total} requests, ${result.non2xx} non-2xx, ` +
            `${result.errors} errors, ${result.timeouts} timeouts, p99 ${result.latency.p99} ms\n`,
    );
    return { r, result };
}

async function releases(): Promise<ReleaseRecord[]> {
    const r = await shared.project.cli(["releases", "--json", "--stack", shared.stack]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ReleaseRecord[];
}

async function body(): Promise<string> {
    const res = await fetch(`${url()}/`);
    assert.equal(res.status, 200);
    return res.text();
}

function lastLine(stderr: string): string {
    return stderr.trimEnd().split("\n").pop()!;
}

/** Release labels of the running dynos of a type. */
async function runningReleases(type: string): Promise<string[]> {
    const list = await connectDocker().listContainers({
        filters: { label: [`${LABEL.stack}=${shared.stack}`, `${LABEL.processType}=${type}`], status: ["running"] },
    });
    return list.filter((c) => c.Labels[LABEL.role] === "dyno").map((c) => c.Labels[LABEL.release]);
}

function assertNoFailedRequest(result: autocannon.Result) {
    assert.ok(result.requests.total > 50, `the load generator ran (${result.requests.total} requests)`);
    assert.equal(result.errors, 0, "no failed request");
    assert.equal(result.timeouts, 0, "no timeout");
    assert.equal(result.non2xx, 0, "no non-2xx answer");
}

describeLive("a rollout that cannot go wrong", { concurrency: false }, () => {
    test("a release whose web dynos fail their HTTP check: rolled back under load, 0 failed requests, recorded as failed", async (t) => {
        await shared.deployed();
        const before = await dynoContainers(shared.stack, "web");
        const releasesBefore = await releases();
        const webRelease = await runningReleases("web");
        const workerRelease = await runningReleases("worker");
        const { r, result } = await underLoad(["config:set", "HEALTH_STATUS=500", "GREETING=broken"]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(
            lastLine(r.stderr),
            /^dynoform: release v\d+ failed and was rolled back: dyno web\.1 failed its health check GET \/health: HTTP 500, expected 2xx or 3xx \(3 attempts 1 s apart\); v\d+ kept serving/,
        );
        assertNoFailedRequest(result);
        assert.match(await body(), /^web\.\d hello$/, "the previous release serves");
        assert.deepEqual(await runningReleases("web"), webRelease, "every web dyno runs the previous release");
        assert.deepEqual(await dynoContainers(shared.stack, "web"), before, "no web dyno was stopped or replaced");
        // The worker passed its (default) check and was replaced on the way: it was put back.
        assert.deepEqual(await runningReleases("worker"), workerRelease, "the worker runs the previous release");
        const after = await releases();
        assert.equal(after.length, releasesBefore.length + 1, "the failed release is listed");
        const failed = after[0];
        assert.equal(failed.status, "failed");
        assert.match(failed.description, /Set (GREETING, HEALTH_STATUS|HEALTH_STATUS, GREETING) config vars/);
        assert.match(failed.reason!, /dyno web\.1 failed its health check GET \/health: HTTP 500/);
        assert.ok(failed.logLines!.some((l) => /health check answered 500 on purpose/.test(l)), `log lines: ${failed.logLines!.join(" | ")}`);
        const human = await shared.project.cli(["releases", "--stack", shared.stack]);
        assert.match(human.stdout, new RegExp(`v${failed.version}  Set \\S+, \\S+ config vars \\(failed: dyno web\\.1 failed its health check`));
        assert.match(human.stdout, new RegExp(`v${releasesBefore[0].version}\\* `), "the previous release is marked current");
        assert.doesNotMatch(shared.project.readStack(shared.stack), /HEALTH_STATUS/, "the stack file is as it was");

        // The next `up` does not loop on the broken release: nothing to do, the same release serves.
        const up = await shared.project.cli(["up", "--yes", "--stack", shared.stack]);
        assert.equal(up.code, 0, up.stderr);
        assert.match(up.stdout, new RegExp(`release v${releasesBefore[0].version} `));
        assert.deepEqual(await dynoContainers(shared.stack, "web"), before, "still the same web dynos");
    });

    test("a release phase that exits 1: rolled back under load, 0 failed requests, recorded as failed", async (t) => {
        await shared.deployed();
        const before = await dynoContainers(shared.stack);
        const current = (await releases()).find((x) => x.status !== "failed")!;
        const { r, result } = await underLoad(["config:set", "FAIL_RELEASE=1", "GREETING=never"]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(lastLine(r.stderr), /^dynoform: release v\d+ failed and was rolled back: release command `node release\.js` failed with exit code 1/);
        assertNoFailedRequest(result);
        assert.match(await body(), /^web\.\d hello$/);
        assert.deepEqual(await dynoContainers(shared.stack), before, "no dyno rolled");
        const [failed, ...rest] = await releases();
        assert.equal(failed.status, "failed");
        assert.match(failed.reason!, /release command `node release\.js` failed with exit code 1/);
        assert.ok(failed.logLines!.some((l) => /FAIL_RELEASE is set, failing on purpose/.test(l)), `log lines: ${failed.logLines!.join(" | ")}`);
        assert.equal(rest.find((x) => x.status !== "failed")!.version, current.version, "the current release is unchanged");
    });

    test("a worker release that crashes on boot: the previous workers keep running, web keeps serving", async (t) => {
        await shared.deployed();
        const worker = (await dynoContainers(shared.stack, "worker")).get("worker.1")!;
        const workerRelease = await runningReleases("worker");
        const webRelease = await runningReleases("web");
        const { r, result } = await underLoad(["config:set", "CRASH_WORKER=1"]);
        assert.equal(r.code, 1, r.stderr);
        assert.match(lastLine(r.stderr), /^dynoform: release v\d+ failed and was rolled back: dyno worker\.1 (crashed while booting|exited with code 4|failed its health check)/);
        assertNoFailedRequest(result);
        const info = await connectDocker().getContainer(worker).inspect();
        assert.equal(info.State.Running, true, "the previous worker still runs");
        assert.equal(info.RestartCount, 0, "and was never restarted");
        assert.deepEqual(await runningReleases("worker"), workerRelease);
        assert.deepEqual(await runningReleases("web"), webRelease, "web dynos replaced on the way were put back");
        const [failed] = await releases();
        assert.equal(failed.status, "failed");
        assert.ok(failed.logLines!.some((l) => /CRASH_WORKER is set, crashing on boot/.test(l)), `log lines: ${failed.logLines!.join(" | ")}`);
    });

    test("a bad healthchecks value: one line naming the field, file and line, exit 2, nothing changed", async (t) => {
        await shared.deployed();
        const file = path.join(shared.project.dir, "app", "app.json");
        const good = fs.readFileSync(file, "utf8");
        const before = await dynoContainers(shared.stack);
        try {
            fs.writeFileSync(file, good.replace('"attempts": 3', '"attempts": 0'));
            const r = await shared.project.cli(["up", "--yes", "--stack", shared.stack]);
            const line = usageLine(r);
            assert.match(line, /app\.json:\d+: `healthchecks\.web\[0\]\.attempts`: expected a whole number from 1 to 100, got 0/);
        } finally {
            fs.writeFileSync(file, good);
        }
        // The same checks in the stack file (dynoform:healthchecks): the file and the value's line.
        const stackFile = path.join(shared.project.dir, "stacks", `Pulumi.${shared.stack}.yaml`);
        const text = fs.readFileSync(stackFile, "utf8");
        try {
            const doc = YAML.parse(text) as { config: Record<string, unknown> };
            doc.config["dynoform:healthchecks"] = { web: [{ path: "/health", wait: -1 }] };
            const bad = YAML.stringify(doc);
            fs.writeFileSync(stackFile, bad);
            const r = await shared.project.cli(["up", "--yes", "--stack", shared.stack]);
            const line = usageLine(r);
            const expected = bad.split("\n").findIndex((l) => /wait: -1/.test(l)) + 1;
            assert.match(line, new RegExp(`Pulumi\\.${shared.stack}\\.yaml:${expected}: \`dynoform:healthchecks\\.web\\.0\\.wait\`: expected a whole number from 0 to 3600 \\(seconds\\), got -1`));
        } finally {
            fs.writeFileSync(stackFile, text);
        }
        assert.deepEqual(await dynoContainers(shared.stack), before);
    });
});
