import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { commands } from "./commands";
import { EXIT, ExitStatus, UsageError } from "./errors";
import { withGlobalOptions } from "./options";

/** Parses argv, runs one command, and maps its outcome to an exit code. */
export async function main(argv: string[]): Promise<number> {
    const parser = withGlobalOptions(yargs(argv))
        .scriptName("dynoform")
        .command(commands)
        .demandCommand(1, "name a command; `dynoform --help` lists them")
        .strict()
        .recommendCommands()
        .help()
        .version(require("../../package.json").version)
        .wrap(Math.min(100, process.stdout.columns || 100))
        .fail((msg, err) => {
            // yargs' own argument checks (a flag without its value) fail with a YError: a usage error too.
            if (err && err.name === "YError") throw new UsageError(err.message);
            if (err) throw err;
            // Throwing stops yargs here: returning would let it run the handler without its arguments.
            if (/^Did you mean /.test(msg ?? "")) throw new UsageError(`unknown command \`${commandWord(argv)}\`: ${msg}`);
            throw new UsageError(msg);
        });
    try {
        await parser.parseAsync();
    } catch (err) {
        if (err instanceof ExitStatus) return err.code;
        if (err instanceof UsageError) {
            process.stderr.write(`dynoform: ${err.message}\n`);
            return EXIT.usage;
        }
        process.stderr.write(`dynoform: ${(err as Error).message ?? String(err)}\n`);
        if (process.env.DYNOFORM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
        return EXIT.failure;
    }
    return EXIT.ok;
}

/** The word in the command's place: the first argument that is not an option or a global option's value. */
function commandWord(argv: string[]): string {
    for (let i = 0; i < argv.length; i++) {
        if (["--stack", "-s", "--cwd"].includes(argv[i])) i++;
        else if (!argv[i].startsWith("-")) return argv[i];
    }
    return "";
}

if (require.main === module) {
    main(hideBin(process.argv)).then((code) => {
        process.exitCode = code;
    });
}
