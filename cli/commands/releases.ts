import { CommandModule } from "yargs";
import { releasesOf, stackOutputs } from "../app-state";
import type { ReleaseRecord } from "../../infra/release";
import { GlobalOptions } from "../options";

/**
 * One line per release, newest first: `*` marks the one running (the newest that did not fail);
 * a failed release says so, with its reason (`releases:info vN` shows its log lines). Pure.
 */
export function releaseLines(newestFirst: ReleaseRecord[]): string[] {
    const current = newestFirst.find((r) => r.status !== "failed")?.version;
    return newestFirst.map((r) => {
        const what = r.status === "failed" ? `${r.description} (failed: ${r.reason ?? "unknown"})` : r.description;
        return `v${r.version}${r.version === current ? "*" : " "} ${what.padEnd(40)} ${r.by.padEnd(10)} ${r.createdAt}`;
    });
}

/** `dynoform releases`: every release, newest first. */
export const releasesCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "releases",
    describe: "List releases, newest first",
    builder: (y) => y.example("$0 releases --stack production", "").example("$0 releases --json", "machine-readable history"),
    handler: async (argv) => {
        const { app, outputs } = await stackOutputs(argv);
        const releases = releasesOf(outputs).slice().reverse();
        if (argv.json) {
            process.stdout.write(JSON.stringify(releases, null, 2) + "\n");
            return;
        }
        process.stdout.write(`=== ${app} releases on ${argv.stack}\n`);
        for (const line of releaseLines(releases)) process.stdout.write(`${line}\n`);
    },
};
