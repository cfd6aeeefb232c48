import { CommandModule } from "yargs";
import { parseConfigAssignment } from "../../components/config-vars";
import { asUsage, configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { GlobalOptions } from "../options";

interface SetOptions extends EditOptions {
    pairs: string[];
    secret: boolean;
}

/** The `KEY=VALUE` pairs `config:set` is given, each a valid config var name. Pure. */
export function configPairs(argv: { pairs: string[] }): Array<[string, string]> {
    return argv.pairs.map((p) => asUsage(() => parseConfigAssignment(p, "config")));
}

/** `dynoform config:set A=1 B=2 [--secret]`: all pairs in one release and one rolling restart. */
export const configSetCommand: CommandModule<GlobalOptions, SetOptions> = {
    command: "config:set <pairs..>",
    describe: "Set config vars (KEY=VALUE ...); one release for all of them",
    builder: (y) =>
        withUp(y)
            .positional("pairs", { type: "string", array: true, demandOption: true })
            .option("secret", { type: "boolean", default: false, describe: "Store the values encrypted; shown masked" })
            .example("$0 config:set GREETING=Hi LOG_LEVEL=debug", "two vars, one release")
            .example("$0 config:set API_TOKEN=s3cr3t --secret", "a secret var"),
    handler: async (argv) => {
        const pairs = configPairs(argv);
        const own = argv.secret ? "secrets" : "config";
        const other = argv.secret ? "config" : "secrets";
        await editAndDeploy(argv, {
            set: pairs.map(([k, v]) => ({ path: configPath(own, k), value: v, secret: argv.secret })),
            remove: pairs.map(([k]) => configPath(other, k)),
            preview: (view) => {
                for (const [k, v] of pairs) {
                    if (argv.secret) {
                        if (!view.secretKeys.includes(k)) view.secretKeys.push(k);
                        if (view.settings.config) delete view.settings.config[k];
                    } else {
                        (view.settings.config ??= {})[k] = v;
                        view.secretKeys = view.secretKeys.filter((s) => s !== k);
                    }
                }
            },
            description: `Set ${pairs.map(([k]) => k).join(", ")} config vars`,
        });
    },
};
