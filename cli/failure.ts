import * as fs from "fs";
import * as path from "path";
import { paths } from "../toolchain/paths";

/** The Automation API's error for a failed `pulumi` run: its message is the command's whole stdout and stderr. */
interface EngineError extends Error {
    commandResult: { stdout: string; stderr: string; code: number };
}

/** Whether `err` is a failed Pulumi CLI run (Automation API `CommandError` or one of its subclasses). */
export function isEngineError(err: unknown): err is EngineError {
    const r = (err as EngineError | undefined)?.commandResult;
    return typeof r === "object" && r !== null && typeof r.stdout === "string" && typeof r.stderr === "string";
}

/** Lines that only say that something failed, not what. */
const NO_CAUSE = /^(update failed|preview failed|refresh failed|destroy failed|One or more errors occurred|an unhandled error occurred: program failed|program failed)/i;

/**
 * The cause of a failed Pulumi run in at most two lines: the error diagnostics Pulumi reports
 * (`error: ...` under "Diagnostics:"), without the engine's ANSI colours, duplicates and
 * "update failed" lines. A stack locked by another Pulumi process is said in Dynoform's words
 * (Pulumi's own advice, `pulumi cancel`, would break the update in flight). Pure.
 */
export function engineCause(stdout: string, stderr: string): string[] {
    const text = `${stdout}\n${stderr}`.replace(/\u001b\[[0-9;]*m/g, "").replace(/<\{%[^%]*%\}>/g, "");
    const locked = /the stack is currently locked by (\d+) lock\(s\)[\s\S]*?\n\s*([^\n]*(?:acquired|created)[^\n]*)/.exec(text);
    if (locked || /currently locked by/.test(text)) {
        return [`the stack is being changed by another Pulumi process${locked ? ` (${locked[2].trim()})` : ""}: wait for it to finish, then run the command again`];
    }
    const causes: string[] = [];
    for (const line of text.split("\n")) {
        const m = /^\s*error: (.*\S)\s*$/.exec(line);
        if (!m || NO_CAUSE.test(m[1])) continue;
        const cause = m[1].replace(/^Unhandled exception: (\w*Error: )?/, "").replace(/\s+/g, " ");
        if (!causes.includes(cause)) causes.push(cause);
    }
    if (causes.length === 0) {
        const last = text.split("\n").map((l) => l.trim()).filter(Boolean).pop();
        return [last ? last.replace(/^error: /, "") : "the Pulumi engine failed without saying why"];
    }
    return causes.slice(0, 2).map((c) => (c.length > 400 ? `${c.slice(0, 400)}…` : c));
}

/** Writes the engine's whole output to a new log file (mode 0600, in a 0700 folder) and returns its path. */
export function writeEngineLog(command: string, message: string): string {
    const dir = paths.logs();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700); // made 0755 by earlier versions: logs are the user's alone
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const file = path.join(dir, `${stamp}-${command.replace(/[^A-Za-z0-9_-]+/g, "_")}-${process.pid}.log`);
    fs.writeFileSync(file, message.endsWith("\n") ? message : `${message}\n`, { mode: 0o600 });
    return file;
}

/**
 * The lines a failed Pulumi run prints: its cause, then where the whole engine output is
 * (`--verbose` prints that output as well).
 */
export function engineFailureLines(err: EngineError, command: string, verbose: boolean): string[] {
    const cause = engineCause(err.commandResult.stdout, err.commandResult.stderr);
    let where: string;
    try {
        where = `the engine's full output is in ${writeEngineLog(command, err.message)}`;
    } catch (e) {
        where = `the engine's full output could not be written to ${paths.logs()} (${(e as Error).message}); --verbose prints it`;
    }
    return [...cause, ...(verbose ? [err.message.trimEnd()] : []), verbose ? where : `${where} (--verbose prints it)`];
}
