import { Argv } from "yargs";
import { UsageError } from "./errors";
import { DEFAULT_LOCK_TIMEOUT_S } from "./stack-lock";

/** Options every command takes. */
export interface GlobalOptions {
    stack: string;
    cwd: string;
    json: boolean;
    /** Print the engine's whole output when a command fails (it always goes to a log file). */
    verbose?: boolean;
    /** Seconds to wait for another command that holds the stack's lock. */
    lockTimeout?: number;
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
        .option("json", { type: "boolean", default: false, describe: "Machine-readable output" })
        .option("verbose", { type: "boolean", default: false, describe: "On failure, print the engine's whole output too (it always goes to a log file)" })
        .option("lock-timeout", {
            type: "number",
            default: Number(process.env.DYNOFORM_LOCK_TIMEOUT || DEFAULT_LOCK_TIMEOUT_S),
            requiresArg: true,
            describe: "Seconds to wait while another command changes the same stack (DYNOFORM_LOCK_TIMEOUT)",
        });
}
