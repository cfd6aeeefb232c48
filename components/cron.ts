// Standard five-field cron expressions (minute hour day-of-month month day-of-week), in UTC.
// No cron parser is installed with the project (`cron-parser` on npm would be the library to
// take); this one is small, pure and self-contained: it also runs inside the scheduler
// container, which has no node_modules (see infra/docker/scheduler.ts).

/** One parsed expression: the values each field allows. */
export interface CronSchedule {
    minute: number[];
    hour: number[];
    dayOfMonth: number[];
    month: number[];
    dayOfWeek: number[];
    /** cron's rule: when both day fields are restricted, a day matching either one runs. */
    dayOfMonthAny: boolean;
    dayOfWeekAny: boolean;
}

const FIELDS = [
    { name: "minute", min: 0, max: 59 },
    { name: "hour", min: 0, max: 23 },
    { name: "day of month", min: 1, max: 31 },
    { name: "month", min: 1, max: 12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
    { name: "day of week", min: 0, max: 7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
] as const;

const MACROS: Record<string, string> = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
};

/** A cron expression that cannot be read: says which field and why, in one line. */
export class CronError extends Error {
    override readonly name = "CronError";
}

/**
 * Parses `*\/10 * * * *`, `0 2 * * 1-5`, `15,45 9-17 * jan-jun mon` or a macro (`@daily`).
 * Steps (`a-b/n`, `*\/n`), lists, ranges, month and weekday names; day of week 7 is Sunday. Pure.
 *
 * @throws CronError naming the field that is wrong, e.g. `minute "61" is out of range 0-59`.
 */
export function parseCron(expr: string): CronSchedule {
    const text = typeof expr === "string" ? expr.trim() : "";
    const expanded = MACROS[text.toLowerCase()] ?? text;
    const parts = expanded.split(/\s+/).filter(Boolean);
    if (parts.length !== 5) {
        throw new CronError(
            `${JSON.stringify(expr)} has ${parts.length} field${parts.length === 1 ? "" : "s"}; a schedule has five: minute hour day-of-month month day-of-week (e.g. "*/10 * * * *")`,
        );
    }
    const values = parts.map((p, i) => parseField(p, FIELDS[i]));
    return {
        minute: values[0],
        hour: values[1],
        dayOfMonth: values[2],
        month: values[3],
        dayOfWeek: [...new Set(values[4].map((d) => d % 7))].sort((a, b) => a - b),
        dayOfMonthAny: parts[2] === "*" || parts[2] === "?",
        dayOfWeekAny: parts[4] === "*" || parts[4] === "?",
    };
}

function parseField(text: string, f: (typeof FIELDS)[number]): number[] {
    const out = new Set<number>();
    const bad = (why: string) => new CronError(`${f.name} ${JSON.stringify(text)} ${why}`);
    const num = (s: string): number => {
        const named = "names" in f ? (f.names as readonly string[]).indexOf(s.toLowerCase()) : -1;
        if (named >= 0) return named + (f.name === "month" ? 1 : 0);
        if (!/^\d+$/.test(s)) throw bad(`is not a number${"names" in f ? " or a name" : ""}`);
        const n = Number(s);
        if (n < f.min || n > f.max) throw bad(`is out of range ${f.min}-${f.max}`);
        return n;
    };
    for (const item of text.split(",")) {
        const [range, stepText, extra] = item.split("/");
        if (extra !== undefined || range === "") throw bad("is not a value, range or step");
        let step = 1;
        if (stepText !== undefined) {
            if (!/^\d+$/.test(stepText) || Number(stepText) === 0) throw bad("has a step that is not a whole number above 0");
            step = Number(stepText);
        }
        let lo: number;
        let hi: number;
        if (range === "*" || range === "?") {
            lo = f.min;
            hi = f.name === "day of week" ? 6 : f.max;
        } else if (range.includes("-")) {
            const [a, b, more] = range.split("-");
            if (more !== undefined) throw bad("is not a value, range or step");
            lo = num(a);
            hi = num(b);
            if (lo > hi) throw bad(`is a range from high to low`);
        } else {
            lo = num(range);
            hi = stepText === undefined ? lo : f.name === "day of week" ? 6 : f.max;
        }
        for (let v = lo; v <= hi; v += step) out.add(v);
    }
    return [...out].sort((a, b) => a - b);
}

/** Whether a schedule runs in the minute of `at` (UTC). Pure. */
export function cronMatches(s: CronSchedule, at: Date): boolean {
    if (!s.minute.includes(at.getUTCMinutes()) || !s.hour.includes(at.getUTCHours())) return false;
    return dayMatches(s, at);
}

/** Whether a schedule runs on the day (and month) of `at` (UTC). Pure. */
function dayMatches(s: CronSchedule, at: Date): boolean {
    if (!s.month.includes(at.getUTCMonth() + 1)) return false;
    const dom = s.dayOfMonth.includes(at.getUTCDate());
    const dow = s.dayOfWeek.includes(at.getUTCDay());
    if (s.dayOfMonthAny && s.dayOfWeekAny) return true;
    if (s.dayOfMonthAny) return dow;
    if (s.dayOfWeekAny) return dom;
    return dom || dow;
}

/** The first minute strictly after `after` in which the schedule runs (UTC), within 5 years. Pure. */
export function nextRun(s: CronSchedule, after: Date): Date | undefined {
    const t = new Date(after.getTime());
    t.setUTCSeconds(0, 0);
    t.setUTCMinutes(t.getUTCMinutes() + 1);
    const limit = after.getTime() + 5 * 366 * 24 * 3600 * 1000;
    while (t.getTime() < limit) {
        if (!s.month.includes(t.getUTCMonth() + 1)) {
            t.setUTCMonth(t.getUTCMonth() + 1, 1);
            t.setUTCHours(0, 0);
            continue;
        }
        if (!dayMatches(s, t)) {
            t.setUTCDate(t.getUTCDate() + 1);
            t.setUTCHours(0, 0);
            continue;
        }
        if (!s.hour.includes(t.getUTCHours())) {
            t.setUTCHours(t.getUTCHours() + 1, 0);
            continue;
        }
        if (cronMatches(s, t)) return t;
        t.setUTCMinutes(t.getUTCMinutes() + 1);
    }
    return undefined;
}
