import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { TestContext } from "node:test";
import { enginesHere, missingEnginesMessage } from "./engines";
import type { EngineEvent, OutputMap, PulumiFn, Stack, UpdateKind, UpdateSummary } from "@pulumi/pulumi/automation";
import { specialSigKey } from "@pulumi/pulumi/runtime";
import { connectDocker, DockerSlowError, pingDocker } from "../../infra/docker/client";
import { LABEL } from "../../infra/docker/labels";
import { openStack, stackCheckpointFiles } from "../../infra/engine/workspace";
import { BaseImageRefs, recordedBaseImages } from "../../toolchain/base-images";
import { waitForDocker } from "../../toolchain/docker-engine";
import { cliVersion, PULUMI_VERSION, pulumiRoot } from "../../toolchain/pulumi-cli";
import { PACKAGE_ROOT } from "../../toolchain/paths";

/**
 * What keeps end-to-end tests from running: a Docker engine that does not answer, or no Pulumi
 * CLI of the pinned version. An engine that is there but slow (a loaded CI machine) is waited
 * for, up to a minute: slow is not missing.
 */
export async function missingEngines(): Promise<string[]> {
    const problems: string[] = [];
    try {
        await pingDocker(undefined, 3000);
    } catch (err) {
        if (err instanceof DockerSlowError) {
            await waitForDocker(60_000).catch((e: Error) => problems.push(`${err.message}, nor in the minute after: ${e.message}`));
        } else {
            problems.push((err as Error).message);
        }
    }
    const cli = path.join(pulumiRoot(), "bin", "pulumi");
    if (!fs.existsSync(cli) || cliVersion(cli) !== PULUMI_VERSION) {
        problems.push(`no Pulumi CLI v${PULUMI_VERSION} at ${cli}`);
    }
    return problems;
}

/**
 * Older form of {@link testLive} for one test: true when the engines are there; under CI=true
 * their absence throws, elsewhere the test is skipped, loudly. New tests use `testLive` or
 * `describeLive` (test/support/engines.ts) instead of calling this at their top.
 */
export async function requireEngines(t: TestContext): Promise<boolean> {
    const message = missingEnginesMessage();
    if (!message) return true;
    if (process.env.CI === "true") throw new Error(message);
    process.stderr.write(`\n!!! SKIPPED ${t.name}: ${message}\n\n`);
    t.skip(message);
    return false;
}

/**
 * Older form of {@link describeLive} for `before` hooks: true when the engines are there; under
 * CI=true their absence throws, elsewhere false, said loudly.
 */
export async function enginesForHook(what: string): Promise<boolean> {
    return enginesHere(what);
}

/**
 * Whether a stack of a file backend has something for `destroy` to do: a resource in its
 * checkpoint besides the stack and its providers, or an operation left in flight. Cleanups skip
 * `destroy` for the others (never deployed, or destroyed by the test itself): one that finds
 * nothing still costs about 2.5 CPU-s of Pulumi. An unreadable checkpoint counts as something.
 */
export function stackHasResources(backendUrl: string, stack: string): boolean {
    return stackCheckpointFiles(backendUrl, stack).some((file) => {
        try {
            const latest = JSON.parse(fs.readFileSync(file, "utf8")).checkpoint?.latest ?? {};
            const resources = (latest.resources ?? []) as Array<{ type: string }>;
            return resources.some((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:")) || (latest.pending_operations ?? []).length > 0;
        } catch {
            return true;
        }
    });
}

/** A throwaway Pulumi project: its own folder, file backend and passphrase; node_modules linked from the repo. */
export interface TestProject {
    dir: string;
    id: string;
    env: Record<string, string>;
    images: BaseImageRefs;
    stack(program: PulumiFn, name?: string): Promise<Stack>;
    cleanup(): Promise<void>;
}

export async function testProject(prefix: string): Promise<TestProject> {
    const id = `${prefix}-${crypto.randomBytes(3).toString("hex")}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dynoform-${prefix}-`));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${prefix}\nruntime: nodejs\n`);
    fs.symlinkSync(path.join(PACKAGE_ROOT, "node_modules"), path.join(dir, "node_modules"));
    fs.mkdirSync(path.join(dir, "state"));
    const env = {
        PULUMI_BACKEND_URL: `file://${path.join(dir, "state")}`,
        PULUMI_CONFIG_PASSPHRASE: `test-passphrase-${id}`,
    };
    const stacks: Stack[] = [];
    return {
        dir,
        id,
        env,
        images: recordedBaseImages(),
        async stack(program, name = id) {
            const s = withEngineSummaries(await openStack({ projectDir: dir, stack: name, program, env }));
            stacks.push(s);
            return s;
        },
        async cleanup() {
            for (const s of stacks) {
                if (stackHasResources(env.PULUMI_BACKEND_URL, s.name)) await s.destroy().catch(() => undefined);
            }
            await removeContainers({ [LABEL.stack]: id });
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * `stack` with the summary of each `up`, `refresh` and `destroy`, and the outputs of each `up`,
 * taken from the engine's own events instead of more `pulumi` runs. The Automation API ends each
 * of them with `stack.info()`, a `pulumi stack history` run (0.38 CPU-s here; dyno.live made 26
 * of them, about 10 of its 74 CPU-s), and each `up` also with `stack.outputs()`, two
 * `pulumi stack output` runs (masked, then shown). The same run's summary event carries the same
 * resource changes, and the stack resource's outputs event the same outputs
 * (test/smoke.live.test.ts compares them with the history and with `stack.outputs()`). The
 * Automation API asks for them only after the command exited 0, so the result is "succeeded";
 * `version` is not known without the history. Outputs holding a secret, which the event shows
 * as `[secret]`, are read with `stack output` as before; so is anything the test asks itself.
 */
export function withEngineSummaries(stack: Stack): Stack {
    const history = stack.info.bind(stack);
    const stackOutputs = stack.outputs.bind(stack);
    let next: UpdateSummary | undefined;
    let nextOutputs: OutputMap | undefined;
    const kinds: Record<"up" | "refresh" | "destroy", UpdateKind> = { up: "update", refresh: "refresh", destroy: "destroy" };
    for (const [op, kind] of Object.entries(kinds) as Array<["up" | "refresh" | "destroy", UpdateKind]>) {
        const run = stack[op].bind(stack) as (opts?: { onEvent?: (e: EngineEvent) => void }) => Promise<unknown>;
        (stack as unknown as Record<string, unknown>)[op] = async (opts: { onEvent?: (e: EngineEvent) => void } = {}) => {
            const startTime = new Date();
            next = nextOutputs = undefined;
            const onEvent = (e: EngineEvent) => {
                if (e.summaryEvent) {
                    const { resourceChanges } = e.summaryEvent;
                    next = { kind, startTime, endTime: new Date(), message: "", environment: {}, config: {}, result: "succeeded", version: Number.NaN, resourceChanges };
                }
                const outputs = e.resOutputsEvent?.metadata.type === "pulumi:pulumi:Stack" ? e.resOutputsEvent.metadata.new?.outputs : undefined;
                if (op === "up" && outputs && !JSON.stringify(outputs).includes(specialSigKey)) {
                    nextOutputs = Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value, secret: false }]));
                }
                opts.onEvent?.(e);
            };
            try {
                return await run({ ...opts, onEvent });
            } finally {
                next = nextOutputs = undefined;
            }
        };
    }
    stack.info = async (showSecrets?: boolean) => {
        const summary = next;
        next = undefined;
        return summary ?? history(showSecrets);
    };
    stack.outputs = async () => {
        const outputs = nextOutputs;
        nextOutputs = undefined;
        return outputs ?? stackOutputs();
    };
    return stack;
}

/** Containers with all the given labels (running or not). */
export async function containersWith(labels: Record<string, string>) {
    const docker = connectDocker();
    return docker.listContainers({
        all: true,
        filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) },
    });
}

async function removeContainers(labels: Record<string, string>) {
    const docker = connectDocker();
    for (const c of await containersWith(labels)) {
        await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
}

/** A TCP port nobody listens on now. */
/**
 * A port nothing listens on, for a router. Taken below the kernel's ephemeral range (32768 and
 * up here): a port the kernel hands out for `listen(0)` may be handed out again at once to
 * another process (Pulumi's engine and plugins listen on such ports), and a router port check
 * then rightly refuses it.
 */
export async function freePort(): Promise<number> {
    for (let attempt = 0; attempt < 100; attempt++) {
        const port = 20000 + crypto.randomInt(12000);
        const free = await new Promise<boolean>((resolve) => {
            const srv = net.createServer();
            srv.once("error", () => resolve(false));
            srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
        });
        if (free) return port;
    }
    throw new Error("no free port from 20000 to 31999 in 100 tries");
}

/**
 * A one-line Node.js HTTP server for dynos: answers "$DYNO $GREETING" (GREETING defaults to hello)
 * on $PORT, and logs `listening at <ms since epoch>` once it accepts connections (a container reads
 * the host's clock, so the figure compares with Docker's event times).
 */
export function httpServerCommand(extra = ""): string {
    return `node -e 'require("http").createServer((q,s)=>s.end(process.env.DYNO+" "+(process.env.GREETING||"hello"))).listen(process.env.PORT,()=>console.log("listening at "+Date.now()));${extra}'`;
}
