import { execFile } from "child_process";
import * as path from "path";
import { pulumiEnvironment } from "../../toolchain/backend";
import { stackConfigFile } from "./workspace";
import { ensurePulumiCli } from "../../toolchain/pulumi-cli";
import { silentReporter } from "../../toolchain/report";

/** A stack to read from: its project folder and name, and extra environment for the CLI. */
export interface StackRef {
    projectDir: string;
    stack: string;
    env?: Record<string, string>;
}

/** A stack the backend does not have (never deployed, or destroyed and removed). */
export class NoSuchStackError extends Error {
    override readonly name = "NoSuchStackError";
}

/**
 * The outputs of a stack's last update, secret ones decrypted in memory; empty for a stack the
 * backend does not have yet. One `pulumi stack output` call: the Automation API's
 * `stack.outputs()` takes three (`stack select`, then the outputs masked and unmasked to learn
 * which are secret), and read-only commands only need the values.
 */
export async function readStackOutputs(ref: StackRef): Promise<Record<string, unknown>> {
    try {
        return JSON.parse(await pulumi(ref, ["stack", "output", "--json", "--show-secrets"])) as Record<string, unknown>;
    } catch (err) {
        if (err instanceof NoSuchStackError) return {};
        throw err;
    }
}

/** One resource of a stack's last deployment: its name (from the URN) and its outputs. */
export interface DeployedResource {
    name: string;
    outputs: Record<string, unknown>;
}

/** Secret values in `pulumi stack export` (not decrypted): left out, so nothing secret is read. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Outputs as exported, with every secret value removed. Pure. */
export function withoutSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutSecrets);
    if (typeof value !== "object" || value === null) return value;
    if (SECRET_SIG in value) return undefined;
    return Object.fromEntries(
        Object.entries(value).flatMap(([k, v]) => {
            const kept = withoutSecrets(v);
            return kept === undefined ? [] : [[k, kept]];
        }),
    );
}

/**
 * The resources of type `type` in a stack's last deployment, with their outputs (secret ones
 * left out, never decrypted): how the CLI reads a stack made by any Pulumi program. One
 * `pulumi stack export` call; [] when the backend has no such stack.
 */
export async function readDeployedResources(ref: StackRef, type: string): Promise<DeployedResource[]> {
    let exported: string;
    try {
        exported = await pulumi(ref, ["stack", "export"]);
    } catch (err) {
        if (err instanceof NoSuchStackError) return [];
        throw err;
    }
    const resources = (JSON.parse(exported) as { deployment?: { resources?: Array<{ urn: string; type: string; outputs?: unknown }> } })
        .deployment?.resources ?? [];
    return resources
        .filter((r) => r.type === type)
        .map((r) => ({ name: r.urn.split("::").pop() ?? "", outputs: (withoutSecrets(r.outputs ?? {}) ?? {}) as Record<string, unknown> }));
}

/**
 * A stack's config (`namespace:key` -> value, secrets decrypted in memory), in one `pulumi
 * config` call. Throws {@link NoSuchStackError} when the backend has no such stack: its config
 * file alone cannot be decrypted without it, so callers open (create) the stack then.
 */
export async function readStackConfig(ref: StackRef): Promise<Record<string, string>> {
    const all = JSON.parse(await pulumi(ref, ["config", "--json", "--show-secrets"])) as Record<string, { value?: string }>;
    return Object.fromEntries(Object.entries(all).flatMap(([k, v]) => (v.value === undefined ? [] : [[k, v.value]])));
}

/** Runs the pinned CLI on the stack; stdout, or an error with the CLI's own last line. */
async function pulumi(ref: StackRef, args: string[]): Promise<string> {
    const cli = await ensurePulumiCli(silentReporter);
    const env = { ...process.env, ...pulumiEnvironment(cli.binDir, { file: stackConfigFile(ref.projectDir, ref.stack), name: ref.stack, projectDir: ref.projectDir }), ...(ref.env ?? {}) };
    const full = [...args, "--stack", ref.stack, "--non-interactive"];
    return new Promise((resolve, reject) => {
        execFile(path.join(cli.root, "bin", "pulumi"), full, { cwd: ref.projectDir, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            if (!err) return resolve(stdout);
            const said = stderr.trim().split("\n").filter(Boolean).pop() ?? err.message;
            if (/no stack named '[^']*' found/.test(said)) return reject(new NoSuchStackError(`stack ${ref.stack} does not exist in the backend yet`));
            reject(new Error(`pulumi ${args.slice(0, 2).join(" ")} --stack ${ref.stack}: ${said.replace(/^error: /, "")}`));
        });
    });
}
