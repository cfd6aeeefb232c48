import { ExitStatus } from "./errors";

/** Exit codes of a command stopped by a signal, as a shell reports them (128 + the signal's number). */
const SIGNAL_EXIT: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs a Pulumi operation (`up`, `preview`, `refresh`, `destroy`) so that a SIGINT or SIGTERM
 * sent to this process stops it cleanly instead of orphaning it. The Automation API hands the
 * abort to the `pulumi` process as SIGINT; Pulumi then cancels: the operations already started
 * finish and are written to the state, no new ones begin, the lock is released. The command then
 * exits 130 (SIGINT) or 143 (SIGTERM). A second signal exits at once, as a second Ctrl-C does.
 *
 * A Ctrl-C at a terminal reaches the whole foreground process group, `pulumi` included, so a
 * SIGINT is only passed on when stdin is not a terminal (CI runners and supervisors signal the
 * CLI alone); SIGTERM is always passed on.
 */
export async function interruptible<T>(what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let received: "SIGINT" | "SIGTERM" | undefined;
    const onSignal = (signal: "SIGINT" | "SIGTERM") => {
        if (received) {
            process.stderr.write(`dynoform: ${signal} again: stopping now; the next command clears what ${what} left in flight\n`);
            process.exit(SIGNAL_EXIT[signal]);
        }
        received = signal;
        process.stderr.write(`dynoform: ${signal}: stopping ${what} once the operations in flight finish (send it again to stop at once)\n`);
        if (signal === "SIGTERM" || !process.stdin.isTTY) controller.abort();
    };
    const onInt = () => onSignal("SIGINT");
    const onTerm = () => onSignal("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    try {
        // An operation that completed all the same (nothing was left to do) is a success.
        return await run(controller.signal);
    } catch (err) {
        if (received) throw stopped(what, received);
        throw err;
    } finally {
        process.removeListener("SIGINT", onInt);
        process.removeListener("SIGTERM", onTerm);
    }
}

function stopped(what: string, signal: "SIGINT" | "SIGTERM"): ExitStatus {
    process.stderr.write(`dynoform: ${what} stopped by ${signal}; what it finished is in the stack's state (\`dynoform up\` continues from there)\n`);
    return new ExitStatus(SIGNAL_EXIT[signal]);
}
