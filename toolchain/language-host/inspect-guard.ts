/**
 * Preloaded (`node --require`) into programs the language host runs, to dodge a Node.js bug.
 *
 * The SDK's runner prints an uncaught error with `util.inspect(err, { colors: true })`. With
 * colours, Node.js (seen with 20.20.2) underlines module names in stack frames, and its loop never
 * ends for a frame whose path has `node_modules/<name>` (or `node_modules/@scope/<name>`) with no
 * further `/` after it. Source-mapped frames of the SDK look exactly like that
 * (`.../node_modules/@pulumi/resource.ts:1598:22`), so nearly every program error made the run
 * spin for about two minutes, growing to gigabytes, until the string got too long and the SDK fell
 * back to plain text. This wraps `util.inspect` so that a value whose stack has such a frame is
 * inspected without colours; everything else is passed through unchanged.
 */
import util = require("util");

/** A stack frame line Node's colouring loops on: `node_modules/` then a name (or `@scope/name`) and no separator after it. */
const LOOPING_FRAME = /[/\\]node_modules[/\\](?:@[^/\\\n]*[/\\])?[^/\\\n]*$/m;

/** True when `util.inspect(value, { colors: true })` would hit the Node.js loop. */
export function wouldLoop(value: unknown): boolean {
    const stack = (value as { stack?: unknown } | null | undefined)?.stack;
    return typeof stack === "string" && LOOPING_FRAME.test(stack);
}

const original = util.inspect;
const callOriginal = (self: unknown, args: unknown[]): string => (original as (...a: unknown[]) => string).apply(self, args);

function guardedInspect(this: unknown, value: unknown, ...rest: unknown[]): string {
    const opts = rest[0];
    if (typeof opts === "object" && opts !== null) {
        if ((opts as util.InspectOptions).colors && wouldLoop(value)) {
            return callOriginal(this, [value, { ...(opts as util.InspectOptions), colors: false }]);
        }
    } else if (rest[2] === true && wouldLoop(value)) {
        // the legacy form: inspect(value, showHidden, depth, colors)
        return callOriginal(this, [value, rest[0], rest[1], false]);
    }
    return callOriginal(this, [value, ...rest]);
}

if (!(original as { __dynoformGuard?: boolean }).__dynoformGuard) {
    // Keep util.inspect.custom, .defaultOptions (an accessor), .colors and .styles working.
    for (const key of Reflect.ownKeys(original)) {
        if (key === "length" || key === "name" || key === "prototype") continue;
        Object.defineProperty(guardedInspect, key, Object.getOwnPropertyDescriptor(original, key)!);
    }
    Object.defineProperty(guardedInspect, "__dynoformGuard", { value: true });
    (util as { inspect: unknown }).inspect = guardedInspect;
}
