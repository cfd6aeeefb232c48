import { CommandModule } from "yargs";
import { confirm, deploy, openValidated, printDeploy, say } from "../deploy";
import { GlobalOptions } from "../options";
import { formatPlan, planApp } from "../plan";

interface UpOptions extends GlobalOptions {
    yes: boolean;
    refresh: boolean;
}

/** `dynoform up`: the plan, then a real `pulumi up` of the App; prints the URL. */
export const upCommand: CommandModule<GlobalOptions, UpOptions> = {
    command: "up",
    describe: "Deploy the app: build, release phase, roll dynos, update the router",
    builder: (y) =>
        y
            .option("yes", { alias: "y", type: "boolean", default: false, describe: "Do not ask for confirmation" })
            .option("refresh", { type: "boolean", default: true, describe: "Read the containers first, so drift is healed" })
            .example("$0 up --stack staging --yes", "deploy the staging stack"),
    handler: async (argv) => {
        if (!argv.yes) {
            if (!process.stdin.isTTY) {
                const { UsageError } = await import("../errors");
                throw new UsageError("up needs --yes when not run from a terminal");
            }
            const { view, definition, stack } = await openValidated(argv);
            for (const line of formatPlan(await planApp(stack, definition, view.settings.app, view.settings.image))) say(line);
            if (!(await confirm(`Deploy ${view.settings.app} to ${argv.stack}?`))) {
                say("cancelled: nothing was changed");
                return;
            }
        }
        printDeploy(await deploy(argv, { refresh: argv.refresh }), argv.json);
    },
};
