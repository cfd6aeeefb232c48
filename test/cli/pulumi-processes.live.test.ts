import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { after, before, test } from "node:test";
import { describeLive } from "../support/engines";
import { pulumiRoot } from "../../toolchain/pulumi-cli";
import { CliProject, cliProject, TINY_APP, tinyStack } from "../support/cli";

// How many `pulumi` processes each command starts (issue 13: only the ones it needs). A `pulumi`
// first on PATH logs its arguments and runs the real CLI; the CLI takes a matching `pulumi` on
// PATH as its own, so every run of it, by the Automation API or by Dynoform, is in the log.
const ENGINE_RUNS = new Set(["up", "preview", "refresh", "destroy"]);
let project: CliProject;
let stack: string;
let log: string;

/** The `pulumi` runs of one command: their first two arguments, and those that are not engine runs. */
async function runs(...args: string[]): Promise<{ all: string[]; besidesEngine: string[] }> {
    fs.writeFileSync(log, "");
    const r = await project.cli([...args, "--stack", stack]);
    assert.equal(r.code, 0, `dynoform ${args.join(" ")}:\n${r.stderr}`);
    const all = fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => l.split(" ").slice(0, 2).join(" "));
    return { all, besidesEngine: all.filter((l) => !ENGINE_RUNS.has(l.split(" ")[0])) };
}

describeLive("pulumi processes per command", { concurrency: false }, () => {
    before(async () => {
        project = await cliProject("procs", { files: TINY_APP });
        stack = project.stackName("dev");
        project.writeStack(stack, await tinyStack());
        const wrap = path.join(project.dir, "pulumi-wrap", "bin");
        fs.mkdirSync(wrap, { recursive: true });
        log = path.join(project.dir, "pulumi-runs.log");
        const real = path.join(pulumiRoot(), "bin", "pulumi");
        fs.writeFileSync(
            path.join(wrap, "pulumi"),
            `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`,
            { mode: 0o755 },
        );
        process.env.PATH = `${wrap}${path.delimiter}${process.env.PATH ?? ""}`;
    });
    after(async () => {
        await project?.cleanup();
    });

    test("read-only commands start one pulumi; ps:scale, up and preview at most two besides the engine run", async (t) => {
        // The first deploy (and the one `pulumi version` the CLI caches for a new binary) is not counted.
        await runs("up", "--yes");
        await runs("config:set", "API_TOKEN=s3cret", "--secret", "--no-up");
        const counts: Record<string, string[]> = {};
        for (const cmd of [["ps"], ["config"], ["releases"]]) {
            const { all } = await runs(...cmd);
            counts[cmd[0]] = all;
            assert.equal(all.length, 1, `${cmd[0]} ran pulumi ${all.length} times: ${all.join("; ")}`);
        }
        for (const cmd of [["ps:scale", "web=2"], ["up", "--yes"], ["preview"]]) {
            const { all, besidesEngine } = await runs(...cmd);
            counts[cmd[0]] = all;
            assert.equal(all.length - besidesEngine.length, 1, `${cmd[0]}: one engine run (${all.join("; ")})`);
            assert.ok(besidesEngine.length <= 2, `${cmd[0]} ran pulumi ${besidesEngine.length} times besides the engine: ${besidesEngine.join("; ")}`);
        }
        for (const [cmd, all] of Object.entries(counts)) t.diagnostic(`${cmd}: ${all.length} (${all.join("; ")})`);
    });
});
