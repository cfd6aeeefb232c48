/**
 * Polls `probe` every `everyMs` until it returns a truthy value, which it resolves to; after
 * `timeoutMs` it fails naming `what` (and the probe's last error: a probe that throws, such as a
 * fetch to a dyno still booting, counts as "not yet").
 */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs: number, what: string, everyMs = 200): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
        try {
            const v = await probe();
            if (v) return v as NonNullable<T>;
        } catch (err) {
            lastError = err;
        }
        if (Date.now() > deadline) {
            const why = lastError ? ` (last error: ${(lastError as Error).message ?? lastError})` : "";
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
        }
        await new Promise((r) => setTimeout(r, everyMs));
    }
}
