import assert from "node:assert/strict";
import { after, before } from "node:test";
import { AppProject, appProject, CliResult } from "./app-project";
import { missingEnginesMessage } from "./engines";
import { freePort } from "./harness";

/** examples/hello for one test file or suite, deployed once through the real CLI (see {@link helloOnce}). */
export interface SharedHello {
    /** The copy of examples/hello with its stack; made by the `before` hook. */
    readonly project: AppProject;
    /** The router URL the first `up` printed (set by `deployed()`). */
    readonly url: string;
    /** What the first `up` printed. */
    readonly up: CliResult;
    /** Runs `up --yes` the first time (exit 0 asserted, the URL read from its last line); later calls wait for that one. */
    deployed(): Promise<SharedHello>;
}

/** Settings for {@link helloOnce}: stack settings (a free router port is added), the app's name and the stack's. */
export interface HelloOptions {
    config?: Record<string, unknown>;
    stack?: string;
}

/**
 * examples/hello copied into a temp project with its own stack, deployed by the first test that
 * calls `deployed()` and destroyed (with what is left under its labels) after the file or suite.
 * Registers `before` and `after` hooks where it is called: at the top of a file, or inside a
 * `describeLive` body. `config.app` names the app (default `hello`). Without the engines it makes
 * nothing: the live tests that would use it are skipped, or failed under CI.
 */
export function helloOnce(opts: HelloOptions = {}): SharedHello {
    let project: AppProject | undefined;
    let up: CliResult | undefined;
    let url = "";
    let deploying: Promise<SharedHello> | undefined;
    const shared: SharedHello = {
        get project() {
            if (!project) throw new Error("helloOnce: the project is made in the before hook");
            return project;
        },
        get url() {
            return url;
        },
        get up() {
            if (!up) throw new Error("helloOnce: not deployed yet (call deployed())");
            return up;
        },
        deployed() {
            deploying ??= (async () => {
                const r = await shared.project.cli(["up", "--yes"]);
                assert.equal(r.code, 0, `${shared.project.app} up: ${r.stderr}`);
                up = r;
                url = r.stdout.trim().split("\n").pop()!;
                assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
                return shared;
            })();
            return deploying;
        },
    };
    if (missingEnginesMessage()) return shared;
    before(async () => {
        project = await appProject("hello", { routerPort: String(await freePort()), ...opts.config }, opts.stack);
    });
    after(async () => {
        await project?.cleanup();
    });
    return shared;
}
