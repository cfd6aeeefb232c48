/**
 * Dynoform's own Node.js language host for the Pulumi CLI: what `pulumi-language-nodejs` is to a
 * stock Pulumi install. The CLI built from Go modules comes without one (the Go module proxy does
 * not serve the upstream host), and plain `pulumi up` / `pulumi preview` of a `runtime: nodejs`
 * project needs one. `dynoform up` does not: it runs its program inline through the Automation API.
 *
 * Protocol (pulumirpc.LanguageRuntime, proto/pulumi/language.proto):
 * - The engine starts the plugin with its own gRPC address as the last argument, optionally
 *   preceded by flags (`--logtostderr`, `-v=N`, `--tracing URL`); unknown flags are ignored.
 *   We listen on 127.0.0.1 on a free port and print the port as the first line of stdout.
 * - The engine stops us with SIGINT (to our process group), or goes away: stdin is a pipe from
 *   the engine, so its end means the engine is gone. Either way we stop the program we ran and exit.
 * - `Run` spawns `node <@pulumi/pulumi>/cmd/run <flags> <program>` (the SDK's own runner, resolved
 *   from the program's folder so the program's copy of the SDK is used), with the stack config as
 *   JSON in PULUMI_CONFIG and the secret keys in PULUMI_CONFIG_SECRET_KEYS. The program's
 *   stdout/stderr go to our stderr, which the engine shows. Exit 0 is success; exit 32 means
 *   "the SDK already showed the user the error" and maps to `bail`; any other exit is an error.
 *
 * The program also gets `--require inspect-guard.js`, which keeps a Node.js bug from turning
 * every uncaught program error into a two-minute, gigabytes-large hang (see that file).
 *
 * TypeScript programs: this host does not transpile (no ts-node). For a `.ts` entry point whose
 * compiled twin exists under `<project root>/dist/` at the same relative path with `.js`
 * (`infra/main.ts` -> `dist/infra/main.js`, what `npx tsc -p .` produces here), the twin is run;
 * otherwise the entry point is run as given. A twin older than any `.ts` source of the project
 * is rebuilt first with the project's `tsc -p .` (or the run is refused, naming that command).
 *
 * Not implemented (answered with UNIMPLEMENTED): RunPlugin, Template, GenerateProgram,
 * GenerateProject, GeneratePackage, Pack, Link. Runtime options in Pulumi.yaml
 * (`typescript`, `nodeargs`, `packagemanager`, ...) are ignored.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type * as grpcTypes from "@grpc/grpc-js";
import * as langpb from "@pulumi/pulumi/proto/language_pb";
import * as langrpc from "@pulumi/pulumi/proto/language_grpc_pb";
import * as pluginpb from "@pulumi/pulumi/proto/plugin_pb";
import { newestSource, rebuildTwin } from "./twin";

const SDK_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
// The gRPC library the generated stubs use: a Server only accepts service definitions of its own copy.
const grpc: typeof grpcTypes = require(require.resolve("@grpc/grpc-js", { paths: [SDK_DIR] }));

/** The plugin version we report: the SDK's, which the CLI is pinned to. */
export const HOST_VERSION: string = require("@pulumi/pulumi/package.json").version;

/** Exit code of `cmd/run` when the error was already shown to the user (the SDK's convention). */
export const EXIT_ERROR_ALREADY_REPORTED = 32;

const LOG_PREFIX = "dynoform language host";

function log(message: string): void {
    process.stderr.write(`${LOG_PREFIX}: ${message}\n`);
}

/** Flags the engine may put before the engine address that take a separate value. */
const FLAGS_WITH_VALUE = new Set(["--tracing", "-tracing", "--root", "-root"]);

/** The engine address from our command line: the last positional argument (flags are skipped). */
export function engineAddressFromArgs(args: string[]): string | undefined {
    const positional: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === "--") {
            positional.push(...args.slice(i + 1));
            break;
        }
        if (a.startsWith("-")) {
            if (!a.includes("=") && FLAGS_WITH_VALUE.has(a)) i++;
            continue;
        }
        positional.push(a);
    }
    return positional.length > 0 ? positional[positional.length - 1] : undefined;
}

/** Where a program is: the engine sends a ProgramInfo; older engines only `pwd` and `program`. */
export interface ProgramLocation {
    rootDirectory: string;
    programDirectory: string;
    entryPoint: string;
}

function locate(info: langpb.ProgramInfo | undefined, pwd = "", program = ""): ProgramLocation {
    const programDirectory = info?.getProgramDirectory() || pwd || process.cwd();
    return {
        rootDirectory: info?.getRootDirectory() || programDirectory,
        programDirectory,
        entryPoint: info?.getEntryPoint() || program || ".",
    };
}

/**
 * The file to run for an entry point: for `<root>/<rel>.ts` whose compiled twin
 * `<root>/dist/<rel>.js` exists, the twin, and `newer`: the newest `.ts` source of the project
 * when it is newer than the twin (the twin is then stale); otherwise the entry point as given.
 */
export function programToRun(loc: ProgramLocation): { program: string; twinOf?: string; stale?: boolean; newer?: string } {
    const entry = loc.entryPoint;
    if (!/\.ts$/.test(entry) || /\.d\.ts$/.test(entry)) return { program: entry };
    const source = path.resolve(loc.programDirectory, entry);
    const rel = path.relative(loc.rootDirectory, source);
    if (rel.startsWith("..") || path.isAbsolute(rel)) return { program: entry };
    const twin = path.join(loc.rootDirectory, "dist", rel.replace(/\.ts$/, ".js"));
    if (!fs.existsSync(twin)) return { program: entry };
    const newest = newestSource(loc.rootDirectory);
    const stale = newest !== undefined && newest.mtimeMs > fs.statSync(twin).mtimeMs;
    return { program: twin, twinOf: source, stale, ...(stale ? { newer: newest.file } : {}) };
}

/** The SDK's program runner, resolved from the program's folder (PULUMI_LANGUAGE_NODEJS_RUN_PATH overrides). */
export function resolveRunner(programDirectory: string): string {
    const override = process.env.PULUMI_LANGUAGE_NODEJS_RUN_PATH;
    if (override) return path.resolve(programDirectory, override);
    try {
        return require.resolve("@pulumi/pulumi/cmd/run", { paths: [programDirectory] });
    } catch {
        throw new Error(
            `could not find @pulumi/pulumi from ${programDirectory}: the Pulumi SDK is not installed there ` +
                "(run `npm install` in the project)",
        );
    }
}

/** What `Run` needs from a RunRequest, as plain data (so it can be tested without gRPC). */
export interface RunSpec {
    monitor: string;
    engine?: string;
    organization?: string;
    project?: string;
    stack?: string;
    rootDirectory: string;
    programDirectory: string;
    program: string;
    dryRun: boolean;
    parallel: number;
    tracing?: string;
    args: string[];
    config: Record<string, string>;
    secretKeys: string[];
}

/** Preloaded into the program: works around a Node.js bug that hangs error reports (see inspect-guard.ts). */
export const INSPECT_GUARD = path.join(__dirname, "inspect-guard.js");

/**
 * Node's arguments for a run: the preload (the inspect guard) if any, then `cmd/run` and its flags (all before
 * the program: it stops parsing at the first positional), then the program and its args.
 */
export function runArguments(runner: string, s: RunSpec, preload?: string): string[] {
    const out = preload ? ["--require", preload, runner] : [runner];
    const flag = (name: string, value: string | undefined) => {
        if (value) out.push(`--${name}`, value);
    };
    flag("monitor", s.monitor);
    flag("engine", s.engine);
    flag("organization", s.organization);
    flag("project", s.project);
    flag("root-directory", s.rootDirectory);
    flag("stack", s.stack);
    flag("pwd", s.programDirectory);
    if (s.dryRun) out.push("--dry-run");
    flag("parallel", String(s.parallel));
    flag("tracing", s.tracing);
    out.push(s.program, ...s.args);
    return out;
}

/** The environment of the program: ours plus the stack config the SDK reads. */
export function runEnvironment(s: RunSpec, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    return {
        ...base,
        PULUMI_CONFIG: JSON.stringify(s.config),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(s.secretKeys),
    };
}

/** How the program ended, as the engine wants it: an error message, or `bail` when the SDK already reported it. */
export function runOutcome(code: number | null, signal: NodeJS.Signals | null): { error: string; bail: boolean } {
    if (code === 0) return { error: "", bail: false };
    if (code === EXIT_ERROR_ALREADY_REPORTED) return { error: "", bail: true };
    if (code !== null) return { error: `Program exited with non-zero exit code: ${code}`, bail: false };
    return { error: `Program was stopped by signal ${signal ?? "unknown"}`, bail: false };
}

/** Dependencies named in the nearest package.json at or above `dir` (up to `root`), with installed versions where found. */
export function programDependencies(dir: string, root: string): { name: string; version: string }[] {
    let d = path.resolve(dir);
    const stop = path.resolve(root);
    for (;;) {
        const file = path.join(d, "package.json");
        if (fs.existsSync(file)) {
            const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
            const all: Record<string, string> = { ...(pkg.devDependencies ?? {}), ...(pkg.dependencies ?? {}) };
            return Object.keys(all).sort().map((name) => ({ name, version: installedVersion(name, d) ?? all[name] }));
        }
        const parent = path.dirname(d);
        if (d === stop || parent === d) return [];
        d = parent;
    }
}

function installedVersion(name: string, from: string): string | undefined {
    try {
        return JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`, { paths: [from] }), "utf8")).version;
    } catch {
        return undefined;
    }
}

type UnaryHandler<Req, Res> = grpcTypes.handleUnaryCall<Req, Res>;

/** The LanguageRuntime service. Programs it started are stopped by {@link LanguageHost.stopPrograms}. */
export class LanguageHost {
    private engineAddress: string | undefined;
    private readonly programs = new Set<ChildProcess>();

    constructor(engineAddress: string | undefined) {
        this.engineAddress = engineAddress;
    }

    /** The handlers grpc-js serves; every other method of the service answers UNIMPLEMENTED. */
    handlers(): grpcTypes.UntypedServiceImplementation {
        const impl: Partial<langrpc.ILanguageRuntimeServer> = {
            handshake: this.handshake,
            getPluginInfo: this.getPluginInfo,
            getRequiredPlugins: this.getRequiredPlugins,
            getRequiredPackages: this.getRequiredPackages,
            getProgramDependencies: this.getProgramDependencies,
            installDependencies: this.installDependencies,
            runtimeOptionsPrompts: this.runtimeOptionsPrompts,
            about: this.about,
            run: this.run,
            cancel: this.cancel,
        };
        const all: grpcTypes.UntypedServiceImplementation = {};
        for (const [name, method] of Object.entries(langrpc.LanguageRuntimeService)) {
            const own = (impl as Record<string, unknown>)[name];
            all[name] = (own as grpcTypes.UntypedHandleCall | undefined) ?? unimplemented(name, method.responseStream);
        }
        return all;
    }

    /** Interrupts the programs still running (SIGINT, as the engine does with us). */
    stopPrograms(signal: NodeJS.Signals = "SIGINT"): void {
        for (const child of this.programs) child.kill(signal);
    }

    get running(): number {
        return this.programs.size;
    }

    private handshake: UnaryHandler<langpb.LanguageHandshakeRequest, langpb.LanguageHandshakeResponse> = (call, cb) => {
        const address = call.request.getEngineAddress();
        if (address) this.engineAddress = address;
        cb(null, new langpb.LanguageHandshakeResponse());
    };

    private getPluginInfo: langrpc.ILanguageRuntimeServer["getPluginInfo"] = (_call, cb) => {
        cb(null, new pluginpb.PluginInfo().setVersion(HOST_VERSION));
    };

    // Dynoform programs need no resource plugin but the dynamic-provider host, which the CLI
    // finds next to itself; reporting none keeps the engine from looking for any other.
    private getRequiredPlugins: UnaryHandler<langpb.GetRequiredPluginsRequest, langpb.GetRequiredPluginsResponse> = (
        _call,
        cb,
    ) => cb(null, new langpb.GetRequiredPluginsResponse());

    private getRequiredPackages: UnaryHandler<langpb.GetRequiredPackagesRequest, langpb.GetRequiredPackagesResponse> = (
        _call,
        cb,
    ) => cb(null, new langpb.GetRequiredPackagesResponse());

    private getProgramDependencies: UnaryHandler<
        langpb.GetProgramDependenciesRequest,
        langpb.GetProgramDependenciesResponse
    > = (call, cb) => {
        try {
            const loc = locate(call.request.getInfo(), call.request.getPwd(), call.request.getProgram());
            const resp = new langpb.GetProgramDependenciesResponse();
            for (const dep of programDependencies(loc.programDirectory, loc.rootDirectory)) {
                resp.addDependencies(new langpb.DependencyInfo().setName(dep.name).setVersion(dep.version));
            }
            cb(null, resp);
        } catch (err) {
            cb({ code: grpc.status.INTERNAL, details: (err as Error).message });
        }
    };

    // Dependencies are npm's business here (`npm install`); we only check that the SDK is there.
    private installDependencies: grpcTypes.handleServerStreamingCall<
        langpb.InstallDependenciesRequest,
        langpb.InstallDependenciesResponse
    > = (call) => {
        const loc = locate(call.request.getInfo(), call.request.getDirectory());
        const say = (text: string, stream: "stdout" | "stderr" = "stdout") => {
            const msg = new langpb.InstallDependenciesResponse();
            if (stream === "stdout") msg.setStdout(Buffer.from(text));
            else msg.setStderr(Buffer.from(text));
            call.write(msg);
        };
        try {
            const runner = resolveRunner(loc.programDirectory);
            say(`Dependencies are installed (Pulumi SDK at ${path.dirname(path.dirname(path.dirname(runner)))}); ` +
                "Dynoform's language host does not run npm: use `npm install` to change them.\n");
            call.end();
        } catch (err) {
            say(`${(err as Error).message}\n`, "stderr");
            call.emit("error", { code: grpc.status.FAILED_PRECONDITION, details: (err as Error).message });
        }
    };

    private runtimeOptionsPrompts: UnaryHandler<langpb.RuntimeOptionsRequest, langpb.RuntimeOptionsResponse> = (
        _call,
        cb,
    ) => cb(null, new langpb.RuntimeOptionsResponse());

    private about: UnaryHandler<langpb.AboutRequest, langpb.AboutResponse> = (call, cb) => {
        const resp = new langpb.AboutResponse().setExecutable(process.execPath).setVersion(process.versions.node);
        resp.getMetadataMap().set("languageHost", `dynoform ${HOST_VERSION}`);
        const info = call.request.getInfo();
        if (info) {
            const sdk = installedVersion("@pulumi/pulumi", locate(info).programDirectory);
            if (sdk) resp.getMetadataMap().set("pulumiSdk", sdk);
        }
        cb(null, resp);
    };

    private run: UnaryHandler<langpb.RunRequest, langpb.RunResponse> = (call, cb) => {
        const req = call.request;
        const respond = (error: string, bail = false) => cb(null, new langpb.RunResponse().setError(error).setBail(bail));
        let runner: string;
        const loc = locate(req.getInfo(), req.getPwd(), req.getProgram());
        try {
            runner = resolveRunner(loc.programDirectory);
        } catch (err) {
            respond((err as Error).message);
            return;
        }
        const chosen = programToRun(loc);
        if (chosen.stale && chosen.newer) {
            rebuildTwin(loc.rootDirectory, chosen.program, chosen.newer, log).then(
                (error) => (error ? respond(error) : this.start(call, respond, loc, runner, chosen.program)),
                (err: Error) => respond(err.message),
            );
            return;
        }
        if (!chosen.twinOf && /\.ts$/.test(loc.entryPoint)) {
            log(`no compiled twin of ${loc.entryPoint} under ${path.join(loc.rootDirectory, "dist")}: ` +
                "running the .ts file as given (build with `npx tsc -p .`)");
        }
        this.start(call, respond, loc, runner, chosen.program);
    };

    /** Runs the program through the SDK's runner and answers the engine when it exits. */
    private start(
        call: grpcTypes.ServerUnaryCall<langpb.RunRequest, langpb.RunResponse>,
        respond: (error: string, bail?: boolean) => void,
        loc: ProgramLocation,
        runner: string,
        program: string,
    ): void {
        const req = call.request;
        const config: Record<string, string> = {};
        req.getConfigMap().forEach((value, key) => {
            config[key] = value;
        });
        const spec: RunSpec = {
            monitor: req.getMonitorAddress(),
            engine: this.engineAddress,
            organization: req.getOrganization(),
            project: req.getProject(),
            stack: req.getStack(),
            rootDirectory: loc.rootDirectory,
            programDirectory: loc.programDirectory,
            program,
            dryRun: req.getDryrun(),
            parallel: req.getParallel(),
            args: req.getArgsList(),
            config,
            secretKeys: req.getConfigsecretkeysList(),
        };
        const child = spawn(process.execPath, runArguments(runner, spec, fs.existsSync(INSPECT_GUARD) ? INSPECT_GUARD : undefined), {
            cwd: loc.programDirectory,
            env: runEnvironment(spec),
            stdio: ["ignore", "pipe", "pipe"],
        });
        this.programs.add(child);
        child.stdout!.pipe(process.stderr, { end: false });
        child.stderr!.pipe(process.stderr, { end: false });
        const onCancelled = () => child.kill("SIGINT");
        call.on("cancelled", onCancelled);
        let answered = false;
        child.on("error", (err) => {
            this.programs.delete(child);
            if (answered) return;
            answered = true;
            respond(`could not start the program with ${process.execPath}: ${err.message}`);
        });
        // `close`, not `exit`: the program's last output is through the pipes before we answer.
        child.on("close", (code, signal) => {
            this.programs.delete(child);
            call.removeListener("cancelled", onCancelled);
            if (answered) return;
            answered = true;
            const outcome = runOutcome(code, signal);
            respond(outcome.error, outcome.bail);
        });
    }

    private cancel: langrpc.ILanguageRuntimeServer["cancel"] = (_call, cb) => {
        this.stopPrograms("SIGINT");
        // google.protobuf.Empty, taken from the service definition (no direct google-protobuf import).
        type Empty = Parameters<typeof cb>[1];
        const EmptyClass = (langrpc.LanguageRuntimeService.cancel as unknown as { responseType: new () => Empty }).responseType;
        cb(null, new EmptyClass());
    };
}

function unimplemented(name: string, streaming: boolean): grpcTypes.UntypedHandleCall {
    const status = { code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented by Dynoform's language host` };
    if (streaming) {
        return ((call: grpcTypes.ServerWritableStream<unknown, unknown>) => {
            call.emit("error", status);
        }) as grpcTypes.UntypedHandleCall;
    }
    return ((_call: unknown, cb: grpcTypes.sendUnaryData<unknown>) => cb(status)) as grpcTypes.UntypedHandleCall;
}

/** Starts the server on 127.0.0.1 (port 0: any free one); resolves with the server and its port. */
export function serve(host: LanguageHost, port = 0): Promise<{ server: grpcTypes.Server; port: number }> {
    const server = new grpc.Server({
        "grpc.max_receive_message_length": 400 * 1024 * 1024,
        "grpc.max_send_message_length": 400 * 1024 * 1024,
    });
    server.addService(langrpc.LanguageRuntimeService, host.handlers());
    return new Promise((resolve, reject) => {
        server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
            if (err) reject(err);
            else resolve({ server, port: bound });
        });
    });
}

/** The plugin's entry: serve, print the port, and live as long as the engine does. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
    const host = new LanguageHost(engineAddressFromArgs(argv));
    const { server, port } = await serve(host);
    process.stdout.write(`${port}\n`);

    let stopping = false;
    /** Stops running programs (SIGINT, then SIGKILL after `graceMs`), the server, and the process. */
    const shutdown = (why: string, graceMs: number) => {
        if (stopping) return;
        stopping = true;
        if (process.env.DYNOFORM_LANGUAGE_HOST_DEBUG) log(`exiting: ${why}`);
        host.stopPrograms("SIGINT");
        server.tryShutdown(() => undefined);
        const started = Date.now();
        const timer = setInterval(() => {
            if (host.running === 0 || Date.now() - started > graceMs) {
                clearInterval(timer);
                if (host.running > 0) host.stopPrograms("SIGKILL");
                server.forceShutdown();
                process.exit(0);
            }
        }, 50);
    };
    // The engine stops plugins with SIGINT and waits 5 s before killing them: finish within that.
    const STOP_GRACE_MS = 4000;
    // With the engine gone, a program cannot finish anything: do not wait long.
    const GONE_GRACE_MS = 1000;
    process.on("SIGINT", () => shutdown("SIGINT", STOP_GRACE_MS));
    process.on("SIGTERM", () => shutdown("SIGTERM", STOP_GRACE_MS));
    process.on("SIGHUP", () => shutdown("SIGHUP", GONE_GRACE_MS));

    // The engine holds the write end of our stdin (a pipe): end of input means the engine is gone.
    // (Not for a terminal or /dev/null, which a person starting us by hand may give.)
    let stdinIsPipe = false;
    try {
        const st = fs.fstatSync(0);
        stdinIsPipe = st.isFIFO() || st.isSocket();
    } catch {
        // no stdin at all
    }
    if (stdinIsPipe) {
        process.stdin.on("end", () => shutdown("stdin closed (engine gone)", GONE_GRACE_MS));
        process.stdin.on("error", () => shutdown("stdin error (engine gone)", GONE_GRACE_MS));
        process.stdin.resume();
    }
    // And if the engine died without closing a pipe (or none was given), we are re-parented.
    const parent = process.ppid;
    setInterval(() => {
        if (process.ppid !== parent) shutdown("parent process exited", GONE_GRACE_MS);
    }, 1000).unref();
}

if (require.main === module) {
    main().catch((err) => {
        log(`could not start: ${(err as Error).stack ?? err}`);
        process.exit(1);
    });
}
