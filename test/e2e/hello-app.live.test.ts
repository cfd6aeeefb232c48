import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { after, before, test } from "node:test";
import autocannon from "autocannon";
import { connectDocker } from "../../infra/docker/client";
import { dynoContainers } from "../support/app-project";
import { helloOnce } from "../support/hello-fixture";
import { ROUTER_LOAD, clock, failedAnswersLine, routerDiagnostics, watchFailedAnswers } from "../support/load";
import { eventually } from "../support/poll";
import { describeLive } from "../support/engines";

// examples/hello deployed for real through the `dynoform` CLI: router, Postgres, Redis, worker,
// release phase, scaling, resizing, a rolling config change under load and a failing release.
// Add-on data through faults and destroy: test/reliability/data.test.ts.
const hello = helloOnce();

async function get(path = "/"): Promise<{ status: number; body: string }> {
    const res = await fetch(`${hello.url}${path}`);
    return { status: res.status, body: await res.text() };
}

function visitOf(body: string): number {
    const m = /visit (\d+)/.exec(body);
    assert.ok(m, `page shows a visit count: ${body}`);
    return Number(m[1]);
}

describeLive("examples/hello on real Docker and Pulumi, through the CLI", { concurrency: false }, () => {
    test("up deploys the app: 200 through the router, visits counted in Postgres, jobs consumed from Redis", async (t) => {
        const r = (await hello.deployed()).up;
        assert.match(r.stderr, /release: schema ready|ReleasePhase/, "the release phase ran");
        const first = await get();
        assert.equal(first.status, 200);
        const second = await get();
        assert.equal(visitOf(second.body), visitOf(first.body) + 1, "the count comes from Postgres");
        await eventually(
            async () => Number(/jobs done by workers (\d+)/.exec((await get()).body)?.[1] ?? 0) >= 1,
            30_000,
            "a worker to consume a job from Redis",
            500,
        );
    });

    test("scale web 1 -> 3 -> 1 starts and stops only the difference", async (t) => {
        const before = await dynoContainers(hello.project.stack, "web");
        assert.deepEqual([...before.keys()], ["web.1"]);
        let r = await hello.project.cli(["ps:scale", "web=3"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /web: 1 -> 3 \(\+2\)/);
        const three = await dynoContainers(hello.project.stack, "web");
        assert.deepEqual([...three.keys()].sort(), ["web.1", "web.2", "web.3"]);
        assert.equal(three.get("web.1"), before.get("web.1"), "web.1 untouched");
        const seen = new Set<string>();
        for (let i = 0; i < 12; i++) seen.add(/from (web\.\d)/.exec((await get()).body)?.[1] ?? "");
        assert.deepEqual([...seen].sort(), ["web.1", "web.2", "web.3"], "the router spreads requests over all web dynos");

        r = await hello.project.cli(["ps:scale", "web=1"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /web: 3 -> 1 \(-2\)/);
        const one = await dynoContainers(hello.project.stack, "web");
        assert.deepEqual([...one.keys()], ["web.1"]);
        assert.equal(one.get("web.1"), before.get("web.1"), "web.1 still untouched");
        assert.equal((await get()).status, 200);
    });

    test("resize in place: same container, same start time, new memory limit", async (t) => {
        const docker = connectDocker();
        const id = (await dynoContainers(hello.project.stack, "web")).get("web.1")!;
        const beforeInfo = await docker.getContainer(id).inspect();
        assert.equal(beforeInfo.HostConfig.Memory, 512 * 2 ** 20);
        const r = await hello.project.cli(["ps:resize", "web=standard-2x"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /web: standard-1x -> standard-2x \(resize in place\)/);
        const afterInfo = await docker.getContainer(id).inspect();
        assert.equal(afterInfo.HostConfig.Memory, 1024 * 2 ** 20);
        assert.equal(afterInfo.HostConfig.CpuShares, 2048);
        assert.equal(afterInfo.State.StartedAt, beforeInfo.State.StartedAt, "not restarted");
        assert.equal(afterInfo.RestartCount, 0);
    });

    test("a config change rolls the dynos with no failed request under load", async (t) => {
        const countBefore = visitOf((await get()).body);
        const idsBefore = await dynoContainers(hello.project.stack);
        // Load from before the change until well after it: started, answered, then the change, then
        // 200 more answers (the old dynos and router workers are gone by then) before it stops.
        let answered = 0;
        let instance: autocannon.Instance | undefined;
        const loadStarted = Date.now();
        const load = new Promise<autocannon.Result>((resolve, reject) => {
            instance = autocannon({ url: `${hello.url}/health`, ...ROUTER_LOAD, duration: 600 }, (err, res) => (err ? reject(err) : resolve(res)));
            instance.on("response", () => answered++);
        });
        const failed = watchFailedAnswers(instance!);
        await eventually(() => answered >= 50, 30_000, "the load generator to get answers");
        const changeStarted = Date.now();
        const r = await hello.project.cli(["config:set", "GREETING=Howdy", "EXTRA=1"]);
        const changeEnded = Date.now();
        const answeredAtEnd = answered;
        await eventually(() => answered >= answeredAtEnd + 200, 30_000, "200 answers after the change");
        instance!.stop();
        const result = await load;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Config: 2 added \(EXTRA, GREETING\)|Config: 1 changed \(GREETING\), 1 added \(EXTRA\)/);
        process.stderr.write(
            `# rolling config change under load: ${result.requests.total} requests, ${result.non2xx} non-2xx, ` +
                `${result.errors} errors, ${result.timeouts} timeouts, p99 ${result.latency.p99} ms; ` +
                `config:set ${clock(changeStarted)} to ${clock(changeEnded)}; non-2xx: ${failedAnswersLine(failed)}\n`,
        );
        assert.ok(result.requests.total > 100, "the load generator ran");
        // A failure explains itself: which answers, when, and what the router and the dynos did then.
        const explain =
            result.non2xx + result.errors + result.timeouts > 0
                ? `\nconfig:set ran ${clock(changeStarted)} to ${clock(changeEnded)}; non-2xx: ${failedAnswersLine(failed)}\n` +
                  (await routerDiagnostics(hello.project.app, hello.project.stack, loadStarted))
                : "";
        assert.equal(result.non2xx, 0, `no non-2xx response${explain}`);
        assert.equal(result.errors, 0, `no failed request${explain}`);
        assert.equal(result.timeouts, 0, `no timeout${explain}`);
        const page = await get();
        assert.match(page.body, /^Howdy from web\.1/);
        assert.ok(visitOf(page.body) > countBefore, "Postgres data survived the redeploy");
        const idsAfter = await dynoContainers(hello.project.stack);
        for (const [dyno, id] of idsBefore) assert.notEqual(idsAfter.get(dyno), id, `${dyno} was replaced`);
        const releases = await hello.project.cli(["releases", "--json"]);
        const list = JSON.parse(releases.stdout) as Array<{ version: number; description: string }>;
        assert.equal(
            list.filter((x) => /GREETING/.test(x.description) && /EXTRA/.test(x.description)).length,
            1,
            "both vars in one release",
        );
    });

    test("a failing release command leaves the old release serving and the stack file as it was", async (t) => {
        const stackFile = path.join(hello.project.dir, "stacks", `Pulumi.${hello.project.stack}.yaml`);
        const fileBefore = fs.readFileSync(stackFile, "utf8");
        const idsBefore = await dynoContainers(hello.project.stack);
        const releasesBefore = JSON.parse((await hello.project.cli(["releases", "--json"])).stdout) as unknown[];
        const r = await hello.project.cli(["config:set", "FAIL_RELEASE=1", "GREETING=Broken"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /release command `node release\.js` failed with exit code 3/);
        assert.match(r.stderr, /FAIL_RELEASE=1, failing on purpose/, "the release output is shown");
        assert.deepEqual(await dynoContainers(hello.project.stack), idsBefore, "no dyno rolled");
        assert.match((await get()).body, /^Howdy from web\.1/, "the old release still serves");
        assert.equal(fs.readFileSync(stackFile, "utf8"), fileBefore, "stack file restored");
        const releasesAfter = JSON.parse((await hello.project.cli(["releases", "--json"])).stdout) as Array<{ status?: string }>;
        assert.equal(releasesAfter.length, releasesBefore.length + 1, "the failed release is recorded");
        assert.equal(releasesAfter[0].status, "failed", "as failed");
    });
});
