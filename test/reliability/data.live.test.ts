import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ADDON_LABEL } from "../../components/addon";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { dynoContainers } from "../support/app-project";
import { helloOnce } from "../support/hello-fixture";
import { containersWith } from "../support/harness";
import { fetchPage, postgresContainer, until200, visit, visitsSnapshot, VisitsSnapshot } from "../support/hello-data";
import { describeLive } from "../support/engines";

// Postgres data written through examples/hello (one `visits` row per GET /) survives a redeploy,
// a resize, the add-on container's replacement, and destroy + up; deleting it takes both
// --delete-addon-data and --confirm <app>. Each check reads the rows from Postgres itself (psql
// in the add-on) and compares them, content and all, with what was there before.
// No worker: the data lives in Postgres, written by web dynos (fewer containers, a faster file).
const hello = helloOnce({ config: { formation: { web: { quantity: 1, size: "standard-1x" }, worker: { quantity: 0, size: "standard-1x" } } } });
const deploy = () => hello.deployed();

const log = (line: string) => process.stderr.write(`# data: ${line}\n`);

/** Writes `n` visits through the app and returns the rows Postgres then holds. */
async function writeVisits(n: number): Promise<VisitsSnapshot> {
    const before = await visitsSnapshot(hello.project.stack);
    for (let i = 1; i <= n; i++) assert.equal(await visit(hello.url), before.count + i, "each visit adds one row");
    const after = await visitsSnapshot(hello.project.stack);
    assert.equal(after.count, before.count + n);
    return after;
}

/** The rows written before are all there, unchanged, and the app counts them (a new visit is the next number). */
async function assertKept(before: VisitsSnapshot, what: string): Promise<void> {
    assert.deepEqual(await visitsSnapshot(hello.project.stack, before.maxId), before, `rows written before ${what} are unchanged`);
    const now = await visitsSnapshot(hello.project.stack);
    assert.equal(await visit(hello.url), now.count + 1, `the app after ${what} counts the ${now.count} rows already there`);
    log(`${what}: ${before.count} rows kept (digest ${before.digest.slice(0, 8)}), app shows visit ${now.count + 1}`);
}

const volumeName = (addon: string) => `${hello.project.app}.${hello.project.stack}.${addon}-data`;
/** `docker volume inspect` of an add-on's data volume (CreatedAt tells a kept volume from a new one), or undefined. */
async function volume(addon: string): Promise<{ Name: string; CreatedAt: string } | undefined> {
    try {
        return (await connectDocker().getVolume(volumeName(addon)).inspect()) as unknown as { Name: string; CreatedAt: string };
    } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
    }
}

/** Every container of the stack by name -> ID (dynos, add-ons, router). */
async function stackContainers(): Promise<Map<string, string>> {
    const list = await containersWith({ [LABEL.stack]: hello.project.stack });
    return new Map(list.map((c) => [c.Names[0], c.Id]));
}

describeLive("Postgres data written through the app survives redeploys, resizes, add-on replacement and destroy", { concurrency: false }, () => {
    test("a config change redeploys every dyno (new containers); the rows stay", async (t) => {
        await deploy();
        const written = await writeVisits(5);
        const dynosBefore = await dynoContainers(hello.project.stack);
        const pgBefore = await postgresContainer(hello.project.stack);
        const r = await hello.project.cli(["config:set", "GREETING=Redeployed"]);
        assert.equal(r.code, 0, r.stderr);
        const dynosAfter = await dynoContainers(hello.project.stack);
        assert.deepEqual([...dynosAfter.keys()].sort(), [...dynosBefore.keys()].sort());
        for (const [dyno, id] of dynosBefore) assert.notEqual(dynosAfter.get(dyno), id, `${dyno} is a new container`);
        assert.equal(await postgresContainer(hello.project.stack), pgBefore, "a config change leaves the add-on container alone");
        log(`redeploy: ${[...dynosBefore.keys()].map((d) => `${d} ${dynosBefore.get(d)!.slice(0, 12)} -> ${dynosAfter.get(d)!.slice(0, 12)}`).join(", ")}`);
        await assertKept(written, "the redeploy");
    });

    test("ps:resize changes the dynos' size; the rows stay", async (t) => {
        await deploy();
        const written = await writeVisits(3);
        const r = await hello.project.cli(["ps:resize", "web=standard-2x"]);
        assert.equal(r.code, 0, r.stderr);
        const docker = connectDocker();
        assert.deepEqual([...(await dynoContainers(hello.project.stack)).keys()], ["web.1"]);
        for (const id of (await dynoContainers(hello.project.stack)).values()) {
            assert.equal((await docker.getContainer(id).inspect()).HostConfig.Memory, 1024 * 2 ** 20, "resized to standard-2x");
        }
        await assertKept(written, "the resize");
    });

    test("the add-on container removed by hand is replaced by `up` (new ID, same volume); the rows stay", async (t) => {
        await deploy();
        const written = await writeVisits(4);
        const pgBefore = await postgresContainer(hello.project.stack);
        assert.ok(pgBefore);
        const volBefore = await volume("postgres");
        assert.ok(volBefore, "the postgres data volume exists");
        await connectDocker().getContainer(pgBefore).remove({ force: true });
        const refresh = await hello.project.cli(["refresh"]);
        assert.equal(refresh.code, 0, refresh.stderr);
        assert.match(refresh.stdout, /drift: hello-postgres-server is missing/);
        const r = await hello.project.cli(["up", "--yes"]);
        assert.equal(r.code, 0, r.stderr);
        const pgAfter = await postgresContainer(hello.project.stack);
        assert.ok(pgAfter && pgAfter !== pgBefore, "a new postgres container");
        const mounts = (await connectDocker().getContainer(pgAfter).inspect()).Mounts.map((m) => m.Name);
        assert.ok(mounts.includes(volumeName("postgres")), "the new container mounts the same volume");
        assert.equal((await volume("postgres"))!.CreatedAt, volBefore.CreatedAt, "the volume itself was not recreated");
        log(`add-on replaced: postgres ${pgBefore.slice(0, 12)} -> ${pgAfter.slice(0, 12)}, volume ${volumeName("postgres")} kept`);
        await until200(`${hello.url}/health`, 30_000);
        await assertKept(written, "the add-on replacement");
    });

    test("destroy refuses to delete add-on data without --confirm <app>: exit 2, nothing changed", async (t) => {
        await deploy();
        const containers = await stackContainers();
        const cases: Array<{ args: string[]; message: RegExp }> = [
            { args: ["destroy", "--delete-addon-data"], message: new RegExp(`destroy needs --confirm ${hello.project.app} when not run from a terminal`) },
            { args: ["destroy", "--delete-addon-data", "--confirm", "not-the-app"], message: /--confirm not-the-app does not match the app name hello/ },
        ];
        for (const c of cases) {
            const r = await hello.project.cli(c.args);
            log(`\`${c.args.join(" ")}\`: exit ${r.code}, ${JSON.stringify(r.stderr.trim())}`);
            assert.equal(r.code, 2, `${c.args.join(" ")} exits 2`);
            assert.match(r.stderr, c.message);
            assert.equal(r.stderr.trim().split("\n").length, 1, "one line");
            assert.deepEqual(await stackContainers(), containers, "every container is still there");
            assert.ok(await volume("postgres"), "the postgres volume stays");
            assert.ok(await volume("redis"), "the redis volume stays");
        }
        assert.equal((await fetchPage(`${hello.url}/health`))?.status, 200, "the app still answers");
    });

    test("destroy --confirm without --delete-addon-data keeps the volumes; the next up adopts them with the rows", async (t) => {
        await deploy();
        const written = await writeVisits(2);
        const volBefore = await volume("postgres");
        const r = await hello.project.cli(["destroy", "--confirm", hello.project.app]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /add-on data volumes were kept/);
        assert.equal((await containersWith({ [LABEL.stack]: hello.project.stack })).length, 0, "no container left");
        assert.equal((await volume("postgres"))?.CreatedAt, volBefore!.CreatedAt, "the postgres volume stays");
        assert.ok(await volume("redis"), "the redis volume stays");
        log(`destroy --confirm: exit 0, ${JSON.stringify(r.stdout.trim())}`);

        const up = await hello.project.cli(["up", "--yes"]);
        assert.equal(up.code, 0, up.stderr);
        assert.equal((await volume("postgres"))!.CreatedAt, volBefore!.CreatedAt, "the same volume, adopted");
        await until200(`${hello.url}/health`, 30_000);
        await assertKept(written, "destroy and a new up");
    });

    test("destroy --confirm <app> --delete-addon-data deletes the data volumes", async (t) => {
        await deploy();
        assert.ok(await volume("postgres"));
        const r = await hello.project.cli(["destroy", "--confirm", hello.project.app, "--delete-addon-data"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /add-on data volumes were deleted/);
        assert.equal(await volume("postgres"), undefined, "postgres volume gone");
        assert.equal(await volume("redis"), undefined, "redis volume gone");
        assert.equal((await containersWith({ [LABEL.stack]: hello.project.stack, [ADDON_LABEL]: "postgres" })).length, 0);
        log(`destroy --confirm ${hello.project.app} --delete-addon-data: exit 0, ${JSON.stringify(r.stdout.trim())}`);
    });
});
