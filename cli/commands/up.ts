import { CommandModule } from "yargs";
import { ensureDockerEngine } from "../../infra/toolchain/docker-engine";
import { consoleReporter } from "../../infra/toolchain/report";
import { GlobalOptions } from "../options";
import { openAppStack } from "../project";
import { progressPrinter } from "../progress";

interface UpOptions extends GlobalOptions {
    yes: boolean;
    refresh: boolean;
}

/** `dynoform up`: refresh (to see drift), then a real `pulumi up` of the App; prints the URL. */
export const upCommand: CommandModule<GlobalOptions, UpOptions> = {
    command: "up",
    describe: "Deploy the app: build, release phase, roll dynos, update the router",
    builder: (y) =>
        y
            .option("yes", { alias: "y", type: "boolean", default: false, describe: "Do not ask for confirmation" })
            .option("refresh", { type: "boolean", default: true, describe: "Read the containers first, so drift is healed" })
            .example("$0 up --stack staging --yes", "deploy the staging stack"),
    handler: async (argv) => {
        await ensureDockerEngine(consoleReporter);
        const stack = await openAppStack(argv);
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const started = Date.now();
        const result = await stack.up({ onEvent: progressPrinter(log), refresh: argv.refresh, color: "never" });
        const outputs = Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
        if (argv.json) {
            process.stdout.write(JSON.stringify({ result: result.summary.result, changes: result.summary.resourceChanges, outputs }, null, 2) + "\n");
            return;
        }
        const changes = Object.entries(result.summary.resourceChanges ?? {}).filter(([k]) => k !== "same").map(([k, v]) => `${v} ${k}`);
        process.stdout.write(
            `${outputs.app} deployed to ${argv.stack}: release v${outputs.releaseVersion} in ${((Date.now() - started) / 1000).toFixed(1)} s` +
                ` (${changes.join(", ") || "no changes"})\n`,
        );
        if (outputs.url) process.stdout.write(`${outputs.url}\n`);
    },
};
