import type { EngineEvent } from "@pulumi/pulumi/automation";
import { ExitStatus } from "./errors";

/** Exit codes of a command stopped by a signal, as a shell reports them (128 + the signal's number). */
const SIGNAL_EXIT: Record<"SIGINT" | "SIGTERM", number> = { SIGINT: 130, SIGTERM: 143 };

/** How long to wait for Pulumi to say it got the signal itself before passing it on. */
const ACK_MS = 1000;

/** What an interruptible operation hands to Pulumi: the abort signal, and its event callback. */
export interface Interruption {
    signal: AbortSignal;
    /** The operation's `onEvent`, watched for Pulumi's own "^C received" (`inner` may be undefined: quiet). */
    onEvent(inner?: (e: EngineEvent) => void): (e: EngineEvent) => void;
}

/**
 * Runs a Pulumi operation (`up`, `preview`, `refresh`, `destroy`) so that a SIGINT or SIGTERM
 * stops it cleanly: Pulumi finishes the operations already started, writes them to the state,
 * begins no new ones and releases the lock; the command then exits 130 (SIGINT) or 143
 * (SIGTERM). A second signal exits at once, as a second Ctrl-C does.
 *
 * Pulumi cancels on its first SIGINT and terminates on its second, so the signal must reach it
 * exactly once. A Ctrl-C at a terminal, or a runner signalling the process group, reaches
 * `pulumi` directly, and it says so at once ("^C received; cancelling"); a signal sent to the
 * CLI alone does not, and is passed on (the Automation API turns the abort into one SIGINT)
 * when Pulumi has not said so within a second.
 */
export async function interruptible<T>(what: string, run: (i: Interruption) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let received: "SIGINT" | "SIGTERM" | undefined;
    let pulumiGotIt = false;
    const onSignal = (signal: "SIGINT" | "SIGTERM") => {
        if (received) {
            process.stderr.write(`dynoform: ${signal} again: stopping now; the next command clears what ${what} left in flight\n`);
            process.exit(SIGNAL_EXIT[signal]);
        }
        received = signal;
        process.stderr.write(`dynoform: ${signal}: stopping ${what} once the operations in flight finish (send it again to stop at once)\n`);
        setTimeout(() => pulumiGotIt || controller.abort(), ACK_MS).unref();
    };
    const onInt = () => onSignal("SIGINT");
    const onTerm = () => onSignal("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    const interruption: Interruption = {
        signal: controller.signal,
        onEvent: (inner) => (e) => {
            if (e.stdoutEvent?.message.startsWith("^C received")) pulumiGotIt = true;
            inner?.(e);
        },
    };
    try {
        // An operation that completed all the same (nothing was left to do) is a success.
        return await run(interruption);
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
