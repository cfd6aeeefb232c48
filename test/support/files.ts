import * as fs from "node:fs";
import * as path from "node:path";

// Reading a folder that other processes are writing: Pulumi takes and drops lock files under
// `.pulumi/locks` while a test looks for secrets in the state folder, so a file listed a moment
// ago may be gone. Both helpers skip what vanished instead of failing the test on it.

/** Files under `dir` (recursively, symlinks not followed) that pass `keep`. */
export function filesUnder(dir: string, keep: (file: string, st: fs.Stats) => boolean = () => true, skipDir: (d: string) => boolean = () => false): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(d, { withFileTypes: true });
        } catch {
            return; // removed meanwhile, or not readable
        }
        for (const e of entries) {
            const full = path.join(d, e.name);
            if (e.isDirectory()) {
                if (!skipDir(full)) walk(full);
            } else if (e.isFile()) {
                try {
                    const st = fs.statSync(full);
                    if (keep(full, st)) out.push(full);
                } catch {
                    // removed meanwhile
                }
            }
        }
    };
    walk(dir);
    return out;
}

/** The bytes of each file that still exists; files removed since they were listed are left out. */
export function readPresent(files: string[]): Array<{ file: string; bytes: Buffer }> {
    const out: Array<{ file: string; bytes: Buffer }> = [];
    for (const file of files) {
        try {
            out.push({ file, bytes: fs.readFileSync(file) });
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        }
    }
    return out;
}
