/** A mistake in what the user typed: printed as one line, exit code 2, nothing changed. */
export class UsageError extends Error {
    override readonly name = "UsageError";
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
