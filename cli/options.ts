import { Argv } from "yargs";

/** Options every command takes. */
export interface GlobalOptions {
    stack: string;
    cwd: string;
    json: boolean;
}

/** Adds `--stack`, `--cwd` and `--json` to the root parser. */
export function withGlobalOptions<T>(y: Argv<T>): Argv<T & GlobalOptions> {
    return y
        .option("stack", {
            alias: "s",
            type: "string",
            default: process.env.DYNOFORM_STACK ?? "dev",
            describe: "Stack (environment) to act on; its config is stacks/Pulumi.<stack>.yaml",
        })
        .option("cwd", {
            type: "string",
            default: process.cwd(),
            describe: "Project folder (holding Pulumi.yaml)",
        })
        .option("json", { type: "boolean", default: false, describe: "Machine-readable output" });
}
