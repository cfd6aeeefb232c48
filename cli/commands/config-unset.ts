import { CommandModule } from "yargs";
import { validateConfigVarName } from "../../components/config-vars";
import { asUsage, configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { projectDir } from "../project";
import { readStackFile } from "../stack-settings";

interface UnsetOptions extends EditOptions {
    keys: string[];
}

/** The names `config:unset` is given, each a valid config var name. Pure. */
export function unsetNames(argv: { keys: string[] }): string[] {
    for (const k of argv.keys) asUsage(() => validateConfigVarName(k, `config.${k}`));
    return argv.keys;
}

/** `dynoform config:unset A B`: removes config vars in one release. */
export const configUnsetCommand: CommandModule<GlobalOptions, UnsetOptions> = {
    command: "config:unset <keys..>",
    describe: "Remove config vars; one release for all of them",
    builder: (y) => withUp(y).positional("keys", { type: "string", array: true, demandOption: true }).example("$0 config:unset LOG_LEVEL", ""),
    handler: async (argv) => {
        unsetNames(argv);
        const view = readStackFile(projectDir(argv), argv.stack);
        const missing = argv.keys.filter((k) => !(k in (view.settings.config ?? {})) && !view.secretKeys.includes(k));
        if (missing.length) throw new UsageError(`config var${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not set on ${argv.stack}`);
        await editAndDeploy(argv, {
            set: [],
            remove: argv.keys.flatMap((k) => [configPath("config", k), configPath("secrets", k)]),
            preview: (v) => {
                for (const k of argv.keys) {
                    if (v.settings.config) delete v.settings.config[k];
                    v.secretKeys = v.secretKeys.filter((s) => s !== k);
                }
            },
            description: `Remove ${argv.keys.join(", ")} config vars`,
        });
    },
};
