import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

// A `.ts` program's compiled twin under dist/: when any TypeScript source is newer than it, the
// twin is rebuilt before it runs (or the run is refused, naming the command that would build it),
// so `pulumi preview` never shows an old program's result.

const SKIPPED_FOLDERS = new Set(["node_modules", "dist"]);

/** The newest `.ts` source (not `.d.ts`) under `root`, outside node_modules, dist and dot-folders. */
export function newestSource(root: string): { file: string; mtimeMs: number } | undefined {
    let newest: { file: string; mtimeMs: number } | undefined;
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                if (!SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith(".")) walk(full);
            } else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
                const mtimeMs = fs.statSync(full).mtimeMs;
                if (!newest || mtimeMs > newest.mtimeMs) newest = { file: full, mtimeMs };
            }
        }
    };
    walk(root);
    return newest;
}

/** The command shown to the user that builds the project's twins. */
export const BUILD_COMMAND = "npx tsc -p .";

/** The project's TypeScript compiler (`<root>/node_modules/typescript`) when it has a tsconfig.json, else undefined. */
export function projectCompiler(root: string): string | undefined {
    if (!fs.existsSync(path.join(root, "tsconfig.json"))) return undefined;
    try {
        return require.resolve("typescript/bin/tsc", { paths: [root] });
    } catch {
        return undefined;
    }
}

/**
 * Brings a stale twin up to date: runs the project's `tsc -p .` in `root`. Resolves to undefined
 * when the twin is then newer than every source, else to the error to answer the engine with
 * (which says what to run). `log` gets one line when the build starts.
 */
export async function rebuildTwin(root: string, twin: string, newer: string, log: (line: string) => void): Promise<string | undefined> {
    const rel = (f: string) => path.relative(root, f);
    const stale = `${rel(twin)} is older than ${rel(newer)}`;
    const tsc = projectCompiler(root);
    if (!tsc) {
        return `${stale}: not running the old program; build it with \`${BUILD_COMMAND}\` in ${root} (no tsconfig.json or TypeScript there to build it with)`;
    }
    log(`${stale}: building it with \`${BUILD_COMMAND}\` first`);
    const started = Date.now();
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, [tsc, "-p", "."], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
        child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
        child.on("error", (err) => resolve({ code: null, output: err.message }));
        child.on("close", (c) => resolve({ code: c, output }));
    });
    if (code !== 0) {
        const tail = output.trimEnd().split("\n").slice(0, 20).join("\n");
        return `${stale}, and \`${BUILD_COMMAND}\` in ${root} failed (exit ${code}); fix the errors and run it again:\n${tail}`;
    }
    const now = newestSource(root);
    if (!fs.existsSync(twin) || (now && now.mtimeMs > fs.statSync(twin).mtimeMs)) {
        return `${stale}, and \`${BUILD_COMMAND}\` in ${root} did not rebuild it: is tsconfig.json's outDir \`dist\`?`;
    }
    log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return undefined;
}
