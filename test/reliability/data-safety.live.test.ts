import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, test } from "node:test";
import YAML from "yaml";
import { connectDocker } from "../../infra/docker/client";
import { ADDON_LABEL, dockerName, LABEL, legacyDockerName } from "../../infra/docker/labels";
import { openStack } from "../../infra/engine/workspace";
import { VOLUME_TYPE } from "../../cli/addon-data";
import { AppProject } from "../support/app-project";
import { helloOnce, SharedHello } from "../support/hello-fixture";
import { runOnce } from "../support/docker";
import { postgresContainer, until200, visit, visitsSnapshot, VisitsSnapshot } from "../support/hello-data";
import { describeLive } from "../support/engines";

// Issue 12, items 1, 2 and 8, through the real CLI on examples/hello: after every path, each
// app's Postgres rows (count and md5 of every row, read with psql in the add-on) are exactly
// where they should be and nowhere else.
//
// Two apps whose names met under the old `<app>-<stack>` scheme: app `hello-q<h>` on stack
// `s<h>` (A) and app `hello` on stack `q<h>-s<h>` (B): both were `hello-q<h>-s<h>...`.
const h = crypto.randomBytes(3).toString("hex");
// A and B: copies of examples/hello, one web dyno, no worker.
const formation = { web: { quantity: 1, size: "standard-1x" }, worker: { quantity: 0, size: "standard-1x" } };
const appA = helloOnce({ config: { formation, app: `hello-q${h}` }, stack: `s${h}` });
const appB = helloOnce({ config: { formation, app: "hello" }, stack: `q${h}-s${h}` });
const url = new Map<AppProject, string>();
let rowsA: VisitsSnapshot | undefined;
let rowsB: VisitsSnapshot | undefined;
/** Set by the test that ends with an `up` of A: the next test need not run a no-op one (about 3 CPU-s). */
let aDeployed = false;

const log = (line: string) => process.stderr.write(`# data-safety: ${line}\n`);

async function up(p: AppProject): Promise<void> {
    const r = await p.cli(["up", "--yes"]);
    assert.equal(r.code, 0, `${p.app} up: ${r.stderr}`);
    url.set(p, r.stdout.trim().split("\n").pop()!);
    await until200(`${url.get(p)}/health`, 30_000);
}

/** The first `up` of a shared copy (the fixture's), then as {@link up}: the URL kept, /health answering. */
async function deployed(hello: SharedHello): Promise<void> {
    await hello.deployed();
    url.set(hello.project, hello.url);
    await until200(`${hello.url}/health`, 30_000);
}

async function writeVisits(p: AppProject, n: number): Promise<VisitsSnapshot> {
    const before = await visitsSnapshot(p.stack);
    for (let i = 1; i <= n; i++) assert.equal(await visit(url.get(p)!), before.count + i);
    return visitsSnapshot(p.stack);
}

/** The app's Postgres holds exactly `rows` (what it wrote, nothing of the other app's). */
async function assertRows(p: AppProject, rows: VisitsSnapshot, what: string): Promise<void> {
    assert.deepEqual(await visitsSnapshot(p.stack), rows, `${p.app}'s rows ${what}`);
    log(`${p.app}/${p.stack} ${what}: ${rows.count} rows, md5 ${rows.digest.slice(0, 8)}`);
}

async function volumeLabels(name: string): Promise<Record<string, string> | undefined> {
    try {
        return (await connectDocker().getVolume(name).inspect()).Labels ?? {};
    } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
    }
}

/** Data volumes of one app's stack, by their owner labels. */
async function dataVolumes(p: AppProject): Promise<string[]> {
    const { Volumes } = await connectDocker().listVolumes({
        filters: { label: [`${LABEL.app}=${p.app}`, `${LABEL.stack}=${p.stack}`, ADDON_LABEL] },
    });
    return (Volumes ?? []).map((v) => v.Name).sort();
}

/** The volume the stack's postgres add-on container mounts. */
async function postgresVolume(p: AppProject): Promise<string> {
    const id = await postgresContainer(p.stack);
    assert.ok(id, `${p.app} has a running postgres`);
    return (await connectDocker().getContainer(id).inspect()).Mounts.map((m) => m.Name!).find(Boolean)!;
}

function stackFileText(p: AppProject): string {
    return fs.readFileSync(path.join(p.dir, "stacks", `Pulumi.${p.stack}.yaml`), "utf8");
}

describeLive("data stays with its app: one-time deletes, unambiguous names, rollbacks that end", { concurrency: false }, () => {
    test("two apps whose old names met get their own network and volumes; each reads only its own rows", async (t) => {
        assert.equal(legacyDockerName.network(appA.project.app, appA.project.stack), legacyDockerName.network(appB.project.app, appB.project.stack), "the old names met");
        await deployed(appA);
        rowsA = await writeVisits(appA.project, 3);
        await deployed(appB);
        rowsB = await writeVisits(appB.project, 2);
        assert.equal(rowsB.count, 2, "B starts from its own empty table");
        await assertRows(appA.project, rowsA, "after B's first up");
        assert.equal(await postgresVolume(appA.project), dockerName.dataVolume(appA.project.app, appA.project.stack, "postgres"));
        assert.equal(await postgresVolume(appB.project), dockerName.dataVolume(appB.project.app, appB.project.stack, "postgres"));
        assert.deepEqual(await dataVolumes(appB.project), [`hello.q${h}-s${h}.postgres-data`, `hello.q${h}-s${h}.redis-data`]);
    });

    test("a failed `destroy --delete-addon-data` leaves no intent behind: the next plain destroy keeps the data", async (t) => {
        const docker = connectDocker();
        // A container of someone else's on A's network makes removing the network, and so the destroy, fail.
        const network = (await docker.listNetworks({ filters: { label: [`${LABEL.app}=${appA.project.app}`, `${LABEL.stack}=${appA.project.stack}`] } }))[0].Name;
        const image = (await docker.getContainer((await postgresContainer(appA.project.stack))!).inspect()).Image;
        const squatter = await docker.createContainer({ Image: image, Entrypoint: ["sleep", "600"], HostConfig: { NetworkMode: network }, Labels: { "dev.dynoform.test": "squatter" } });
        await squatter.start();
        let failed;
        try {
            failed = await appA.project.cli(["destroy", "--confirm", appA.project.app, "--delete-addon-data"]);
        } finally {
            await squatter.remove({ force: true });
        }
        log(`destroy --delete-addon-data with the network busy: exit ${failed.code}`);
        assert.equal(failed.code, 1, failed.stdout + failed.stderr);
        assert.equal((await dataVolumes(appA.project)).length, 2, "the failed run deleted no data");
        assert.doesNotMatch(stackFileText(appA.project), /deleteAddonDataOnDestroy/, "no intent written to the stack file");

        const plain = await appA.project.cli(["destroy", "--confirm", appA.project.app]);
        assert.equal(plain.code, 0, plain.stderr);
        log(`then a plain destroy: ${JSON.stringify(plain.stdout.trim())}`);
        assert.match(plain.stdout, /add-on data volumes were kept/);
        assert.equal((await dataVolumes(appA.project)).length, 2, "the plain destroy kept the data");
        await up(appA.project);
        await assertRows(appA.project, rowsA!, "after a failed destroy --delete-addon-data, a plain destroy and an up");
        if (rowsB) await assertRows(appB.project, rowsB, "untouched by A's destroys");
    });

    test("neither an old stack file's deleteAddonDataOnDestroy nor an old state's deleteOnDestroy makes a plain destroy delete data", async (t) => {
        // What a failed `destroy --delete-addon-data` of an older Dynoform left: the key in the stack file ...
        const file = path.join(appA.project.dir, "stacks", `Pulumi.${appA.project.stack}.yaml`);
        const doc = YAML.parseDocument(stackFileText(appA.project));
        doc.setIn(["config", "dynoform:deleteAddonDataOnDestroy"], "true");
        fs.writeFileSync(file, doc.toString());
        const again = await appA.project.cli(["up", "--yes"]);
        assert.equal(again.code, 0, again.stderr);
        // ... and the volumes' deleteOnDestroy in state, written by its `up`.
        const stack = await openStack({ projectDir: appA.project.dir, stack: appA.project.stack, program: async () => ({}), env: appA.project.env });
        const state = await stack.exportStack();
        const volumes = (state.deployment.resources as Array<{ type: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }>)
            .filter((r) => r.type === VOLUME_TYPE && (r.outputs.labels as Record<string, string> | undefined)?.[ADDON_LABEL]);
        assert.equal(volumes.length, 2);
        for (const v of volumes) v.inputs.deleteOnDestroy = v.outputs.deleteOnDestroy = true;
        await stack.importStack(state);

        const plain = await appA.project.cli(["destroy", "--confirm", appA.project.app]);
        assert.equal(plain.code, 0, plain.stderr);
        log(`plain destroy with both old leftovers: ${JSON.stringify(plain.stdout.trim())}`);
        assert.equal((await dataVolumes(appA.project)).length, 2, "the data is kept");
        assert.match(plain.stdout, /add-on data volumes were kept; images were kept/);
        assert.match(plain.stderr, /= kept +docker:Image /, "the image is said to be kept, not deleted");
        assert.doesNotMatch(plain.stderr, new RegExp(`deleted +docker:Image|deleted +docker:Volume ${appA.project.app}-(postgres|redis)`));
        doc.deleteIn(["config", "dynoform:deleteAddonDataOnDestroy"]);
        fs.writeFileSync(file, doc.toString());
        await up(appA.project);
        await assertRows(appA.project, rowsA!, "after a plain destroy with old leftovers and an up");
    });

    test("a volume under this app's name owned by another app is refused; an old-named volume is adopted only by its owner", async (t) => {
        const docker = connectDocker();
        const pgImage = (await docker.getContainer((await postgresContainer(appA.project.stack))!).inspect()).Image;
        // A's data moves to the name an older Dynoform gave it (a deployment from before the new names, destroyed with its data kept).
        const destroyA = await appA.project.cli(["destroy", "--confirm", appA.project.app]);
        assert.equal(destroyA.code, 0, destroyA.stderr);
        const newName = dockerName.dataVolume(appA.project.app, appA.project.stack, "postgres");
        const oldName = legacyDockerName.dataVolume(appA.project.app, appA.project.stack, "postgres");
        const labels = (await volumeLabels(newName))!;
        await docker.createVolume({ Name: oldName, Labels: labels });
        const copy = await runOnce(pgImage, "cp -a /from/. /to/", { binds: [`${newName}:/from`, `${oldName}:/to`], user: "0", entrypoint: ["/usr/bin/env"] });
        assert.equal(copy.exitCode, 0, copy.output);
        await docker.getVolume(newName).remove();

        // B's old name is that same name: B must not take A's data, whether B's volumes are new or kept.
        const del = await appB.project.cli(["destroy", "--confirm", appB.project.app, "--delete-addon-data"]);
        assert.equal(del.code, 0, del.stderr);
        assert.match(del.stdout, new RegExp(`add-on data volumes were deleted \\(hello\\.q${h}-s${h}\\.postgres-data, hello\\.q${h}-s${h}\\.redis-data\\)`));
        assert.deepEqual(await dataVolumes(appB.project), []);
        assert.deepEqual(await volumeLabels(oldName), labels, "A's old-named volume is untouched");

        // A volume under B's new name that says it is A's: B's up fails in one line naming it and its owner.
        const squat = dockerName.dataVolume(appB.project.app, appB.project.stack, "redis");
        await docker.createVolume({ Name: squat, Labels: { [LABEL.app]: appA.project.app, [LABEL.stack]: appA.project.stack, [ADDON_LABEL]: "redis" } });
        const refused = await appB.project.cli(["up", "--yes"]);
        assert.equal(refused.code, 1);
        const line = `volume ${squat} already exists and belongs to app ${appA.project.app} (stack ${appA.project.stack}), not to app hello (stack ${appB.project.stack})`;
        assert.ok(refused.stderr.includes(line), refused.stderr);
        log(`up onto another app's volume: exit 1, "${line}: ..."`);
        assert.deepEqual((await volumeLabels(squat))?.[LABEL.app], appA.project.app, "the other app's volume is left as it was");
        await docker.getVolume(squat).remove();

        await up(appB.project);
        assert.equal((await visitsSnapshot(appB.project.stack)).count, 0, "B starts empty: it did not adopt A's old-named volume");
        assert.equal(await postgresVolume(appB.project), dockerName.dataVolume(appB.project.app, appB.project.stack, "postgres"));

        await up(appA.project);
        assert.equal(await postgresVolume(appA.project), oldName, "A adopted its own data under its old name");
        await assertRows(appA.project, rowsA!, "kept under the old name and adopted by the next up");
        const addons = JSON.parse((await appA.project.cli(["addons", "--json"])).stdout) as Array<{ name: string; volume: string }>;
        assert.equal(addons.find((a) => a.name === "postgres")?.volume, oldName, "`addons` shows the volume's real name");
        aDeployed = true;
    });

    test("rollback always records a release, keeps add-ons, and lasts until the source changes", async (t) => {
        if (!aDeployed) await up(appA.project);
        const releases = async () => JSON.parse((await appA.project.cli(["releases", "--json"])).stdout) as Array<{ version: number; imageId: string; description: string }>;
        const create = await appA.project.cli(["addons:create", "redis", "--as", "CACHE"]);
        assert.equal(create.code, 0, create.stderr);
        const [withCache, beforeCache] = await releases();
        // Back to the release before the add-on existed: same image and config, still a new release.
        const rb = await appA.project.cli(["rollback", `v${beforeCache.version}`]);
        assert.equal(rb.code, 0, rb.stderr);
        log(`rollback to v${beforeCache.version}: ${JSON.stringify(rb.stdout.trim())}`);
        const [afterRollback] = await releases();
        assert.equal(afterRollback.version, withCache.version + 1, "the rollback is a release");
        assert.equal(afterRollback.description, `Rollback to v${beforeCache.version}`);
        assert.match(rb.stdout, /Add-ons are kept as they are/);
        assert.match(rb.stdout, /the next deploy of new code builds it/);
        const addons = JSON.parse((await appA.project.cli(["addons", "--json"])).stdout) as Array<{ varName: string; state: string }>;
        assert.ok(addons.some((a) => a.varName.startsWith("CACHE") && a.state.startsWith("running")), JSON.stringify(addons));

        // Unchanged source: `up` keeps the rolled-back image.
        const same = await appA.project.cli(["up", "--yes"]);
        assert.equal(same.code, 0, same.stderr);
        assert.equal((await releases())[0].version, afterRollback.version, "no new release without new code");

        // New code: the next up builds and releases it.
        const index = path.join(appA.project.dir, "app", "index.js");
        fs.writeFileSync(index, fs.readFileSync(index, "utf8").replace("} from ${process.env.DYNO}", "} (new code) from ${process.env.DYNO}"));
        const built = await appA.project.cli(["up", "--yes"]);
        assert.equal(built.code, 0, built.stderr);
        assert.match(built.stderr, /The source changed since the rollback: building it again/);
        assert.doesNotMatch(stackFileText(appA.project), /dynoform:image|rollbackSourceHash/);
        const [deployed] = await releases();
        assert.equal(deployed.version, afterRollback.version + 1);
        assert.notEqual(deployed.imageId, afterRollback.imageId, "a new image");
        const page = await fetch(`${url.get(appA.project)}/`).then((r) => r.text());
        assert.match(page, /\(new code\) from web\.1/);
        assert.deepEqual(await visitsSnapshot(appA.project.stack, rowsA!.maxId), rowsA, "A's first rows are all still there");
    });
});
