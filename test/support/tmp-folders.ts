import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after } from "node:test";

// Source folders for image tests, written from a map of files and removed when the file's tests end.

/** Writes `content` at `rel` under `dir`, making the folders on the way. */
export function write(dir: string, rel: string, content: string): void {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
}

/** Writes files (path -> content) under a new temporary folder, which the caller removes. */
export function folder(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-image-src-"));
    for (const [rel, content] of Object.entries(files)) write(dir, rel, content);
    return dir;
}

const folders: string[] = [];
after(() => {
    for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
});

/** Removes `dir` after the test file's tests; returns it. */
export function removeAfter(dir: string): string {
    folders.push(dir);
    return dir;
}

/** {@link folder}, removed after the test file's tests. */
export function tmpFolder(files: Record<string, string>): string {
    return removeAfter(folder(files));
}
