import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { connectDocker } from "../../infra/docker/client";
import { execIn } from "../../infra/docker/exec";
import { demuxLogs } from "../../infra/docker/logs";
import { formatSize } from "../../cli/pg-backups";
import { containersWith } from "../support/harness";
import { deployOnce, envOf, tinyStack, usageLine, webDyno } from "../support/cli";
import { eventually } from "../support/poll";
import { LABEL } from "../../infra/docker/labels";
import { postgresContainer, visitsSnapshot } from "../support/hello-data";
import { testLive } from "../support/engines";

// Heroku's pg:backups on a tiny app with a Postgres add-on, all through the real CLI: one
// deployment for the file; the tests run in order and the last one destroys the stack.
const tiny = deployOnce("pgbk", { settings: { addons: { postgres: "postgres" } } });

/** Runs SQL as the app's user inside the add-on container (its own password, from its env). */
async function sql(stack: string, statement: string): Promise<string> {
    const id = await postgresContainer(stack);
    assert.ok(id, "a running postgres add-on");
    const { exitCode, output } = await execIn(connectDocker().getContainer(id), [
        "/bin/sh",
        "-c",
        `PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U app -d app -AtX -v ON_ERROR_STOP=1 -c "${statement}"`,
    ]);
    assert.equal(exitCode, 0, output);
    return output.trim();
}

/** Runs a command in a throwaway container of the add-on's image, with mounts; its exit code and output. */
async function inAddonImage(stack: string, cmd: string, mounts: Array<{ Type: "volume" | "bind"; Source: string; Target: string }>) {
    const docker = connectDocker();
    const image = (await docker.getContainer((await postgresContainer(stack))!).inspect()).Image;
    const c = await docker.createContainer({ Image: image, Entrypoint: ["/bin/sh", "-c"], Cmd: [cmd], HostConfig: { Mounts: mounts } });
    try {
        await c.start();
        const { StatusCode } = (await c.wait()) as { StatusCode: number };
        const logs = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
        return { code: StatusCode, output: demuxLogs(logs) };
    } finally {
        await c.remove({ force: true });
    }
}

async function backupsVolume(stack: string) {
    const { Volumes } = await connectDocker().listVolumes({ filters: { label: [`dev.dynoform.stack=${stack}`, "dev.dynoform.role=pg-backups"] } });
    return Volumes ?? [];
}

testLive("pg:backups: rows written, capture, rows changed, restore gives the original count and md5", async (t) => {
    const { project, stack } = await tiny.deployed();
    await sql(stack, "CREATE TABLE visits (id serial PRIMARY KEY, dyno text, at timestamptz NOT NULL DEFAULT now())");
    await sql(stack, "INSERT INTO visits (dyno, at) SELECT 'web.' || (g % 3), now() - g * interval '1 minute' FROM generate_series(1, 200) g");
    const before = await visitsSnapshot(stack);
    assert.equal(before.count, 200);

    const empty = await project.cli(["pg:backups", "--stack", stack, "--json"]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.deepEqual(JSON.parse(empty.stdout), []);

    const cap = await project.cli(["pg:backups:capture", "--stack", stack]);
    assert.equal(cap.code, 0, cap.stderr);
    assert.match(cap.stdout, /^b001 Completed \d/m);

    await sql(stack, "DELETE FROM visits WHERE id % 2 = 0");
    await sql(stack, "UPDATE visits SET dyno = 'worker.1' WHERE id < 50");
    await sql(stack, "INSERT INTO visits (dyno) SELECT 'web.9' FROM generate_series(1, 30)");
    const changed = await visitsSnapshot(stack);
    assert.notEqual(changed.digest, before.digest);
    assert.equal(changed.count, 130);

    const noConfirm = await project.cli(["pg:backups:restore", "b001", "--stack", stack]);
    assert.match(usageLine(noConfirm), /--confirm tiny/);
    assert.deepEqual(await visitsSnapshot(stack), changed, "nothing restored without --confirm");
    const wrong = await project.cli(["pg:backups:restore", "b001", "--stack", stack, "--confirm", "other"]);
    assert.match(usageLine(wrong), /--confirm other does not match the app name tiny/);

    const restore = await project.cli(["pg:backups:restore", "b001", "--stack", stack, "--confirm", "tiny"]);
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(await visitsSnapshot(stack), before);
});

testLive("pg:backups: the list shows the backup with its size; --json; addons:info shows the last backup", async (t) => {
    const { project, stack } = await tiny.deployed();
    const list = await project.cli(["pg:backups", "--stack", stack]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^b001 +\d{4}-\d\d-\d\dT[\d:.]+Z +[\d.]+ (B|kB|MB) +Completed$/m);
    const [b] = JSON.parse((await project.cli(["pg:backups", "--stack", stack, "--json"])).stdout);
    assert.equal(b.id, "b001");
    assert.equal(b.status, "Completed");
    assert.ok(b.size > 0, `size ${b.size}`);

    const info = await project.cli(["addons:info", "postgres", "--stack", stack]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, new RegExp(`^Last backup: b001 at ${b.time.replace(/\./g, "\\.")}, ${formatSize(b.size).replace(".", "\\.")}$`, "m"));
    const infoJson = JSON.parse((await project.cli(["addons:info", "postgres", "--stack", stack, "--json"])).stdout);
    assert.deepEqual(infoJson.lastBackup, { id: "b001", time: b.time, size: b.size });
});

testLive("pg:backups:download writes a file pg_restore --list accepts; modes 0600 in a 0700 folder on the volume", async (t) => {
    const { project, stack } = await tiny.deployed();
    const out = path.join(project.dir, "dl", "latest.dump");
    fs.mkdirSync(path.dirname(out));
    const dl = await project.cli(["pg:backups:download", "-o", out, "--stack", stack]);
    assert.equal(dl.code, 0, dl.stderr);
    assert.match(dl.stdout, /^b001 written to /);
    assert.equal(fs.statSync(out).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(path.dirname(out)), ["latest.dump"], "no temp file left");

    const listed = await inAddonImage(stack, "pg_restore --list /dl/latest.dump", [{ Type: "bind", Source: path.dirname(out), Target: "/dl" }]);
    assert.equal(listed.code, 0, listed.output);
    assert.match(listed.output, /TABLE public visits/);
    assert.match(listed.output, /TABLE DATA public visits/);

    const [volume] = await backupsVolume(stack);
    assert.ok(volume, "a backups volume");
    assert.equal(volume.Name, `tiny.${stack}.pg-backups`);
    const modes = await inAddonImage(stack, "stat -c '%a %n' /backups /backups/*", [{ Type: "volume", Source: volume.Name, Target: "/backups" }]);
    assert.equal(modes.code, 0, modes.output);
    assert.deepEqual(modes.output.trim().split("\n"), ["700 /backups", "600 /backups/b001.dump"]);
});

testLive("pg:backups: bad input is one line, exit 2, nothing changed", async (t) => {
    const { project, stack } = await tiny.deployed();
    assert.match(usageLine(await project.cli(["pg:backups:restore", "b999", "--stack", stack, "--confirm", "tiny"])), /unknown backup id `b999` .*\(backups: b001\)/);
    const out = path.join(project.dir, "nowhere", "x.dump");
    assert.match(usageLine(await project.cli(["pg:backups:download", "b001", "-o", out, "--stack", stack])), /-o .*nowhere.* does not exist/);
    assert.match(usageLine(await project.cli(["pg:backups:download", "b999", "-o", path.join(project.dir, "x.dump"), "--stack", stack])), /unknown backup id `b999`/);
    assert.ok(!fs.existsSync(path.join(project.dir, "x.dump")));

    const bare = project.stackName("nopg");
    project.writeStack(bare, await tinyStack());
    assert.match(usageLine(await project.cli(["pg:backups", "--stack", bare])), /has no Postgres add-on/);
    assert.match(usageLine(await project.cli(["pg:backups:capture", "--stack", bare])), /has no Postgres add-on/);
    const list = JSON.parse((await project.cli(["pg:backups", "--stack", stack, "--json"])).stdout);
    assert.deepEqual(list.map((b: { id: string }) => b.id), ["b001"], "no backup taken by a bad command");
});

testLive("pg:backups:capture: no password on any process command line, in the helper or the add-on", async (t) => {
    const { project, stack } = await tiny.deployed();
    const password = decodeURIComponent(new URL(envOf((await webDyno(stack))!).DATABASE_URL).password);
    assert.ok(password.length > 10);
    // A lock held by another session keeps pg_dump waiting, so its processes can be read while it runs.
    const locker = sql(stack, "SET application_name = 'locker'; BEGIN; LOCK TABLE visits IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600)").catch(() => "terminated");
    await eventually(async () => (await sql(stack, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'locker' AND wait_event = 'PgSleep'")) === "1", 30_000, "the lock taken");
    const capture = project.spawnCli(["pg:backups:capture", "--stack", stack]);
    try {
        await eventually(async () => (await sql(stack, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'")) === "1", 60_000, "pg_dump waiting for the lock");
        const [helper] = (await containersWith({ [LABEL.stack]: stack, [LABEL.role]: "pg-backups" })).filter((c) => c.State === "running");
        assert.ok(helper, "the capture's helper container is running");
        const cmdlines = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done";
        const inHelper = await execIn(connectDocker().getContainer(helper.Id), ["/bin/sh", "-c", cmdlines]);
        assert.match(inHelper.output, /pg_dump -Fc/);
        const inAddon = await execIn(connectDocker().getContainer((await postgresContainer(stack))!), ["/bin/sh", "-c", cmdlines]);
        assert.match(inAddon.output, /postgres: /);
        for (const text of [inHelper.output, inAddon.output]) assert.ok(!text.includes(password), "no password on a command line");
    } finally {
        await sql(stack, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'locker'");
        await locker;
    }
    assert.equal(await capture.exited, 0, capture.err());
    assert.match(capture.out(), /^b002 Completed/m);
});

testLive("destroy keeps the backups volume", async (t) => {
    const { project, stack } = await tiny.deployed();
    const d = await project.cli(["destroy", "--stack", stack, "--confirm", "tiny"]);
    assert.equal(d.code, 0, d.stderr);
    const [volume] = await backupsVolume(stack);
    assert.ok(volume, "the backups volume outlives destroy");
    assert.equal(volume.Labels["dev.dynoform.app"], "tiny");
});

