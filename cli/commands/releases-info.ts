import { CommandModule } from "yargs";
import { releasesOf, stackOutputs } from "../app-state";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface InfoOptions extends GlobalOptions {
    release?: string;
}

/** Parses `v7` or `7`. Pure. */
export function parseVersion(arg: string): number {
    const m = /^v?([1-9][0-9]*)$/.exec(arg);
    if (!m) throw new UsageError(`\`${arg}\` is not a release version (v1, v2, ...)`);
    return Number(m[1]);
}

/** `dynoform releases:info [vN]`: one release's image, config keys and formation. */
export const releasesInfoCommand: CommandModule<GlobalOptions, InfoOptions> = {
    command: "releases:info [release]",
    describe: "Show one release (the current one by default)",
    builder: (y) => y.positional("release", { type: "string", describe: "v1, v2, ..." }).example("$0 releases:info v3", ""),
    handler: async (argv) => {
        const { outputs } = await stackOutputs(argv);
        const releases = releasesOf(outputs);
        const wanted = argv.release ? parseVersion(argv.release) : releases.filter((x) => x.status !== "failed").pop()?.version;
        const r = releases.find((x) => x.version === wanted);
        if (!r) throw new UsageError(`no release v${wanted ?? "?"} on ${argv.stack} (releases: ${releases.map((x) => `v${x.version}`).join(", ") || "none"})`);
        if (argv.json) {
            process.stdout.write(JSON.stringify(r, null, 2) + "\n");
            return;
        }
        process.stdout.write(
            [
                `=== Release v${r.version}`,
                `Description: ${r.description}`,
                `By:          ${r.by}`,
                `When:        ${r.createdAt}`,
                `Image:       ${r.imageId}`,
                ...(r.imageRef ? [`Registry:    ${r.imageRef}`] : []),
                `Config vars: ${r.configKeys.join(", ") || "(none)"}`,
                `Formation:   ${Object.entries(r.formation).map(([t, f]) => `${t}=${f.quantity}:${f.size}`).join(" ")}`,
                ...(r.status === "failed"
                    ? [`Status:      failed: ${r.reason ?? "unknown"}`, ...(r.logLines?.length ? ["Last log lines:", ...r.logLines.map((l) => `  ${l}`)] : [])]
                    : []),
            ].join("\n") + "\n",
        );
    },
};
