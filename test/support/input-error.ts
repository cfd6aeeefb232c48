import assert from "node:assert/strict";
import { DynoformInputError } from "../../components/errors";

/**
 * Asserts `fn` throws a {@link DynoformInputError} with exactly this field, file and line, a
 * reason matching `reason`, and the message `file:line: \`field\`: reason`.
 */
export function throwsInput(fn: () => unknown, field: string, reason: RegExp, file?: string, line?: number): DynoformInputError {
    let caught: unknown;
    try {
        fn();
    } catch (e) {
        caught = e;
    }
    assert.ok(caught instanceof DynoformInputError, `expected a DynoformInputError, got ${String(caught)}`);
    assert.equal(caught.field, field);
    assert.equal(caught.file, file);
    assert.equal(caught.line, line);
    assert.match(caught.reason, reason);
    const where = file === undefined ? "" : line === undefined ? `${file}: ` : `${file}:${line}: `;
    assert.equal(caught.message, `${where}\`${field}\`: ${caught.reason}`);
    return caught;
}
