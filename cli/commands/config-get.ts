import { CommandModule } from "yargs";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { readConfigVars } from "./config";

interface GetOptions extends GlobalOptions {
    key: string;
}

/** `dynoform config:get KEY`: one value, secret or not (asking for it is the reveal). */
export const configGetCommand: CommandModule<GlobalOptions, GetOptions> = {
    command: "config:get <key>",
    describe: "Print one config var's value",
    builder: (y) => y.positional("key", { type: "string", demandOption: true }).example("$0 config:get DATABASE_POOL", ""),
    handler: async (argv) => {
        const { plain, secret } = await readConfigVars(argv);
        const value = plain[argv.key] ?? secret[argv.key];
        if (value === undefined) throw new UsageError(`config var ${argv.key} is not set on ${argv.stack}`);
        process.stdout.write(argv.json ? JSON.stringify({ [argv.key]: value }) + "\n" : `${value}\n`);
    },
};
