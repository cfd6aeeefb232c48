import assert from "node:assert/strict";
import { after, before } from "node:test";
import { ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { PACKAGE_ROOT } from "../../toolchain/paths";
import { missingEnginesMessage } from "./engines";
import { containersWith, freePort, stackHasResources } from "./harness";

/** The compiled CLI the tests run as a child process. */
export const CLI = path.join(PACKAGE_ROOT, "dist", "cli", "main.js");

/**
 * A tiny dependency-free web app: answers `<DYNO> <GREETING>` on $PORT and prints one log line
 * per request (`request GET /path`), and `listening on <port>` when it starts.
 */
export const TINY_APP: Readonly<Record<string, string>> = {
    Procfile: "web: node server.js\n",
    "package.json": JSON.stringify({ name: "tiny", version: "1.0.0", private: true, scripts: { start: "node server.js" } }, null, 2) + "\n",
    "server.js": [
        '"use strict";',
        'const http = require("http");',
        "const server = http.createServer((req, res) => {",
        "  console.log(`request ${req.method} ${req.url}`);",
        '  res.end(`${process.env.DYNO} ${process.env.GREETING || "hello"}`);',
        "});",
        "server.listen(process.env.PORT, () => console.log(`listening on ${process.env.PORT}`));",
        'process.on("SIGTERM", () => server.close(() => process.exit(0)));',
        "",
    ].join("\n"),
};

/** What one CLI run printed and how it exited. */
export interface CliResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Runs a program to completion with no input, collecting what it prints. */
export function runProcess(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
        child.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

/** A throwaway Dynoform project driven through the real CLI. */
export interface CliProject {
    dir: string;
    /** Unique id: stack names start with it, so tests never touch anyone else's containers. */
    id: string;
    /** PULUMI_BACKEND_URL (a state folder inside `dir`) and a test passphrase. */
    env: Record<string, string>;
    /** A unique stack name `<id>-<suffix>`, recorded for cleanup. */
    stackName(suffix: string): string;
    /** Writes `stacks/Pulumi.<stack>.yaml` with these `dynoform:*` settings (keys without the namespace). */
    writeStack(stack: string, settings: Record<string, unknown>): string;
    readStack(stack: string): string;
    /** Runs `node dist/cli/main.js --cwd <dir> <args>` to completion (--cwd first: `run` passes what follows `--` on). */
    cli(args: string[], opts?: { input?: string; timeoutMs?: number; cwd?: string }): Promise<CliResult>;
    /** Starts the CLI and returns the child with its output collected as it comes. */
    /** `detached`: the CLI leads its own process group, to be signalled as a terminal does (`process.kill(-pid)`). */
    /** `cliJs`: another build of the CLI (the bench's baseline) instead of this checkout's. */
    spawnCli(args: string[], opts?: { detached?: boolean; cliJs?: string }): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> };
    /** Destroys every recorded stack through the CLI, then removes what is left with their labels (containers, volumes, networks). */
    cleanup(): Promise<void>;
}

/**
 * A project folder in the temp dir with its own Pulumi.yaml, file backend and passphrase, and
 * node_modules linked from the repo. `app` files are written under `appDir` (default `app/`,
 * so state and stack files are not in the image's build context).
 */
export async function cliProject(
    prefix: string,
    opts: { files?: Record<string, string>; copyFrom?: string; appDir?: string; pulumiYaml?: boolean } = {},
): Promise<CliProject> {
    const id = `${prefix}-${crypto.randomBytes(3).toString("hex")}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dynoform-cli-${prefix}-`));
    const appDir = path.join(dir, opts.appDir ?? "app");
    fs.mkdirSync(appDir, { recursive: true });
    fs.mkdirSync(path.join(dir, "stacks"), { recursive: true });
    fs.mkdirSync(path.join(dir, "state"));
    if (opts.pulumiYaml !== false) {
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${prefix}\nruntime: nodejs\nstackConfigDir: stacks\n`);
    }
    fs.symlinkSync(path.join(PACKAGE_ROOT, "node_modules"), path.join(dir, "node_modules"));
    if (opts.copyFrom) {
        for (const f of fs.readdirSync(opts.copyFrom)) {
            if (f !== "node_modules") fs.cpSync(path.join(opts.copyFrom, f), path.join(appDir, f), { recursive: true });
        }
    }
    for (const [f, text] of Object.entries(opts.files ?? {})) fs.writeFileSync(path.join(appDir, f), text);

    const env = {
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: `cli-test-${id}`,
    };
    const stacks = new Set<string>();
    const childEnv = () => ({ ...process.env, ...env, NO_COLOR: "1", DYNOFORM_STACK: "" });

    const project: CliProject = {
        dir,
        id,
        env,
        stackName(suffix) {
            const name = `${id}-${suffix}`;
            stacks.add(name);
            return name;
        },
        writeStack(stack, settings) {
            stacks.add(stack);
            const config = Object.fromEntries(
                Object.entries(settings).map(([k, v]) => [`dynoform:${k}`, typeof v === "number" ? String(v) : v]),
            );
            const file = path.join(dir, "stacks", `Pulumi.${stack}.yaml`);
            fs.writeFileSync(file, YAML.stringify({ config }));
            return file;
        },
        readStack(stack) {
            return fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8");
        },
        cli(args, o = {}) {
            return new Promise((resolve, reject) => {
                const child = spawn(process.execPath, [CLI, "--cwd", o.cwd ?? dir, ...args], { env: childEnv(), stdio: ["pipe", "pipe", "pipe"] });
                let stdout = "";
                let stderr = "";
                child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
                child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
                const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 600_000);
                child.on("error", reject);
                child.on("close", (code) => {
                    clearTimeout(timer);
                    resolve({ code, stdout, stderr });
                });
                child.stdin.end(o.input ?? "");
            });
        },
        spawnCli(args, opts = {}) {
            const child = spawn(process.execPath, [opts.cliJs ?? CLI, "--cwd", dir, ...args], { env: childEnv(), stdio: ["pipe", "pipe", "pipe"], detached: opts.detached });
            let out = "";
            let err = "";
            child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
            child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
            const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
            return { child, out: () => out, err: () => err, exited };
        },
        async cleanup() {
            for (const stack of stacks) {
                const file = path.join(dir, "stacks", `Pulumi.${stack}.yaml`);
                const app = fs.existsSync(file) ? (YAML.parse(fs.readFileSync(file, "utf8"))?.config?.["dynoform:app"] as string | undefined) : undefined;
                await removeTestStack(dir, env, stack, async () => {
                    if (app) await project.cli(["destroy", "--stack", stack, "--confirm", app], { timeoutMs: 300_000 });
                });
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    return project;
}

/**
 * Whether a test stack's cleanup needs `destroy` through the CLI. A stack with nothing in its
 * state does not, nor one deployed to this machine's engine: its containers, volumes and networks
 * carry its labels ({@link removeStackObjects}) and its state goes with the project folder, where
 * a `destroy` costs about 3 CPU-s. Objects elsewhere or shared need it: another Docker host, a
 * Swarm cluster, an edge router that may route to the app. An unreadable stack file needs it too.
 */
export async function needsDestroy(projectDir: string, backendUrl: string, stack: string): Promise<boolean> {
    if (!stackHasResources(backendUrl, stack)) return false;
    let config: Record<string, unknown>;
    try {
        config = YAML.parse(fs.readFileSync(path.join(projectDir, "stacks", `Pulumi.${stack}.yaml`), "utf8"))?.config ?? {};
    } catch {
        return true;
    }
    if (["dockerHost", "cluster", "domains", "edge"].some((key) => config[`dynoform:${key}`] !== undefined)) return true;
    return (await connectDocker().listContainers({ all: true, filters: { label: ["dev.dynoform.edge=true"] } })).length > 0;
}

/** Removes what a test stack made: runs `destroy` where {@link needsDestroy} says so, then removes whatever carries its labels. */
export async function removeTestStack(projectDir: string, env: Record<string, string>, stack: string, destroy: () => Promise<unknown>): Promise<void> {
    if (await needsDestroy(projectDir, env.PULUMI_BACKEND_URL, stack).catch(() => true)) await destroy().catch(() => undefined);
    await removeStackObjects(stack);
}

/** Removes the containers, volumes and networks labelled with a stack name (only the test's own, unique names). */
export async function removeStackObjects(stack: string): Promise<void> {
    const docker = connectDocker();
    for (const c of await containersWith({ [LABEL.stack]: stack })) {
        await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL.stack}=${stack}`] } });
    for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined);
    for (const v of (await docker.listVolumes()).Volumes ?? []) {
        if (v.Name.includes(`-${stack}-`) || v.Name.includes(`.${stack}.`)) await docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined);
    }
    for (const n of await docker.listNetworks({ filters: { label: [`${LABEL.stack}=${stack}`] } })) {
        await docker.getNetwork(n.Id).remove().catch(() => undefined);
    }
}

/** Settings for the tiny app's stack: source `app`, a free router port, one web dyno. */
export async function tinyStack(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return { app: "tiny", source: "app", routerPort: await freePort(), ...extra };
}

/** The running web.1 container of a stack (docker inspect), or undefined. */
export async function webDyno(stack: string, dyno = "web.1") {
    const [c] = (await containersWith({ [LABEL.stack]: stack, [LABEL.dyno]: dyno })).filter((x) => x.State === "running");
    return c ? connectDocker().getContainer(c.Id).inspect() : undefined;
}

/** A dyno's environment as a map (from docker inspect). */
export function envOf(info: { Config: { Env?: string[] } }): Record<string, string> {
    return Object.fromEntries((info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** Asserts a usage error: exit 2 and exactly one line on stderr. Returns that line. */
export function usageLine(r: CliResult): string {
    const lines = r.stderr.trimEnd().split("\n");
    if (r.code !== 2 || lines.length !== 1) {
        throw new Error(`expected exit 2 with one line on stderr, got ${r.code}:\n${r.stderr}`);
    }
    return lines[0];
}

/** A test file's one tiny-app project and stack (see `deployOnce`). */
export interface SharedDeploy {
    /** Set by the file's `before` hook. */
    readonly project: CliProject;
    readonly stack: string;
    /** The settings written to the stack file by the first `deployed()`. */
    readonly settings: Record<string, unknown>;
    /** Writes the stack file and runs `up` the first time; later calls wait for that one. */
    deployed(): Promise<SharedDeploy>;
}

/**
 * One project and stack for a whole test file, deployed once by the first test that needs it and
 * destroyed after the file. Registers the file's `before` and `after` hooks, so call it at the top
 * level of the test file. `settings` are extra stack settings for `tinyStack`.
 */
export function deployOnce(prefix: string, opts: { files?: Record<string, string>; settings?: Record<string, unknown> } = {}): SharedDeploy {
    let project: CliProject | undefined;
    let stack = "";
    let settings: Record<string, unknown> = {};
    let deploying: Promise<SharedDeploy> | undefined;
    const shared: SharedDeploy = {
        get project() {
            if (!project) throw new Error("deployOnce: the project is made in the file's before hook");
            return project;
        },
        get stack() {
            return stack;
        },
        get settings() {
            return settings;
        },
        deployed() {
            deploying ??= (async () => {
                settings = await tinyStack(opts.settings);
                shared.project.writeStack(stack, settings);
                const up = await shared.project.cli(["up", "--yes", "--stack", stack]);
                assert.equal(up.code, 0, up.stderr);
                return shared;
            })();
            return deploying;
        },
    };
    // Without the engines the file's live tests are skipped (or failed, under CI): nothing to make.
    if (missingEnginesMessage()) return shared;
    before(async () => {
        project = await cliProject(prefix, { files: opts.files ?? TINY_APP });
        stack = project.stackName("s");
    });
    after(async () => {
        await project?.cleanup();
    });
    return shared;
}
