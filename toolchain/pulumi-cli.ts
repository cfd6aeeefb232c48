import { spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { which } from "./docker-engine";
import { PACKAGE_ROOT, paths } from "./paths";
import { patchModules, patchesDigest } from "./pulumi-cli-patches";
import { Reporter } from "./report";

/** The Pulumi version the SDK in package.json is pinned to; the CLI must match it. */
export const PULUMI_VERSION: string = require("@pulumi/pulumi/package.json").version;

/** What {@link ensurePulumiCli} found or did. */
export interface PulumiCliStatus {
    /** Folder holding `bin/pulumi` (what `PulumiCommand.get({ root })` takes). */
    root: string;
    /** Folder to put first on PATH: the CLI's plugins (the dynamic-provider host) are here. */
    binDir: string;
    version: string;
    action: "found-on-path" | "cached" | "built";
}

/** The cached toolchain folder for a version: `<DYNOFORM_HOME>/toolchain/pulumi-v<version>`. */
export function pulumiRoot(version = PULUMI_VERSION): string {
    return path.join(paths.toolchain(), `pulumi-v${version}`);
}

/**
 * Makes sure a Pulumi CLI of the pinned version is at hand: `pulumi` on PATH when its version
 * matches, else the cached build, else a build from Go modules (several minutes, cached). A
 * cached build from an older recipe (go.mod, go.sum, the module patches) still serves; with
 * `rebuildStale` (what `doctor` asks) it is built again when Go is there.
 */
export async function ensurePulumiCli(report: Reporter, opts: { rebuildStale?: boolean } = {}): Promise<PulumiCliStatus> {
    const onPath = which("pulumi");
    if (onPath && cliVersion(onPath) === PULUMI_VERSION && !process.env.DYNOFORM_BUILD_PULUMI) {
        const binDir = path.join(pulumiRoot(), "bin");
        installDynamicProviderHost(binDir);
        return { root: path.dirname(path.dirname(onPath)), binDir, version: PULUMI_VERSION, action: "found-on-path" };
    }
    const root = pulumiRoot();
    const binDir = path.join(root, "bin");
    const cli = path.join(binDir, "pulumi");
    if (fs.existsSync(cli) && cliVersion(cli) === PULUMI_VERSION) {
        // Only doctor asks: other commands do not read go.sum on their way.
        const stale = opts.rebuildStale === true && readRecipe(root) !== buildRecipe();
        if (!(stale && findGo())) {
            installDynamicProviderHost(binDir);
            return { root, binDir, version: PULUMI_VERSION, action: "cached" };
        }
        report(`the cached Pulumi CLI in ${root} was built from an older recipe (go.mod, go.sum or toolchain/pulumi-cli-patches.ts): building it again`);
    }
    await buildPulumiCli(binDir, report);
    installDynamicProviderHost(binDir);
    const version = cliVersion(cli);
    if (version !== PULUMI_VERSION) {
        throw new Error(`built ${cli} but \`pulumi version\` printed "${version}", expected v${PULUMI_VERSION}`);
    }
    return { root, binDir, version, action: "built" };
}

/**
 * `pulumi version` of a binary, without the leading `v`, or undefined when it does not run.
 * Every command checks its CLI, and each `pulumi version` costs a third of a CPU-second, so the
 * answer is kept, per process and in a stamp file beside the toolchain, for as long as the
 * binary's size, mtime and inode stay the same.
 */
export function cliVersion(cli: string): string | undefined {
    const stat = fs.statSync(cli, { throwIfNoEntry: false });
    if (!stat) return undefined;
    const identity = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
    const stamp = path.join(paths.toolchain(), "version-stamps", `${crypto.createHash("sha256").update(path.resolve(cli)).digest("hex").slice(0, 16)}.json`);
    const known = knownVersions.get(cli) ?? readStamp(stamp);
    if (known?.identity === identity) return known.version;
    const r = spawnSync(cli, ["version"], {
        encoding: "utf8",
        env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
        timeout: 30_000,
    });
    if (r.status !== 0) return undefined;
    const version = r.stdout.trim().replace(/^v/, "");
    knownVersions.set(cli, { identity, version });
    writeStamp(stamp, { identity, version });
    return version;
}

interface VersionStamp {
    identity: string;
    version: string;
}

const knownVersions = new Map<string, VersionStamp>();

function readStamp(file: string): VersionStamp | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as VersionStamp;
    } catch {
        return undefined;
    }
}

/** Written to a temporary name and renamed: concurrent commands never read half a stamp. */
function writeStamp(file: string, stamp: VersionStamp): void {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(stamp));
        fs.renameSync(tmp, file);
    } catch {
        // A read-only toolchain folder: the next command asks the binary again.
    }
}

/**
 * What a build of the CLI is made from: the wrapper module's go.mod and go.sum and the module
 * patches. Recorded beside a build, so `doctor` can tell a build from an older recipe.
 */
export function buildRecipe(): string {
    const moduleDir = path.join(PACKAGE_ROOT, "toolchain", "pulumi-cli");
    const hash = crypto.createHash("sha256");
    for (const f of ["go.mod", "go.sum"]) hash.update(fs.readFileSync(path.join(moduleDir, f)));
    return hash.update(patchesDigest()).digest("hex");
}

function readRecipe(root: string): string | undefined {
    try {
        return fs.readFileSync(path.join(root, "recipe"), "utf8").trim();
    } catch {
        return undefined;
    }
}

function findGo(): string | undefined {
    return which("go") ?? (fs.existsSync("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : undefined);
}

function goBinary(): string {
    const go = findGo();
    if (!go) {
        throw new Error(
            "no Pulumi CLI v" + PULUMI_VERSION + " on PATH or in the cache, and no Go toolchain to build " +
                "one: install Go (https://go.dev/dl) or put pulumi v" + PULUMI_VERSION + " on PATH",
        );
    }
    return go;
}

/**
 * Builds `pulumi` from the Go module `github.com/pulumi/pulumi/pkg/v3` at the pinned version,
 * through a wrapper module whose go.mod/go.sum live in `toolchain/pulumi-cli/`.
 */
async function buildPulumiCli(binDir: string, report: Reporter): Promise<void> {
    const go = goBinary();
    const moduleDir = path.join(PACKAGE_ROOT, "toolchain", "pulumi-cli");
    const work = path.join(paths.toolchain(), `build-v${PULUMI_VERSION}`);
    fs.mkdirSync(work, { recursive: true });
    for (const f of ["go.mod", "go.sum"]) {
        fs.copyFileSync(path.join(moduleDir, f), path.join(work, f));
    }
    const env = { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=mod -buildvcs=false" };
    patchModules(go, work, env);
    const out = path.join(work, "pulumi");
    const ldflags = `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_VERSION}`;
    const args = ["build", "-v", "-trimpath", "-tags", "osusergo,grpcnotrace", "-ldflags", ldflags, "-o", out,
        "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"];
    report(`building Pulumi CLI v${PULUMI_VERSION} from Go modules in ${work} (takes minutes on a cold cache)`);
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
        const child = spawn(go, args, {
            cwd: work,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        });
        let compiled = 0;
        const tail: string[] = [];
        const ticker = setInterval(() => {
            report(`  still building: ${compiled} packages compiled, ${Math.round((Date.now() - started) / 1000)} s`);
        }, 30_000);
        const onLine = (chunk: Buffer) => {
            for (const line of chunk.toString().split("\n").filter(Boolean)) {
                compiled += 1;
                tail.push(line);
                if (tail.length > 20) tail.shift();
            }
        };
        child.stdout.on("data", onLine);
        child.stderr.on("data", onLine);
        child.on("error", reject);
        child.on("close", (code) => {
            clearInterval(ticker);
            if (code === 0) resolve();
            else reject(new Error(`go build of the Pulumi CLI failed (exit ${code}):\n${tail.join("\n")}`));
        });
    });
    fs.mkdirSync(binDir, { recursive: true });
    const tmp = path.join(binDir, `.pulumi-${process.pid}`);
    fs.copyFileSync(out, tmp);
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, path.join(binDir, "pulumi"));
    fs.writeFileSync(path.join(path.dirname(binDir), "recipe"), `${buildRecipe()}\n`);
    report(`built Pulumi CLI v${PULUMI_VERSION} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * Puts the launcher of the SDK's dynamic-provider host (`toolchain/dynamic-provider/`: it finds
 * the host's script without a second Node start, unlike the SDK's own copy) beside the CLI,
 * where the engine looks for the `pulumi-nodejs` resource plugin; and Dynoform's Node.js
 * language host beside it too ({@link installLanguageHost}).
 */
function installDynamicProviderHost(binDir: string): void {
    const name = "pulumi-resource-pulumi-nodejs";
    installExecutable(path.join(binDir, name), fs.readFileSync(path.join(PACKAGE_ROOT, "toolchain", "dynamic-provider", name)));
    installLanguageHost(binDir);
}

/** A line only Dynoform's language-host launcher has: tells our copy from a real Pulumi language host. */
const LANGUAGE_HOST_MARK = "Dynoform's Node.js language host";

/**
 * Puts `pulumi-language-nodejs` (the launcher in `toolchain/language-host/`) beside the CLI,
 * so plain `pulumi up` / `pulumi preview` of a `runtime: nodejs` project work with the CLI built
 * from Go modules, which comes without a Node.js language host. The copy records this checkout's
 * compiled server (`dist/toolchain/language-host/server.js`). Idempotent. When a `pulumi` on
 * PATH outside `binDir` has a real language host beside it, ours is not installed (and an earlier
 * copy is removed), so it never shadows the real one.
 */
export function installLanguageHost(binDir: string): void {
    const name = "pulumi-language-nodejs";
    const target = path.join(binDir, name);
    const isOurs = (file: string) => {
        try {
            return fs.readFileSync(file, "utf8").includes(LANGUAGE_HOST_MARK);
        } catch {
            return false;
        }
    };
    const onPath = which("pulumi");
    if (onPath) {
        const dir = path.dirname(fs.realpathSync(onPath));
        const real = path.join(dir, name);
        if (dir !== path.resolve(binDir) && fs.existsSync(real) && !isOurs(real)) {
            if (isOurs(target)) fs.rmSync(target, { force: true });
            return;
        }
    }
    const launcher = fs.readFileSync(path.join(PACKAGE_ROOT, "toolchain", "language-host", name), "utf8");
    const server = path.join(__dirname, "language-host", "server.js");
    const quoted = `'${server.replace(/'/g, `'\\''`)}'`;
    const content = launcher.replace(/^installed_server=""$/m, () => `installed_server=${quoted}`);
    if (content === launcher) {
        throw new Error(`${name} launcher has no \`installed_server=""\` line to record ${server} in`);
    }
    installExecutable(target, Buffer.from(content));
}

/** Writes an executable file unless it already holds exactly `content` (atomically: a running CLI may be reading it). */
function installExecutable(target: string, content: Buffer): void {
    if (fs.existsSync(target) && fs.readFileSync(target).equals(content)) return;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, content, { mode: 0o755 });
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, target);
}
