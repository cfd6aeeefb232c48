/**
 * A `node --test` reporter that `npm test` adds beside TAP (to stderr): each test file's span, from
 * its first event to its last as the runner received them, and the sum of its top-level tests'
 * durations, longest first. What the suite's time is made of, for whoever works on it.
 */
interface TestEvent {
    type: string;
    data?: { file?: string; nesting?: number; details?: { duration_ms?: number } };
}

interface FileTimes {
    first: number;
    last: number;
    tests: number;
}

/** The report's lines: longest span first. Pure. */
function fileTimesReport(times: Map<string, FileTimes>, cwd: string): string {
    const rows = [...times.entries()].sort((a, b) => b[1].last - b[1].first - (a[1].last - a[1].first));
    const lines = rows.map(([file, t]) => {
        const name = file.startsWith(`${cwd}/`) ? file.slice(cwd.length + 1) : file;
        return `# file span ${((t.last - t.first) / 1000).toFixed(1).padStart(7)} s, tests ${(t.tests / 1000).toFixed(1).padStart(7)} s  ${name}`;
    });
    return `# test files by span (first to last event), ${rows.length} files\n${lines.join("\n")}\n`;
}

async function* fileTimes(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
    const times = new Map<string, FileTimes>();
    for await (const event of source) {
        const file = event.data?.file;
        if (!file) continue;
        const now = Date.now();
        const t = times.get(file) ?? { first: now, last: now, tests: 0 };
        t.last = now;
        if ((event.type === "test:pass" || event.type === "test:fail") && event.data?.nesting === 0) t.tests += event.data.details?.duration_ms ?? 0;
        times.set(file, t);
    }
    yield fileTimesReport(times, process.cwd());
}

// Node loads a reporter by import(): a CommonJS module's exports are its default.
export = fileTimes;
