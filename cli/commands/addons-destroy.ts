import { CommandModule } from "yargs";
import { connectDocker, isNotFound } from "../../infra/docker/client";
import { listAddons } from "../addons";
import { confirm, say } from "../deploy";
import { configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface DestroyAddonOptions extends EditOptions {
    name: string;
    confirm?: string;
    deleteData?: boolean;
}

/**
 * `dynoform addons:destroy NAME --confirm NAME [--delete-data]`: removes the add-on from the
 * stack file and deploys (the dynos lose its URL). Its data volume is kept unless --delete-data.
 */
export const addonsDestroyCommand: CommandModule<GlobalOptions, DestroyAddonOptions> = {
    command: "addons:destroy <name>",
    describe: "Remove an add-on (its data volume is kept unless --delete-data)",
    builder: (y) =>
        withUp(y)
            .positional("name", { type: "string", demandOption: true })
            .option("confirm", { type: "string", describe: "The add-on name again, to confirm without a prompt" })
            .option("delete-data", { type: "boolean", default: false, describe: "Also delete the add-on's data volume" })
            .example("$0 addons:destroy redis --confirm redis", "remove redis, keep its data volume")
            .example("$0 addons:destroy postgres --confirm postgres --delete-data", "remove postgres and its data"),
    handler: async (argv) => {
        const { app, addons } = await listAddons(argv);
        const a = addons.find((x) => x.name === argv.name);
        if (!a) throw new UsageError(`no add-on \`${argv.name}\` on ${argv.stack} (add-ons: ${addons.map((x) => x.name).join(", ") || "none"})`);
        if (a.from === "app.json") {
            throw new UsageError(`add-on \`${a.name}\` is declared in app.json (\`addons\`): remove it there; the stack file cannot drop it`);
        }
        if (argv.deleteData && !argv.up) throw new UsageError("--delete-data needs the deploy that stops the add-on: leave out --no-up");
        if (argv.confirm !== undefined && argv.confirm !== a.name) {
            throw new UsageError(`--confirm ${argv.confirm} does not match the add-on name ${a.name}`);
        }
        if (argv.confirm === undefined) {
            if (!process.stdin.isTTY) throw new UsageError(`addons:destroy needs --confirm ${a.name} when not run from a terminal`);
            const what = argv.deleteData ? `${a.name} and its data volume ${a.volume}` : a.name;
            if (!(await confirm(`Destroy ${what} on ${app} (${argv.stack})?`))) {
                say("cancelled: nothing was changed");
                return;
            }
        }
        const result = await editAndDeploy(argv, {
            set: [],
            remove: [configPath("addons", a.name)],
            preview: (view) => {
                if (view.settings.addons) delete view.settings.addons[a.name];
            },
            description: `Detach ${a.name} (${a.plan})`,
        });
        let volume = "kept";
        if (result && argv.deleteData) {
            await connectDocker()
                .getVolume(a.volume)
                .remove()
                .catch((err) => (isNotFound(err) ? undefined : Promise.reject(new Error(`the add-on is gone, but its volume ${a.volume} could not be deleted: ${err.message}`))));
            volume = "deleted";
        }
        if (argv.json) return;
        if (!result) {
            process.stdout.write(`${a.name} removed from stacks/Pulumi.${argv.stack}.yaml; it runs until the next \`dynoform up\`\n`);
            return;
        }
        process.stdout.write(
            `${a.name} (${a.plan}) destroyed on ${app} (${argv.stack}); ${a.varName} is no longer set. ` +
                (volume === "deleted" ? `Data volume ${a.volume} deleted.\n` : `Data volume ${a.volume} kept (\`docker volume rm ${a.volume}\` deletes it).\n`),
        );
    },
};
