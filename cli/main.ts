// First: the SDK's closure serializer loads only if it is called, and the nursery stays small (see the module).
import "../infra/engine/process-start";
import * as path from "path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { ARGUMENT_CHECKS, commands } from "./commands";
import { EXIT, ExitStatus, UsageError } from "./errors";
import { engineFailureLines, isEngineError } from "./failure";
import { stopOnClosedOutput } from "./interrupt";
import { withGlobalOptions } from "./options";
import { restrictLocalState } from "../toolchain/backend";
import { acquireStackLock, heldLocks, LOCKING_COMMANDS, StackBusyError } from "./stack-lock";
import { STACK_NAME } from "../infra/engine/workspace";
import { useStackDockerHost } from "./docker-host";

/** Parses argv, runs one command, and maps its outcome to an exit code. */
export async function main(argv: string[]): Promise<number> {
    let release: (() => void) | undefined;
    let verbose = false;
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
        })
        .middleware(async (args) => {
            verbose = Boolean(args.verbose);
            // Commands that change a stack wait for each other, from before the stack file is read until they end.
            const command = String(args._[0] ?? "");
            const stack = String(command === "promote" ? args.to : args.stack);
            // The stack's own Docker host (dynoform:dockerHost), for this process and the engine it starts.
            if (STACK_NAME.test(stack)) useStackDockerHost(path.resolve(String(args.cwd)), stack);
            if (!LOCKING_COMMANDS.has(command) || !STACK_NAME.test(stack)) return;
            // A malformed argument is refused before the wait: it changes nothing either way.
            ARGUMENT_CHECKS[command]?.(args);
            const lockTimeout = Number(args.lockTimeout);
            if (!(lockTimeout >= 0)) throw new UsageError(`--lock-timeout must be a number of seconds, got ${JSON.stringify(args.lockTimeout)}`);
            // The command word only: its arguments may hold secret values.
            release = await acquireStackLock(String(args.cwd), stack, `${command} --stack ${stack}`, {
                timeoutS: lockTimeout,
                say: (line) => process.stderr.write(`${line}\n`),
            });
        });
    try {
        await parser.parseAsync();
    } catch (err) {
        if (err instanceof ExitStatus) return err.code;
        if (err instanceof UsageError) {
            process.stderr.write(`dynoform: ${err.message}\n`);
            return EXIT.usage;
        }
        if (isEngineError(err)) {
            for (const line of engineFailureLines(err, commandWord(argv), verbose)) process.stderr.write(`dynoform: ${line}\n`);
            return EXIT.failure;
        }
        if (err instanceof StackBusyError) {
            process.stderr.write(`dynoform: ${err.message}\n`);
            return EXIT.failure;
        }
        process.stderr.write(`dynoform: ${(err as Error).message ?? String(err)}\n`);
        if (process.env.DYNOFORM_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
        return EXIT.failure;
    } finally {
        // Pulumi writes the state 0644: it is the user's alone (secrets are ciphertext, the rest is not).
        restrictLocalState();
        release?.();
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

/** Exit code of a command whose output closed, as a shell reports a SIGPIPE (128 + 13). */
const CLOSED_OUTPUT_EXIT = 141;

/**
 * A closed stdout or stderr (`dynoform ps | head`, `up 2>&1 | grep -m1 error`) ends the command
 * as SIGPIPE ends git: no more output, no stack trace; an operation in flight stops cleanly
 * first (as on SIGINT), and the exit code is 141.
 */
function endOnClosedOutput(): { closed: () => boolean } {
    let closed = false;
    const onError = (err: NodeJS.ErrnoException) => {
        if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
        if (closed) return;
        closed = true;
        for (const stream of [process.stdout, process.stderr]) {
            stream.write = (() => true) as typeof stream.write;
        }
        if (!stopOnClosedOutput() && !heldLocks()) process.exit(CLOSED_OUTPUT_EXIT);
    };
    process.stdout.on("error", onError);
    process.stderr.on("error", onError);
    return { closed: () => closed };
}

if (require.main === module) {
    const output = endOnClosedOutput();
    main(hideBin(process.argv)).then((code) => {
        process.exitCode = output.closed() ? CLOSED_OUTPUT_EXIT : code;
    });
}
