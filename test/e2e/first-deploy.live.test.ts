import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { appNameFrom } from "../../cli/commands/init";
import { LABEL } from "../../infra/docker/labels";
import { recordedBaseImages } from "../../toolchain/base-images";
import { PACKAGE_ROOT } from "../../toolchain/paths";
import { connectDocker } from "../../infra/docker/client";
import { CliResult, runProcess } from "../support/cli";
import { containersWith, stackHasResources } from "../support/harness";
import { eventually } from "../support/poll";
import { afterLive, beforeLive, describeLive } from "../support/engines";

// What the README tells a new user, on apps as they come (no Dockerfile.dynoform, no
// .dockerignore, nothing added by hand): `dynoform` on PATH as `npm link` puts it, run in the
// app's folder, the default stack. Issue 11: the first `up` of every Node.js app without a
// Dockerfile failed, a second app collided on port 5000, a Dockerfile without a Procfile was refused.

/** A public-sample-like Node.js app: package.json, index.js, Procfile, nothing else. */
const SAMPLE_APP: Record<string, string> = {
    "package.json": JSON.stringify({ name: "node-sample", version: "1.0.0", main: "index.js", scripts: { start: "node index.js" }, engines: { node: "20.x" } }, null, 2) + "\n",
    "index.js": [
        "const http = require('http');",
        "const PORT = process.env.PORT || 5000;",
        "http.createServer((req, res) => {",
        "  console.log(`request ${req.method} ${req.url}`);",
        "  res.setHeader('Content-Type', 'text/html');",
        "  res.end(`<h1>Hello from ${process.env.DYNO}</h1>`);",
        "}).listen(PORT, () => console.log(`Listening on ${PORT}`));",
        "",
    ].join("\n"),
    Procfile: "web: node index.js\n",
};

/** The same server, shipped by its own Dockerfile with no Procfile: its CMD is `web`. */
const DOCKERFILE_APP = (base: string): Record<string, string> => ({
    Dockerfile: [`FROM ${base}`, "WORKDIR /srv", "COPY server.js .", 'CMD ["node", "/srv/server.js"]', ""].join("\n"),
    "server.js": SAMPLE_APP["index.js"].replace("Hello from", "Hello from the image CMD of"),
});

const root = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-first-deploy-"));
const binDir = path.join(root, "bin");
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
const apps: Array<{ dir: string; app: string }> = [];

/** A temp app folder with these files; its app name is what `init` derives from the folder. */
function appFolder(name: string, files: Record<string, string>): { dir: string; app: string } {
    const dir = path.join(root, `${name}-${crypto.randomBytes(3).toString("hex")}`);
    fs.mkdirSync(dir);
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    const entry = { dir, app: appNameFrom(path.basename(dir)) };
    apps.push(entry);
    return entry;
}

/** `dynoform <args>` in `cwd`, found on PATH. */
function dynoform(cwd: string, ...args: string[]): Promise<CliResult> {
    return runProcess("dynoform", args, { cwd, env });
}

async function ok(cwd: string, ...args: string[]): Promise<CliResult> {
    const r = await dynoform(cwd, ...args);
    assert.equal(r.code, 0, `dynoform ${args.join(" ")} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r;
}

async function get(url: string): Promise<{ status: number; body: string }> {
    const res = await fetch(url);
    return { status: res.status, body: await res.text() };
}

/** `init` then `up --yes`, as the README says: the port init printed is the URL up printed. */
async function initAndUp(dir: string): Promise<{ init: CliResult; url: string; port: number }> {
    const init = await ok(dir, "init");
    const port = Number(/router: http:\/\/127\.0\.0\.1:(\d+) \(/.exec(init.stdout)?.[1]);
    assert.ok(port >= 5000, `init says which router port it picked:\n${init.stdout}`);
    const up = await ok(dir, "up", "--yes");
    const url = up.stdout.trim().split("\n").pop()!;
    assert.equal(url, `http://127.0.0.1:${port}`, up.stdout);
    return { init, url, port };
}

beforeLive(async () => {
    // What `npm link` puts on PATH: a `dynoform` link to the package's bin/dynoform.js.
    fs.mkdirSync(binDir);
    fs.symlinkSync(path.join(PACKAGE_ROOT, "bin", "dynoform.js"), path.join(binDir, "dynoform"));
    env.PATH = [binDir, process.env.PATH ?? ""].join(path.delimiter);
    // The test's own state and passphrase (the README's PULUMI_BACKEND_URL override); the default stack.
    fs.mkdirSync(path.join(root, "state"));
    env.PULUMI_BACKEND_URL = `file://${path.join(root, "state")}`;
    env.PULUMI_CONFIG_PASSPHRASE = `first-deploy-${crypto.randomBytes(4).toString("hex")}`;
    delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
    delete env.DYNOFORM_STACK;
});

afterLive(async () => {
    for (const { dir, app } of apps) {
        // The tests destroy what they deploy: `destroy` again only after a failure (a no-op one costs about 2.5 CPU-s).
        const deployed = !env.PULUMI_BACKEND_URL || stackHasResources(env.PULUMI_BACKEND_URL, "dev");
        if (deployed && fs.existsSync(path.join(dir, "Pulumi.yaml"))) await dynoform(dir, "destroy", "--confirm", app).catch(() => undefined);
        await removeAppObjects(app).catch(() => undefined);
    }
    fs.rmSync(root, { recursive: true, force: true });
});

/** Removes what a failed run left of one app: by its unique app label, never the whole `dev` stack. */
async function removeAppObjects(app: string): Promise<void> {
    const docker = connectDocker();
    const label = { label: [`${LABEL.app}=${app}`] };
    for (const c of await containersWith({ [LABEL.app]: app })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    for (const v of (await docker.listVolumes({ filters: label })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined);
    for (const n of await docker.listNetworks({ filters: label })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
}

describeLive("a new user's first deploy, as the README says", { concurrency: false }, () => {
    let first = { dir: "", app: "", url: "", port: 0 };

    test("a Node.js sample (Procfile, no Dockerfile, no .dockerignore): init, up --yes, the URL answers 200", async (t) => {
        const { dir, app } = appFolder("node-sample", SAMPLE_APP);
        await ok(dir, "doctor");
        const started = Date.now();
        const { init, url, port } = await initAndUp(dir);
        t.diagnostic(`init and up in ${((Date.now() - started) / 1000).toFixed(1)} s; ${/router: .*/.exec(init.stdout)?.[0]}`);
        assert.match(init.stdout, /formation: web=1:standard-1x/);
        const ignore = fs.readFileSync(path.join(dir, ".dockerignore"), "utf8");
        assert.doesNotMatch(ignore, /Dockerfile/, "init's .dockerignore names nothing the build needs");
        assert.equal(fs.existsSync(path.join(dir, "Dockerfile.dynoform")), false, "nothing generated in the app's folder");
        const page = await get(url);
        assert.equal(page.status, 200);
        assert.match(page.body, /Hello from web\.1/);
        first = { dir, app, url, port };
    });

    test("ps:scale web=3, ps, logs, releases", async (t) => {
        assert.ok(first.url, "the first deploy ran");
        const scale = await ok(first.dir, "ps:scale", "web=3");
        assert.match(scale.stderr + scale.stdout, /web: 1 -> 3 \(\+2\)/);
        const ps = await ok(first.dir, "ps");
        assert.match(ps.stdout, /=== web \(standard-1x\): 3 dynos/);
        for (const n of [1, 2, 3]) assert.match(ps.stdout, new RegExp(`^web\\.${n}: up `, "m"));
        const seen = new Set<string>();
        await eventually(async () => {
            seen.add(/Hello from (web\.\d)/.exec((await get(first.url)).body)?.[1] ?? "");
            return seen.has("web.1") && seen.has("web.2") && seen.has("web.3");
        }, 30_000, "the router to reach all three web dynos", 50);
        const logs = await eventually(async () => {
            const r = await ok(first.dir, "logs");
            return / app\[web\.\d\]: request GET \//.test(r.stdout) && / app\[web\.1\]: Listening on 5000/.test(r.stdout) ? r : undefined;
        }, 15_000, "the dynos' request lines in logs");
        assert.match(logs.stdout, / dynoform\[router\]: /);
        const releases = await ok(first.dir, "releases");
        assert.match(releases.stdout, new RegExp(`=== ${first.app} releases on dev`));
        assert.match(releases.stdout, /^v1[* ] /m);
    });

    test("a second app init'ed beside it gets another port and runs at the same time", async (t) => {
        assert.ok(first.url, "the first deploy ran");
        const second = appFolder("node-sample-two", SAMPLE_APP);
        const { init, url, port } = await initAndUp(second.dir);
        t.diagnostic(`second app: ${/router: .*/.exec(init.stdout)?.[0]}`);
        assert.notEqual(port, first.port, "init picked another port");
        assert.match(init.stdout, new RegExp(`taken: .*${first.port}: `), `init says why it passed over ${first.port}:\n${init.stdout}`);
        assert.equal((await get(url)).status, 200);
        assert.equal((await get(first.url)).status, 200, "the first app still answers");
        await ok(second.dir, "destroy", "--confirm", second.app);
        assert.deepEqual(await containersWith({ [LABEL.app]: second.app }), []);
    });

    test("destroy --confirm <app> removes the first app's containers", async (t) => {
        assert.ok(first.url, "the first deploy ran");
        await ok(first.dir, "destroy", "--confirm", first.app);
        assert.deepEqual(await containersWith({ [LABEL.app]: first.app }), []);
        await assert.rejects(get(first.url), "nothing answers on the port any more");
    });
});

describeLive("a Dockerfile-only app (no Procfile): its CMD runs as web", () => {
    test("init accepts it (web=1, the image's CMD), up deploys it, the URL answers, destroy removes it", async (t) => {
        const { dir, app } = appFolder("docker-only", DOCKERFILE_APP(recordedBaseImages().node));
        const { init, url } = await initAndUp(dir);
        t.diagnostic(/process types: .*/.exec(init.stdout)?.[0] ?? init.stdout);
        assert.match(init.stdout, /formation: web=1:standard-1x/);
        assert.match(init.stdout, /process types: web runs the image's CMD/);
        const page = await get(url);
        assert.equal(page.status, 200);
        assert.match(page.body, /Hello from the image CMD of web\.1/);
        const [web] = await containersWith({ [LABEL.app]: app, [LABEL.dyno]: "web.1" });
        assert.ok(web, "a web.1 container");
        const info = await connectDocker().getContainer(web.Id).inspect();
        assert.deepEqual(info.Config.Cmd, ["node", "/srv/server.js"], "the image's CMD, not a shell command");
        await ok(dir, "destroy", "--confirm", app);
        assert.deepEqual(await containersWith({ [LABEL.app]: app }), []);
    });
});
