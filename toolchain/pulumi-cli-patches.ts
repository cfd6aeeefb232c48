import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

/**
 * Edits to Go modules the Pulumi CLI is built from, applied to copies of the modules and wired
 * in with `replace` directives. Each keeps Pulumi's behaviour and removes startup work.
 *
 * The zxcvbn-go password-strength modules (one in `pulumi config set`'s "looks like a secret"
 * check, one in ESC's) decode their word lists and build dictionary matchers in package `init`,
 * so every `pulumi` process paid for them: 0.09 of the 0.15 CPU-s of `pulumi version` on the
 * build machine, and a command runs several `pulumi` processes. Here they load on the first
 * password check instead (`sync.Once`), which is the only place that reads them.
 */
export interface ModulePatch {
    /** The module path, as in go.mod's require lines (the version is read from there). */
    module: string;
    /** Why the module is patched (shown when a patch no longer applies). */
    reason: string;
    edits: Array<{ file: string; find: string; replace: string }>;
}

/** The two zxcvbn-go forks have the same layout; `lazyWordLists` makes their edits. */
function lazyWordLists(module: string): ModulePatch {
    return {
        module,
        reason: "load the password word lists on first use instead of at every pulumi start",
        edits: [
            {
                file: "frequency/frequency.go",
                find: "import (\n",
                replace: 'import (\n\t"sync"\n',
            },
            {
                file: "frequency/frequency.go",
                find: "\nfunc init() {\n",
                replace: "\n// Load fills Lists, once, on first use.\nfunc Load() { loadOnce.Do(load) }\n\nvar loadOnce sync.Once\n\nfunc load() {\n",
            },
            {
                file: "matching/matching.go",
                find: "import (\n",
                replace: 'import (\n\t"sync"\n',
            },
            {
                file: "matching/matching.go",
                find: "func init() {\n\tloadFrequencyList()\n}\n",
                replace: "var loadOnce sync.Once\n",
            },
            {
                file: "matching/matching.go",
                find: "if dictionaryMatchers == nil || adjacencyGraphs == nil {\n\t\tloadFrequencyList()\n\t}\n",
                replace: "loadOnce.Do(loadFrequencyList)\n",
            },
            {
                file: "matching/matching.go",
                find: "func loadFrequencyList() {\n",
                replace: "func loadFrequencyList() {\n\tfrequency.Load()\n",
            },
        ],
    };
}

export const PULUMI_CLI_PATCHES: readonly ModulePatch[] = [
    lazyWordLists("github.com/nbutton23/zxcvbn-go"),
    lazyWordLists("github.com/ccojocar/zxcvbn-go"),
];

/** A digest of the patches: part of the CLI build's recipe, so a changed patch means a rebuild. */
export function patchesDigest(patches: readonly ModulePatch[] = PULUMI_CLI_PATCHES): string {
    return crypto.createHash("sha256").update(JSON.stringify(patches)).digest("hex");
}

/** The version go.mod requires of a module. Pure. */
export function requiredVersion(goMod: string, module: string): string {
    const escaped = module.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const m = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, "m").exec(goMod);
    if (!m) throw new Error(`go.mod does not require ${module}: a Pulumi CLI patch names a module the build no longer uses`);
    return m[1];
}

/** Applies one patch's edits to a module's files in `dir`; each `find` must occur exactly once. */
export function applyEdits(dir: string, patch: ModulePatch): void {
    for (const edit of patch.edits) {
        const file = path.join(dir, edit.file);
        const text = fs.readFileSync(file, "utf8");
        const at = text.indexOf(edit.find);
        if (at < 0 || text.indexOf(edit.find, at + 1) >= 0) {
            throw new Error(
                `Pulumi CLI patch of ${patch.module} (${patch.reason}) no longer applies: ${edit.file} has ` +
                    `${at < 0 ? "no" : "more than one"} ${JSON.stringify(edit.find)}`,
            );
        }
        fs.writeFileSync(file, text.slice(0, at) + edit.replace + text.slice(at + edit.find.length));
    }
}

/**
 * Copies each patched module (at the version `work/go.mod` requires, from Go's module cache,
 * downloaded through the proxy if needed) into `work/patched/`, applies its edits, and points
 * go.mod at the copies. `work` holds a fresh copy of the wrapper module's go.mod and go.sum.
 */
export function patchModules(go: string, work: string, env: NodeJS.ProcessEnv, patches: readonly ModulePatch[] = PULUMI_CLI_PATCHES): void {
    const goModFile = path.join(work, "go.mod");
    let goMod = fs.readFileSync(goModFile, "utf8");
    const root = path.join(work, "patched");
    fs.rmSync(root, { recursive: true, force: true });
    for (const patch of patches) {
        const version = requiredVersion(goMod, patch.module);
        const info = JSON.parse(execFileSync(go, ["mod", "download", "-json", `${patch.module}@${version}`], { cwd: work, env, encoding: "utf8" })) as { Dir?: string; Error?: string };
        if (!info.Dir) throw new Error(`go mod download ${patch.module}@${version}: ${info.Error ?? "no folder"}`);
        const copy = path.join(root, patch.module);
        fs.cpSync(info.Dir, copy, { recursive: true });
        makeWritable(copy);
        applyEdits(copy, patch);
        // A folder named by a replace directive must be a module; older ones have no go.mod.
        const modFile = path.join(copy, "go.mod");
        if (!fs.existsSync(modFile)) fs.writeFileSync(modFile, `module ${patch.module}\n\ngo 1.20\n`);
        goMod += `\nreplace ${patch.module} => ./${path.relative(work, copy)}\n`;
    }
    fs.writeFileSync(goModFile, goMod);
}

/** Files in Go's module cache are read-only; their copies are edited. */
function makeWritable(dir: string): void {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        fs.chmodSync(p, entry.isDirectory() ? 0o755 : 0o644);
        if (entry.isDirectory()) makeWritable(p);
    }
}
