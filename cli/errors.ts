/** A mistake in what the user typed: printed as one line, exit code 2, nothing changed. */
export class UsageError extends Error {
    override readonly name = "UsageError";
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * Not a failure: the command finished and asks the CLI to exit with `code` (`run` passes its
 * one-off dyno's exit code through). The entry point prints nothing for it.
 */
export class ExitStatus extends Error {
    override readonly name = "ExitStatus";

    constructor(public readonly code: number) {
        super(`exit status ${code}`);
    }
}
