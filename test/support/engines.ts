import { spawnSync } from "child_process";
import * as path from "path";
import { after, before, describe, SuiteFn, test, TestFn, TestOptions } from "node:test";

// One place that decides whether a test that needs the engines (a Docker engine that answers
// and the pinned Pulumi CLI) runs. The check runs once per test file, synchronously, when the
// file defines its live tests, so a whole suite is skipped (or failed) before any of its hooks
// deploy anything:
// - engines there: the tests run;
// - engines missing and CI=true: the suite or test is replaced by one failing test that says
//   what is missing (a CI run never passes by skipping);
// - engines missing elsewhere: the suite or test is skipped, with one loud line on stderr.

let problems: string[] | undefined;

/**
 * What keeps live tests from running (empty when nothing does), checked once per process by
 * `engine-probe.js` in a child process (the check is async: it pings Docker and waits a minute
 * for a slow one; test definitions are not).
 */
export function engineProblems(): string[] {
    if (problems) return problems;
    const probe = spawnSync(process.execPath, [path.join(__dirname, "engine-probe.js")], { encoding: "utf8", timeout: 120_000 });
    if (probe.status === 0) {
        problems = JSON.parse(probe.stdout) as string[];
    } else {
        problems = [`the engine check itself failed (exit ${probe.status ?? probe.signal}): ${(probe.stderr || probe.error?.message || "").trim()}`];
    }
    return problems;
}

/** The one line that says why live tests cannot run, or undefined when they can. */
export function missingEnginesMessage(what?: string): string | undefined {
    const missing = engineProblems();
    if (missing.length === 0) return undefined;
    return `${what ? `${what} ` : ""}needs a real Docker engine and Pulumi CLI: ${missing.join("; ")}. Run \`npx dynoform doctor\`.`;
}

/** Whether live tests run here; says loudly (once per name) why not, or throws under CI=true. */
export function enginesHere(what: string): boolean {
    const message = missingEnginesMessage(what);
    if (!message) return true;
    if (process.env.CI === "true") throw new Error(message);
    process.stderr.write(`\n!!! SKIPPED ${message}\n\n`);
    return false;
}

type Args<F> = [name: string, fn: F] | [name: string, options: TestOptions, fn: F];

function split<F>(args: Args<F>): [string, TestOptions, F] {
    return args.length === 2 ? [args[0], {}, args[1]] : [args[0], args[1], args[2]];
}

/** What a live test or suite becomes when the engines are missing; undefined when they are there. */
function withoutEngines(): { skip: string } | { fail: string } | undefined {
    const message = missingEnginesMessage();
    if (!message) return undefined;
    if (process.env.CI === "true") return { fail: message };
    if (!saidSkipped) {
        const file = path.relative(process.cwd(), process.argv[1] ?? "this file");
        process.stderr.write(`\n!!! SKIPPED the live tests of ${file}: ${message}\n\n`);
        saidSkipped = true;
    }
    return { skip: message };
}
let saidSkipped = false;

/**
 * `describe` for tests that need the engines. Its hooks and tests run only when the engines
 * are there (see the top of this file for CI and local runs).
 */
export function describeLive(...args: Args<SuiteFn>): void {
    const [name, options, fn] = split(args);
    const missing = withoutEngines();
    if (!missing) return void describe(name, options, fn);
    if ("fail" in missing) return void test(name, () => Promise.reject(new Error(missing.fail)));
    describe(name, { ...options, skip: missing.skip }, fn);
}

/** `test` for a test that needs the engines (see {@link describeLive}). */
export function testLive(...args: Args<TestFn>): void {
    const [name, options, fn] = split(args);
    const missing = withoutEngines();
    if (!missing) return void test(name, options, fn);
    if ("fail" in missing) return void test(name, () => Promise.reject(new Error(missing.fail)));
    test(name, { ...options, skip: missing.skip }, fn);
}

/** A file-level `before` for live tests: runs only when the engines are there (it would deploy). */
export function beforeLive(fn: () => unknown | Promise<unknown>): void {
    before(async () => {
        if (!missingEnginesMessage()) await fn();
    });
}

/** A file-level `after` for live tests: runs only when the engines are there (it would clean up Docker). */
export function afterLive(fn: () => unknown | Promise<unknown>): void {
    after(async () => {
        if (!missingEnginesMessage()) await fn();
    });
}
