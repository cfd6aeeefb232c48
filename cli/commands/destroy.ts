import { CommandModule } from "yargs";
import { deleteDataVolumes, keepDataVolumesOnDestroy } from "../addon-data";
import { confirm, openValidated, say } from "../deploy";
import { UsageError } from "../errors";
import { interruptible } from "../interrupt";
import { GlobalOptions } from "../options";
import { progressPrinter } from "../progress";
import { leaveEdge } from "../edge";

interface DestroyOptions extends GlobalOptions {
    confirm?: string;
    yes: boolean;
    "delete-addon-data": boolean;
}

/**
 * `dynoform destroy`: removes the app's containers, network and router; add-on data volumes and
 * images are kept. `--delete-addon-data` deletes the data volumes after the app is gone.
 */
export const destroyCommand: CommandModule<GlobalOptions, DestroyOptions> = {
    command: "destroy",
    describe: "Remove the app from the Docker host (add-on data volumes are kept)",
    builder: (y) =>
        y
            .option("confirm", { type: "string", describe: "The app name, to confirm without a prompt" })
            .option("yes", { alias: "y", type: "boolean", default: false, hidden: true })
            .option("delete-addon-data", {
                type: "boolean",
                default: false,
                describe: "Also delete the add-ons' data volumes (PostgreSQL and Redis data): cannot be undone",
            })
            .example("$0 destroy --stack review-42 --confirm hello --delete-addon-data", "remove a review app and its data")
            .example("$0 destroy --stack staging --confirm hello", "remove hello's staging stack"),
    handler: async (argv) => {
        const { view, stack } = await openValidated(argv);
        const app = view.settings.app;
        if (argv.confirm !== undefined && argv.confirm !== app) {
            throw new UsageError(`--confirm ${argv.confirm} does not match the app name ${app}`);
        }
        if (argv.confirm === undefined) {
            if (!process.stdin.isTTY) throw new UsageError(`destroy needs --confirm ${app} when not run from a terminal`);
            if (!(await confirm(`Destroy ${app} on ${argv.stack}? Type y to go on`))) {
                say("cancelled: nothing was changed");
                return;
            }
        }
        // A plain destroy never deletes data, whatever an older Dynoform recorded in state; with
        // --delete-addon-data the volumes are deleted below, once the app is gone, by this run only.
        await keepDataVolumesOnDestroy(stack);
        const result = await interruptible("destroy", (i) => stack.destroy({ color: "never", onEvent: i.onEvent(argv.json ? undefined : progressPrinter(say)), signal: i.signal }));
        await leaveEdge(app, argv.stack);
        const deleted = argv["delete-addon-data"] ? await deleteDataVolumes(app, argv.stack) : [];
        if (argv.json) {
            process.stdout.write(
                JSON.stringify({ result: result.summary.result, changes: result.summary.resourceChanges, deletedVolumes: deleted }, null, 2) + "\n",
            );
            return;
        }
        const data = !argv["delete-addon-data"]
            ? "add-on data volumes were kept"
            : `add-on data volumes were deleted${deleted.length ? ` (${deleted.join(", ")})` : " (there were none)"}`;
        process.stdout.write(`${app} destroyed on ${argv.stack}; ${data}; images were kept (other releases and stacks may run them)\n`);
    },
};
