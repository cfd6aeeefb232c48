/**
 * The `node --test` reporter of {@link digest}: it collects the run's `test:fail` events and,
 * once the run is over, writes their digest. A module of its own whose export is the reporter
 * itself: node's runner takes a CommonJS module's `module.exports` as the reporter.
 */
import { digest, FailEvent } from "./failure-digest";

export = async function* failureReporter(source: AsyncIterable<{ type: string; data: unknown }>): AsyncGenerator<string> {
    const fails: FailEvent[] = [];
    for await (const event of source) {
        if (event.type === "test:fail") fails.push(event.data as FailEvent);
    }
    const lines = digest(fails);
    if (lines.length > 0) yield `${lines.join("\n")}\n`;
};
