/**
 * Bad user input: names the field (`formation.web.quantity`), and where it came from (a file
 * and line) when it came from a file. The CLI maps it to exit code 2; the Pulumi program
 * raises it before any resource is created, so nothing changes.
 */
export class DynoformInputError extends Error {
    override readonly name = "DynoformInputError";

    constructor(
        /** Dotted path of the offending field, e.g. `addons[1].plan`. */
        public readonly field: string,
        /** What was wrong and what would be right. */
        public readonly reason: string,
        /** Source file, e.g. `Procfile` or `app.json`. */
        public readonly file?: string,
        /** 1-based line in `file`. */
        public readonly line?: number,
    ) {
        super(`${file ? `${file}${line ? `:${line}` : ""}: ` : ""}\`${field}\`: ${reason}`);
    }
}
