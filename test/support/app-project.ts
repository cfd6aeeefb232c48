import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import YAML from "yaml";
import { connectDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { PACKAGE_ROOT } from "../../toolchain/paths";
import { removeTestStack } from "./cli";

/** A copy of an example app in a temp folder, with its own stack and state, driven through the real CLI. */
export interface AppProject {
    dir: string;
    stack: string;
    app: string;
    env: Record<string, string>;
    /** Runs `dynoform <args> --cwd <dir> --stack <stack>`. */
    cli(args: string[], opts?: { timeoutMs?: number }): Promise<CliResult>;
    cleanup(): Promise<void>;
}

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * Copies `examples/<example>` and writes a stack file with `config` (keys without the `dynoform:`
 * prefix). `stack` names the stack (unique to the test: `e2e-<6 hex>` by default).
 */
export async function appProject(example: string, config: Record<string, unknown>, stackName?: string): Promise<AppProject> {
    const suffix = crypto.randomBytes(3).toString("hex");
    const stack = stackName ?? `e2e-${suffix}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dynoform-${example}-`));
    fs.cpSync(path.join(PACKAGE_ROOT, "examples", example), path.join(dir, "app"), { recursive: true });
    fs.symlinkSync(path.join(PACKAGE_ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${example}-e2e\nruntime: nodejs\nstackConfigDir: stacks\n`);
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.mkdirSync(path.join(dir, "state"));
    const app = String(config.app ?? example);
    const prefixed = Object.fromEntries(Object.entries({ source: "app", ...config, app }).map(([k, v]) => [`dynoform:${k}`, v]));
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), YAML.stringify({ config: prefixed }));
    const env = {
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: `e2e-passphrase-${suffix}`,
        NO_COLOR: "1",
    };
    const cli = (args: string[], opts: { timeoutMs?: number } = {}) => runCli([...args, "--cwd", dir, "--stack", stack], env, opts.timeoutMs);
    return {
        dir,
        stack,
        app,
        env,
        cli,
        async cleanup() {
            await removeTestStack(dir, env, stack, () => cli(["destroy", "--confirm", app]));
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/** Runs the built CLI as a child process, as a user would. */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 600_000): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, "dist", "cli", "main.js"), ...args], {
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, stdout, stderr });
        });
    });
}

/** Dyno containers of a stack by dyno name (`web.1` -> container ID), running or not. */
export async function dynoContainers(stack: string, type?: string): Promise<Map<string, string>> {
    const docker = connectDocker();
    const labels = [`${LABEL.stack}=${stack}`, `${LABEL.role}=dyno`, ...(type ? [`${LABEL.processType}=${type}`] : [])];
    const list = await docker.listContainers({ all: true, filters: { label: labels } });
    return new Map(
        list.filter((c) => !c.Labels["dev.dynoform.addon"] && c.Labels[LABEL.processType] !== "router").map((c) => [c.Labels[LABEL.dyno], c.Id]),
    );
}
