import { Argv } from "yargs";
import { UsageError } from "./errors";

/** Options every command takes. */
export interface GlobalOptions {
    stack: string;
    cwd: string;
    json: boolean;
}

/** A string option given once: `--stack a --stack b` would otherwise reach the handler as an array. */
function once(flag: string) {
    return (value: unknown): string => {
        if (Array.isArray(value)) throw new UsageError(`--${flag} is given ${value.length} times (${value.map((v) => JSON.stringify(v)).join(", ")}); give it once`);
        return value as string;
    };
}

/** Adds `--stack`, `--cwd` and `--json` to the root parser; `--stack` and `--cwd` need a value. */
export function withGlobalOptions<T>(y: Argv<T>): Argv<T & GlobalOptions> {
    return y
        .option("stack", {
            alias: "s",
            type: "string",
            default: process.env.DYNOFORM_STACK ?? "dev",
            requiresArg: true,
            coerce: once("stack"),
            describe: "Stack (environment) to act on; its config is stacks/Pulumi.<stack>.yaml",
        })
        .option("cwd", {
            type: "string",
            default: process.cwd(),
            requiresArg: true,
            coerce: once("cwd"),
            describe: "Project folder (holding Pulumi.yaml)",
        })
        .option("json", { type: "boolean", default: false, describe: "Machine-readable output" });
}
