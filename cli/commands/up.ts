import { CommandModule } from "yargs";
import { confirm, prepareDeploy, printDeploy, runDeploy, say } from "../deploy";
import { GlobalOptions } from "../options";
import { formatPlan } from "../plan";

interface UpOptions extends GlobalOptions {
    yes: boolean;
    refresh?: boolean;
}

/** `dynoform up`: the plan, then a real `pulumi up` of the App; prints the URL. */
export const upCommand: CommandModule<GlobalOptions, UpOptions> = {
    command: "up",
    describe: "Deploy the app: build, release phase, roll dynos, update the router",
    builder: (y) =>
        y
            .option("yes", { alias: "y", type: "boolean", default: false, describe: "Do not ask for confirmation" })
            .option("refresh", {
                type: "boolean",
                describe: "Read every resource first (default: only when the plan finds a container or the image missing or stopped, which up then heals)",
            })
            .example("$0 up --stack staging --yes", "deploy the staging stack"),
    handler: async (argv) => {
        if (!argv.yes && !process.stdin.isTTY) {
            const { UsageError } = await import("../errors");
            throw new UsageError("up needs --yes when not run from a terminal");
        }
        // One load, one host read, one open of the stack, one plan: confirmed, then run as planned.
        const prepared = await prepareDeploy(argv, { refresh: argv.refresh });
        for (const line of formatPlan(prepared.plan)) say(line);
        if (!argv.yes && !(await confirm(`Deploy ${prepared.loaded.view.settings.app} to ${argv.stack}?`))) {
            say("cancelled: nothing was changed");
            return;
        }
        printDeploy(await runDeploy(prepared, { refresh: argv.refresh }), argv.json);
    },
};
