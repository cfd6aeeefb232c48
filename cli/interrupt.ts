import type { EngineEvent } from "@pulumi/pulumi/automation";
import { ExitStatus } from "./errors";

/** Exit codes of a command stopped by a signal, as a shell reports them (128 + the signal's number). */
const SIGNAL_EXIT: Record<Stop, number> = { SIGINT: 130, SIGTERM: 143, SIGPIPE: 141 };

/** What stops an operation: a signal, or its output closing (`| head`), as SIGPIPE stops other tools. */
type Stop = "SIGINT" | "SIGTERM" | "SIGPIPE";

/** The operation in flight, told to stop when the command's output closes. */
let inFlight: ((stop: Stop) => void) | undefined;
let outputClosed = false;

/**
 * The command's stdout or stderr closed (its reader exited): the operation in flight stops
 * cleanly as on SIGINT, and one started later stops before it begins; the command exits 141.
 * Returns whether an operation is in flight (otherwise the caller may exit at once).
 */
export function stopOnClosedOutput(): boolean {
    outputClosed = true;
    inFlight?.("SIGPIPE");
    return inFlight !== undefined;
}

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
    if (outputClosed) throw new ExitStatus(SIGNAL_EXIT.SIGPIPE);
    const controller = new AbortController();
    let received: Stop | undefined;
    let pulumiGotIt = false;
    const onSignal = (signal: Stop) => {
        if (signal === "SIGPIPE") {
            // Nobody reads the output: no word, and Pulumi gets the abort as it would a signal sent to the CLI alone.
            received ??= signal;
            controller.abort();
            return;
        }
        if (received) {
            process.stderr.write(`dynoform: ${signal} again: stopping now; the next command clears what ${what} left in flight\n`);
            process.exit(SIGNAL_EXIT[signal]);
        }
        received = signal;
        process.stderr.write(`dynoform: ${signal}: stopping ${what} once the operations in flight finish (send it again to stop at once)\n`);
        setTimeout(() => pulumiGotIt || controller.abort(), ACK_MS).unref();
    };
    // An error the program throws where nothing catches it (in an `apply`) leaves Pulumi waiting
    // for a resource that never comes: the operation is cancelled as on SIGINT, and fails with it.
    // Once a signal has come, the program's registrations fail because Pulumi is stopping
    // ("Resource monitor is terminating"): those are the signal's doing, not the program's.
    // So do they when Pulumi stops because a resource failed (a release rolled back): the
    // resource's failure is the command's, which the engine reports (CI: a crashing worker's
    // release was reported as "up stopped: Resource monitor is terminating").
    let programError: Error | undefined;
    const onProgramError = (err: unknown) => {
        if (programError || received) return;
        if (/Resource monitor is terminating/.test(err instanceof Error ? err.message : String(err))) return;
        programError = err instanceof Error ? err : new Error(String(err));
        controller.abort();
    };
    process.on("unhandledRejection", onProgramError);
    process.on("uncaughtException", onProgramError);
    const onInt = () => onSignal("SIGINT");
    const onTerm = () => onSignal("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    inFlight = onSignal;
    const interruption: Interruption = {
        signal: controller.signal,
        onEvent: (inner) => (e) => {
            if (e.stdoutEvent?.message.startsWith("^C received")) pulumiGotIt = true;
            inner?.(e);
        },
    };
    let result: T;
    try {
        result = await run(interruption);
    } catch (err) {
        if (programError) throw programFailed(what, programError);
        if (received) throw stopped(what, received);
        throw err;
    } finally {
        process.removeListener("unhandledRejection", onProgramError);
        process.removeListener("uncaughtException", onProgramError);
        process.removeListener("SIGINT", onInt);
        process.removeListener("SIGTERM", onTerm);
        inFlight = undefined;
    }
    if (programError) throw programFailed(what, programError);
    // Interrupted, though the operation finished first (the signal came within its last second,
    // before Pulumi was told): the command still ends as interrupted, as a shell expects of it.
    if (received) throw stopped(what, received, true);
    return result;
}

/** The program's own error, as the command's one-line failure; what finished before it is in the state. */
function programFailed(what: string, err: Error): Error {
    return new Error(`${what} stopped: ${err.message}; what finished before it is in the stack's state`);
}

function stopped(what: string, signal: Stop, finished = false): ExitStatus {
    if (signal === "SIGPIPE") return new ExitStatus(SIGNAL_EXIT[signal]);
    process.stderr.write(
        finished
            ? `dynoform: ${what} stopped by ${signal}; what it finished is in the stack's state (all of its work: it finished before it could stop)\n`
            : `dynoform: ${what} stopped by ${signal}; what it finished is in the stack's state (\`dynoform up\` continues from there)\n`,
    );
    return new ExitStatus(SIGNAL_EXIT[signal]);
}
