import assert from "node:assert/strict";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { after, before, test } from "node:test";
import { describeLive } from "../support/engines";
import YAML from "yaml";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { recordedBaseImages } from "../../toolchain/base-images";
import { PACKAGE_ROOT } from "../../toolchain/paths";
import { AppProject, appProject, CliResult, runCli } from "../support/app-project";
import { removeStackObjects } from "../support/cli";
import { freePort } from "../support/harness";
import { eventually } from "../support/poll";
import { startTestHosts, TestHost, TestHosts } from "../support/test-hosts";

// examples/hello deployed from this machine to a test server over SSH (its own network
// namespace, dockerd and sshd: test/support/test-hosts.ts), driven through the real CLI. One
// host and one deployment are shared by the tests in order.
let hosts: TestHosts | undefined;
let host: TestHost;
let project: AppProject | undefined;
let url = "";
let stagingUp: Promise<CliResult> | undefined;
/** promote's source: a stack of the same project on the local engine (named after the test's stack: other tests deploy hello locally too). */
let stagingStack = "";
/** The base image doctor finds missing on the server and copies there. */
const copiedBase = "redis";

/** Writes `stacks/Pulumi.<stack>.yaml`: the project's stack file with `settings` changed (undefined removes one). */
function writeStack(stack: string, settings: Record<string, unknown>): void {
    const file = path.join(project!.dir, "stacks", `Pulumi.${stack}.yaml`);
    const base = YAML.parse(fs.readFileSync(path.join(project!.dir, "stacks", `Pulumi.${project!.stack}.yaml`), "utf8"));
    for (const [k, v] of Object.entries(settings)) {
        if (v === undefined) delete base.config[`dynoform:${k}`];
        else base.config[`dynoform:${k}`] = v;
    }
    fs.writeFileSync(file, YAML.stringify(base));
}

const staging = (args: string[]) => runCli([...args, "--cwd", project!.dir, "--stack", stagingStack], project!.env);

/** Containers of the app on the test server (any stack: the server is this file's alone). */
async function onServer(stack?: string) {
    const label = [`${LABEL.app}=${project!.app}`, ...(stack ? [`${LABEL.stack}=${stack}`] : [])];
    return host.engine.listContainers({ all: true, filters: { label } });
}

/** Containers of one of this file's stacks on the local engine. */
async function onLocalEngine(stack: string) {
    return connectDocker().listContainers({ all: true, filters: { label: [`${LABEL.stack}=${stack}`] } });
}

/**
 * The pids of every running dockerd but the test engines' (the machine's, any other): test files
 * running beside this one start their clusters' engines whenever they do (data roots under
 * /var/lib/dynoform-test-…).
 */
function dockerdPids(): Set<number> {
    const pids = new Set<number>();
    for (const e of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
            if (fs.readFileSync(`/proc/${e}/comm`, "utf8").trim() !== "dockerd") continue;
            if (!fs.readFileSync(`/proc/${e}/cmdline`, "utf8").includes("/var/lib/dynoform-test-")) pids.add(Number(e));
        } catch {
            // gone meanwhile
        }
    }
    return pids;
}

describeLive("a stack whose Docker host is a server reached over SSH", { concurrency: false }, () => {
    before(async () => {
        const images = recordedBaseImages();
        // All but one base image: doctor copies that one.
        hosts = await startTestHosts(1, Object.entries(images).filter(([n]) => n !== copiedBase).map(([, ref]) => ref));
        host = hosts.hosts[0];
        project = await appProject("hello", { dockerHost: host.dockerHost, routerPort: "5000" });
        stagingStack = `${project.stack}-staging`;
        // Source no earlier run built: the test host's engine keeps its images between runs, as a server does.
        fs.appendFileSync(path.join(project.dir, "app", "index.js"), `\n// ${project.stack}\n`);
        // promote's source: a local stack with a change only it has (an image ID the server has never
        // seen), deployed while doctor and the server's first up run (they mostly wait on the server).
        writeStack(stagingStack, { dockerHost: undefined, routerPort: String(await freePort()), source: "staging-app" });
        fs.cpSync(path.join(project.dir, "app"), path.join(project.dir, "staging-app"), { recursive: true });
        fs.appendFileSync(path.join(project.dir, "staging-app", "index.js"), `\n// staging build of ${stagingStack}\n`);
        stagingUp = staging(["up", "--yes"]);
    });
    after(async () => {
        // Destroyed by the last test; again here only when a test failed before it.
        if (project && stagingUp && (await stagingUp.catch(() => undefined))) await staging(["destroy", "--confirm", project.app]).catch(() => undefined);
        await project?.cleanup();
        // The local staging stack's data volumes, which destroy keeps (as it does for users).
        if (stagingStack) await removeStackObjects(stagingStack);
        await hosts?.teardown();
    });

    test("doctor checks the server's engine and copies a missing base image there; no local dockerd started", async (t) => {
        const ref = recordedBaseImages()[copiedBase];
        // Missing there (the engine keeps images between runs): doctor must copy it.
        await host.engine.getImage(ref).remove({ force: true }).catch(() => undefined);
        const pidsBefore = dockerdPids();
        const r = await project!.cli(["doctor"]);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout + r.stderr;
        t.diagnostic(out.trim().split("\n").filter((l) => /docker:|images:|copied/.test(l)).join(" | "));
        assert.match(out, new RegExp(`docker: engine \\d+\\.\\d+\\.\\d+\\S* at ssh://root@${host.address.replace(/\./g, "\\.")}\\S* \\(API 1\\.\\d+, \\d+ MiB, found\\)`));
        assert.match(out, new RegExp(`copied ${ref.replace(/[.:/]/g, "\\$&")} from the local engine \\(\\d+ MB in [\\d.]+ s\\)`));
        assert.match(out, new RegExp(`images: .*${copiedBase}=${ref.replace(/[.:/]/g, "\\$&")} \\(copied\\)`));
        for (const name of Object.keys(recordedBaseImages()).filter((n) => n !== copiedBase)) assert.match(out, new RegExp(`${name}=\\S+ \\(present\\)`));
        assert.doesNotMatch(out, /started dockerd|installing/);
        assert.deepEqual([...dockerdPids()].filter((p) => !pidsBefore.has(p)), [], "no dockerd started");
        assert.ok((await host.engine.getImage(ref).inspect()).Id, "the base image is on the server now");
    });

    test("up builds on the server and the URL on the server's address answers 200; nothing runs locally", async (t) => {
        const r = await project!.cli(["up", "--yes"]);
        assert.equal(r.code, 0, r.stderr);
        url = r.stdout.trim().split("\n").pop()!;
        assert.equal(url, `http://${host.address}:5000`);
        const res = await fetch(`${url}/`);
        assert.equal(res.status, 200);
        assert.match(await res.text(), /Hello from web\.1/);
        assert.equal((await onLocalEngine(project!.stack)).length, 0, "no container of the app on the local engine");
        assert.ok((await onServer()).some((c) => c.Labels[LABEL.processType] === "web"), "web runs on the server");
        const image = (await host.engine.listImages()).find((i) => (i.RepoTags ?? []).some((t) => t.startsWith(`dynoform/hello`)));
        assert.ok(image, "the app image was built on the server");
    });

    test("ps, logs --tail and run against the server", async (t) => {
        // logs --tail follows until stopped: read until a line of the web dyno arrives.
        const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, "dist", "cli", "main.js"), "logs", "--tail", "--cwd", project!.dir, "--stack", project!.stack], {
            env: { ...process.env, ...project!.env },
        });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        try {
            // Options before `--`: after it, everything is the command's.
            const [ps, run] = await Promise.all([
                project!.cli(["ps"]),
                runCli(["run", "--cwd", project!.dir, "--stack", project!.stack, "--no-tty", "--", "sh", "-c", "exit 7"], project!.env),
                eventually(async () => (await fetch(`${url}/`), /web\.1/.test(out)), 30_000, "a web.1 line from logs --tail", 250),
            ]);
            assert.equal(ps.code, 0, ps.stderr);
            assert.match(ps.stdout, /web\.1: up/);
            assert.equal(run.code, 7, run.stderr);
        } finally {
            child.kill("SIGINT");
        }
    });

    test("config:set rolls the new config out on the server, rollback returns to v1", async (t) => {
        let r = await project!.cli(["config:set", "GREETING=Howdy"]);
        assert.equal(r.code, 0, r.stderr);
        await eventually(async () => /Howdy/.test(await (await fetch(`${url}/`)).text()), 30_000, "the new greeting");
        r = await project!.cli(["rollback", "v1"]);
        assert.equal(r.code, 0, r.stderr);
        await eventually(async () => !/Howdy/.test(await (await fetch(`${url}/`)).text()), 30_000, "the v1 greeting back");
    });

    test("unknown host key, wrong key, host down: one line each, exit 1, nothing changed", async (t) => {
        const empty = path.join(project!.dir, "empty_known_hosts");
        fs.writeFileSync(empty, "");
        const before = (await onServer()).map((c) => c.Id).sort();
        const cases: Array<[string, string, RegExp]> = [
            ["unknownkey", `ssh://root@${host.address}?identityFile=${hosts!.keyFile}&knownHostsFile=${empty}`, /host key of 10\.201\.90\.11 is not in .*empty_known_hosts: it offered ssh-ed25519 key SHA256:\S+; .*ssh-keyscan 10\.201\.90\.11 >>/],
            ["wrongkey", `ssh://root@${host.address}?identityFile=${hosts!.wrongKeyFile}&knownHostsFile=${hosts!.knownHostsFile}`, /ssh root@10\.201\.90\.11: the server refused every key/],
            ["down", `ssh://root@${hosts!.downAddress}?identityFile=${hosts!.keyFile}&knownHostsFile=${hosts!.knownHostsFile}`, /ssh root@10\.201\.90\.99: (cannot reach the server|no answer within)/],
        ];
        // One after another: each must answer within its deadline, which CLIs competing for the CPU would blur.
        for (const [stack, dockerHost, message] of cases) {
            writeStack(stack, { dockerHost });
            const started = Date.now();
            const r = await runCli(["config:set", "FAULT=1", "--cwd", project!.dir, "--stack", stack], project!.env);
            const ms = Date.now() - started;
            const lines = r.stderr.trim().split("\n");
            t.diagnostic(`${stack}: exit ${r.code} in ${ms} ms: ${lines[0]}`);
            assert.equal(r.code, 1, `${stack}: ${r.stderr}`);
            assert.equal(lines.length, 1, `${stack}: one line`);
            assert.match(lines[0], message, stack);
            // The issue: a host that does not answer is named within 10 s.
            assert.ok(ms < 10_000, `${stack} answered in ${ms} ms`);
            assert.equal(/FAULT/.test(fs.readFileSync(path.join(project!.dir, "stacks", `Pulumi.${stack}.yaml`), "utf8")), false, `${stack}: stack file unchanged`);
        }
        assert.deepEqual((await onServer()).map((c) => c.Id).sort(), before, "nothing changed on the server");
    });

    test("the SSH connection killed in the middle of an up: the next up recovers and leaves no stray container", async (t) => {
        const before = new Set((await onServer()).map((c) => c.Id));
        const interrupted = project!.cli(["config:set", "GREETING=Interrupted"]);
        // Once the rollout has created a container on the server, drop every SSH session.
        await eventually(async () => (await onServer()).some((c) => !before.has(c.Id)), 120_000, "a new container on the server");
        const killed = host.killSshSessions();
        assert.ok(killed > 0, "an SSH session was open and killed");
        const r1 = await interrupted;
        t.diagnostic(`interrupted config:set exited ${r1.code}: ${r1.stderr.trim().split("\n").join(" | ")}`);
        // Whether the cut-off create left its container depends on where the connection dropped: one
        // whose answer was lost (made on the server, recorded nowhere) is made here, as Docker would have.
        const [web] = (await onServer(project!.stack)).filter((c) => c.Labels[LABEL.processType] === "web");
        const stray = await host.engine.createContainer({ name: `${project!.app}-${project!.stack}.web.1.stray0`, Image: web.ImageID, Labels: web.Labels });
        // A failed config:set restores the stack file; one that got through keeps it: the next up deploys the file.
        const kept = /Interrupted/.test(fs.readFileSync(path.join(project!.dir, "stacks", `Pulumi.${project!.stack}.yaml`), "utf8"));
        const r2 = await project!.cli(["up", "--yes"]);
        assert.equal(r2.code, 0, r2.stderr);
        t.diagnostic(`recovery: ${(r2.stdout + r2.stderr).split("\n").filter((l) => /removed container|pending/.test(l)).join(" | ") || "nothing to remove"}`);
        await eventually(async () => {
            const res = await fetch(`${url}/`);
            return res.status === 200 && /Interrupted/.test(await res.text()) === kept;
        }, 30_000, "the app serving the stack file's config after recovery");
        await assert.rejects(stray.inspect(), /no such container/i, "the unrecorded container is removed");
        // One container per dyno, add-on and router: none the interrupted update left unrecorded.
        const names = (await onServer(project!.stack)).map((c) => c.Labels[LABEL.dyno] ?? c.Names[0]).sort();
        assert.equal(new Set(names).size, names.length, `one container each: ${names.join(", ")}`);
    });

    test("promote --from a local staging --to the server: the image is streamed across, same ID", async (t) => {
        const up = await stagingUp!;
        assert.equal(up.code, 0, up.stderr);
        const [web] = (await onLocalEngine(stagingStack)).filter((c) => c.Labels[LABEL.processType] === "web");
        const imageId = web.ImageID;
        await assert.rejects(host.engine.getImage(imageId).inspect(), "the server does not have staging's image yet");
        const r = await project!.cli(["promote", "--from", stagingStack, "--to", project!.stack]);
        assert.equal(r.code, 0, r.stderr);
        const copied = /Copied image .* to .*'s engine .* MB\/s\), same ID/.exec(r.stderr + r.stdout);
        assert.ok(copied, r.stderr + r.stdout);
        t.diagnostic(copied[0]);
        const remoteWeb = (await onServer(project!.stack)).find((c) => c.Labels[LABEL.processType] === "web" && c.State === "running");
        assert.equal(remoteWeb?.ImageID, imageId, "production on the server runs staging's image ID");
        assert.equal((await fetch(`${url}/`)).status, 200);
    });

    test("destroy removes the app from the server; nothing of it is left there or on the local engine", async (t) => {
        const [r, s] = await Promise.all([project!.cli(["destroy", "--confirm", project!.app]), staging(["destroy", "--confirm", project!.app])]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(s.code, 0, s.stderr);
        stagingUp = undefined;
        const label = [`${LABEL.app}=${project!.app}`];
        assert.deepEqual((await onServer()).map((c) => c.Names[0]), [], "no container of the app on the server");
        assert.deepEqual((await host.engine.listNetworks({ filters: { label } })).map((n) => n.Name), [], "no network of the app on the server");
        for (const stack of [project!.stack, stagingStack]) assert.deepEqual((await onLocalEngine(stack)).map((c) => c.Names[0]), [], `no container of ${stack} on the local engine`);
    });
});
