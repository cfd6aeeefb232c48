import { AppDefinition } from "../components/app-definition";
import { definitionOf, LoadedStack, loadStack, parseStackSettings, readStackText, StackFileChange, StackFileError, StackFileView } from "../infra/stack-file";
import { UsageError } from "./errors";
import { stackFile } from "./project";

export type { LoadedStack, StackFileView };

/** Runs the loader; a stack file that cannot be deployed is a usage error (exit 2). */
function usage<T>(fn: () => T): T {
    try {
        return fn();
    } catch (err) {
        if (err instanceof StackFileError) throw new UsageError(err.message);
        throw err;
    }
}

/**
 * Reads `stacks/Pulumi.<stack>.yaml` without decrypting anything (bad YAML: exit 2). `hold`
 * keeps the text for the command's next read of the file (see `readStackText`).
 */
export function readStackFile(dir: string, stack: string, hold = false): StackFileView {
    const file = stackFile(dir, stack);
    return usage(() => parseStackSettings(file, readStackText(file, hold)));
}

/** The one load of a deploying command: stack file, settings, validated definition (see `infra/stack-file.ts`). */
export function loadApp(dir: string, stack: string, change?: StackFileChange): LoadedStack {
    return usage(() => loadStack(dir, stack, change));
}

/** Validates settings already read (see `definitionOf`); a problem is a usage error. */
export function validateSettings(dir: string, view: StackFileView, stack: string): AppDefinition {
    return usage(() => definitionOf(dir, view, stackFile(dir, stack)));
}
