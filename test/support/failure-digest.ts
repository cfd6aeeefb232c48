/**
 * A `node --test` reporter that prints, once the run is over, one short block per failed test:
 * its file, its name and the first lines of its error. The TAP output keeps everything, but a
 * run of 760 tests spreads its failures over thousands of lines, and a CI log that keeps only
 * the head and tail of what was printed showed just the first of five (2026-12-03). The
 * reporter is test/support/failure-reporter.ts; the package's `test` script adds it beside the
 * TAP reporter, on stderr.
 */
import * as path from "path";

/** The parts of a `test:fail` event this reporter reads. */
export interface FailEvent {
    name: string;
    file?: string;
    details: { error?: { message?: string; failureType?: string; cause?: unknown } };
}

/** Lines of an error kept per test, and characters per line. */
const LINES = 4;
const WIDTH = 200;
/** Blocks printed before the rest are only counted. */
const MOST = 8;

/** The digest's lines for these failures (none when there are none). Pure. */
export function digest(fails: FailEvent[], root = process.cwd()): string[] {
    // A suite or file fails because a test in it did: only the tests that failed themselves.
    const own = fails.filter((f) => f.details.error?.failureType !== "subtestsFailed");
    if (own.length === 0) return [];
    const out = [`# ${own.length} failed test(s):`];
    for (const f of own.slice(0, MOST)) {
        const where = f.file ? path.relative(root, f.file) : "?";
        // A file's own entry (its process failed or timed out) is named by its path.
        out.push(`# not ok: ${where}: ${f.file && f.name === f.file ? "(the file's process)" : f.name}`);
        const error = f.details.error;
        const cause = error?.cause instanceof Error ? error.cause.message : typeof error?.cause === "string" ? error.cause : undefined;
        const lines = (cause ?? error?.message ?? String(error)).split("\n").filter((l) => l.trim() !== "");
        for (const l of lines.slice(0, LINES)) out.push(`#   ${l.length > WIDTH ? `${l.slice(0, WIDTH)}…` : l}`);
        if (lines.length > LINES) out.push(`#   (${lines.length - LINES} more line(s) in the TAP output above)`);
    }
    if (own.length > MOST) out.push(`# and ${own.length - MOST} more (the TAP output above has them all)`);
    return out;
}
