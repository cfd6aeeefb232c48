/** One line per bootstrap step: what was found or done, and how long it took. */
export type Reporter = (line: string) => void;

export const consoleReporter: Reporter = (line) => process.stderr.write(`dynoform: ${line}\n`);

export const silentReporter: Reporter = () => undefined;

/** Runs `fn`, then reports `label` with the elapsed seconds. */
export async function timed<T>(report: Reporter, label: (r: T) => string, fn: () => Promise<T>) {
    const started = Date.now();
    const result = await fn();
    report(`${label(result)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return result;
}
