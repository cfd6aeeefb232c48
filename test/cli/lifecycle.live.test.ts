import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { after, before, test } from "node:test";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { containersWith } from "../support/harness";
import { CliProject, cliProject, CliResult, envOf, TINY_APP, tinyStack, usageLine, webDyno } from "../support/cli";
import { describeLive } from "../support/engines";

// The deploy cycle through the real CLI on real Docker and Pulumi: preview, up, ps, ps:scale,
// ps:restart, ps:stop, config, config:get/set/unset, releases, releases:info, rollback,
// refresh, destroy; usage errors; and a secret that never shows where it should not.
const SECRET = "s3cr3t-value-7f3a9c";
let project: CliProject;
let stack: string;
let url = "";
/** Everything every command printed, to grep for the secret at the end. */
const printed: Array<{ args: string[]; out: string }> = [];

async function cli(...args: string[]): Promise<CliResult> {
    const r = await project.cli([...args, "--stack", stack]);
    printed.push({ args, out: r.stdout + r.stderr });
    return r;
}

async function ok(...args: string[]): Promise<CliResult> {
    const r = await cli(...args);
    assert.equal(r.code, 0, `dynoform ${args.join(" ")}:\n${r.stderr}`);
    return r;
}

const body = async () => (await fetch(url)).text();
const dynoIds = async () =>
    new Map(
        (await containersWith({ [LABEL.stack]: stack, [LABEL.processType]: "web" }))
            .filter((c) => c.Labels[LABEL.role] === "dyno")
            .map((c) => [c.Labels[LABEL.dyno], c.Id]),
    );

describeLive("dynoform deploy cycle", { concurrency: false }, () => {
    before(async () => {
        project = await cliProject("cycle", { files: TINY_APP });
        stack = project.stackName("dev");
        project.writeStack(stack, await tinyStack());
    });
    after(async () => {
        await project?.cleanup();
    });

    test("up deploys and prints the URL; preview right after reports no changes", async (t) => {
        const up = await ok("up", "--yes");
        url = up.stdout.trim().split("\n").pop()!;
        assert.equal(await body(), "web.1 hello");
        const preview = await ok("preview");
        assert.match(preview.stdout, /Release: v1 \(no image, config or add-on change\)/);
        assert.match(preview.stdout, /^Resources: \d+ same$/m, "nothing to create, update or delete");
    });

    test("config:set makes one release for several vars; the dyno env shows them", async (t) => {
        const r = await ok("config:set", "GREETING=hi", "LOG_LEVEL=debug");
        assert.match(r.stderr, /Config: 2 added \(GREETING, LOG_LEVEL\)/);
        assert.match(r.stdout, /release v2/);
        assert.equal(await body(), "web.1 hi");
        const env = envOf((await webDyno(stack))!);
        assert.equal(env.GREETING, "hi");
        assert.equal(env.LOG_LEVEL, "debug");
        const releases = JSON.parse((await ok("releases", "--json")).stdout) as Array<{ version: number; description: string }>;
        assert.deepEqual(releases.map((x) => x.version), [2, 1]);
        assert.match(releases[0].description, /Set GREETING, LOG_LEVEL config vars/);
    });

    test("a secret config var is encrypted in the stack file and masked, except config:get", async (t) => {
        await ok("config:set", `API_TOKEN=${SECRET}`, "--secret");
        const file = fs.readFileSync(path.join(project.dir, "stacks", `Pulumi.${stack}.yaml`), "utf8");
        assert.ok(!file.includes(SECRET), "stack file holds the secret encrypted");
        assert.match(file, /secure: /);
        assert.match((await ok("config")).stdout, /API_TOKEN: +\*{8} \(secret\)/);
        assert.equal(JSON.parse((await ok("config", "--json")).stdout).API_TOKEN, "********");
        assert.equal((await ok("config:get", "API_TOKEN")).stdout.trim(), SECRET);
        assert.equal(envOf((await webDyno(stack))!).API_TOKEN, SECRET, "the dyno gets the value");
    });

    test("ps:scale web+1 then ps shows the dynos; a removed dyno is missing, refresh reports it, up heals it", async (t) => {
        // Heroku's relative form: one more than the single web dyno deployed (`web=N` is in ps.live).
        await ok("ps:scale", "web+1");
        assert.match(fs.readFileSync(path.join(project.dir, "stacks", `Pulumi.${stack}.yaml`), "utf8"), /quantity: 2\b/);
        let ps = await ok("ps");
        assert.match(ps.stdout, /=== web \(standard-1x\): 2 dynos/);
        assert.match(ps.stdout, /^web\.1: up .* v\d/m);
        assert.match(ps.stdout, /^web\.2: up .* v\d/m);
        const ids = await dynoIds();
        await connectDocker().getContainer(ids.get("web.2")!).remove({ force: true });
        ps = await ok("ps");
        assert.match(ps.stdout, /^web\.2: missing/m);
        const refresh = await ok("refresh");
        assert.match(refresh.stdout, /drift: tiny-web-2 is missing/);
        await ok("up", "--yes");
        ps = await ok("ps", "--json");
        const dynos = JSON.parse(ps.stdout) as Array<{ dyno: string; state: string }>;
        assert.deepEqual(dynos.map((d) => `${d.dyno}:${d.state}`), ["web.1:up", "web.2:up"]);
        assert.equal((await dynoIds()).get("web.1"), ids.get("web.1"), "web.1 untouched by the heal");
    });

    test("ps:restart rolls every web dyno; ps:stop scales to 0 and the router answers 503", async (t) => {
        const before = await dynoIds();
        await ok("ps:restart", "web");
        const after = await dynoIds();
        assert.deepEqual([...after.keys()].sort(), ["web.1", "web.2"]);
        for (const [dyno, id] of before) assert.notEqual(after.get(dyno), id, `${dyno} restarted`);
        assert.match(await body(), /^web\.[12] hi$/);
        await ok("ps:stop", "web");
        assert.equal((await dynoIds()).size, 0);
        assert.equal((await fetch(url)).status, 503);
        assert.match((await ok("ps")).stdout, /no dynos/);
        await ok("ps:scale", "web=1");
        assert.equal(await body(), "web.1 hi");
    });

    test("rollback restores an earlier release's image and config as a new release", async (t) => {
        const docker = connectDocker();
        const oldImage = (await webDyno(stack))!.Image;
        const releasesBefore = JSON.parse((await ok("releases", "--json")).stdout) as Array<{ version: number }>;
        const good = releasesBefore[0].version;
        fs.writeFileSync(path.join(project.dir, "app", "server.js"), TINY_APP["server.js"].replace("process.env.GREETING", '"v2:" + process.env.GREETING'));
        await ok("config:unset", "LOG_LEVEL");
        assert.equal(await body(), "web.1 v2:hi", "new code deployed with the config change");
        assert.notEqual((await webDyno(stack))!.Image, oldImage);
        const info = await ok("releases:info", `v${good}`);
        assert.match(info.stdout, new RegExp(`Image: +${oldImage}`));
        const r = await ok("rollback", `v${good}`);
        assert.match(r.stderr, /Image: [0-9a-f]{12} -> [0-9a-f]{12}/);
        assert.equal(await body(), "web.1 hi", "old code answers again");
        const dyno = (await webDyno(stack))!;
        assert.equal(dyno.Image, oldImage, "the dyno runs the earlier image ID");
        assert.equal(envOf(dyno).LOG_LEVEL, "debug", "the earlier config is back");
        const releases = JSON.parse((await ok("releases", "--json")).stdout) as Array<{ version: number; description: string }>;
        assert.match(releases[0].description, new RegExp(`^Rollback to v${good}$`));
        assert.ok(await docker.getImage(oldImage).inspect());
    });

    test("usage errors exit 2 with one line and change nothing", async (t) => {
        const file = path.join(project.dir, "stacks", `Pulumi.${stack}.yaml`);
        const fileBefore = fs.readFileSync(file, "utf8");
        const idsBefore = await dynoIds();
        const cases: Array<[string[], RegExp]> = [
            [["ps:scale", "web=-1"], /`formation\.web\.quantity`/],
            [["ps:scale", "web=x"], /`formation\.web\.quantity`/],
            [["ps:scale", "clock=1"], /`formation\.clock`.*not in the Procfile/],
            [["ps:scale", "web-5"], /`formation\.web\.quantity`: web runs 1; -5 would make -4/],
            [["ps:scale", "web=+1"], /`formation\.web\.quantity`.*scale by a difference with web\+1/],
            [["ps:resize", "web=huge"], /`formation\.web\.size`.*unknown dyno size "huge"/],
            [["config:set", "1BAD=x"], /`config\.1BAD`/],
            [["config:set", "PORT=1"], /`config\.PORT`.*reserved/],
            [["config:set", "NOEQUALS"], /KEY=VALUE/],
            [["config:unset", "NOT_SET_ANYWHERE"], /not set/],
            [["config:get", "NOT_SET_ANYWHERE"], /not set/],
            [["releases:info", "v99"], /no release v99/],
            [["releases:info", "seven"], /not a release version/],
            [["rollback", "v99"], /cannot roll back to v99/],
            [["ps:restart", "web..2"], /not a process type or dyno name/],
            [["frobnicate"], /Unknown argument: frobnicate/],
        ];
        for (const [args, pattern] of cases) {
            const line = usageLine(await cli(...args));
            assert.match(line, pattern, `dynoform ${args.join(" ")}`);
        }
        const unknown = await project.cli(["ps", "--stack", "no-such-stack"]);
        assert.match(usageLine(unknown), /unknown stack "no-such-stack"/);
        assert.equal(fs.readFileSync(file, "utf8"), fileBefore, "stack file unchanged");
        assert.deepEqual(await dynoIds(), idsBefore, "no dyno touched");
    });

    test("the secret appears nowhere but config:get: outputs, --json, and the state file", async (t) => {
        assert.ok(printed.length > 20);
        const leaks = printed.filter((p) => p.out.includes(SECRET) && p.args[0] !== "config:get");
        assert.deepEqual(leaks.map((p) => p.args.join(" ")), [], "no command but config:get printed the secret");
        const stateFiles: string[] = [];
        const walk = (d: string) => {
            for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                const full = path.join(d, e.name);
                if (e.isDirectory()) walk(full);
                else stateFiles.push(full);
            }
        };
        walk(path.join(project.dir, "state"));
        assert.ok(stateFiles.length > 0);
        for (const f of stateFiles) assert.ok(!fs.readFileSync(f, "utf8").includes(SECRET), `${f} holds the secret in plain text`);
    });

    test("destroy needs the app name, then removes every container", async (t) => {
        assert.match(usageLine(await cli("destroy", "--confirm", "wrong")), /does not match the app name tiny/);
        await ok("destroy", "--confirm", "tiny");
        assert.equal((await containersWith({ [LABEL.stack]: stack })).length, 0);
    });
});
