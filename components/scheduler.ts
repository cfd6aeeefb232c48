import { CronError, parseCron } from "./cron";
import { DynoformInputError } from "./errors";

// Heroku Scheduler's jobs as a stack declares them (`dynoform:scheduler`), checked here before any
// resource exists. Who fires them is infra/docker/scheduler.ts.

/**
 * One scheduled job as the stack file holds it under `dynoform:scheduler.<name>`: a command run
 * as a one-off dyno, or (with `backup`) a scheduled `pg:backups:capture` keeping `retain` backups.
 */
export interface SchedulerJobRequest {
    /** Five-field cron expression, in UTC: `*\/10 * * * *`. */
    schedule: string;
    /** The shell line a one-off dyno runs (`npm run report`). */
    command?: string;
    /** A Postgres add-on's name: the job backs it up instead of running a command. */
    backup?: string;
    /** Completed backups kept by a backup job; older ones are deleted after each capture (7). */
    retain?: number;
}

/** A checked job: a name, a schedule that parses, and either a command or a backup. */
export interface SchedulerJob {
    name: string;
    schedule: string;
    command?: string;
    backup?: { addon: string; retain: number };
}

/** Job names: what `scheduler:remove` takes, and what log lines are prefixed with (`scheduler[report]`). */
export const JOB_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** The `role` label of an app's scheduler container, and of the containers its job runs are. */
export const SCHEDULER_ROLE = "scheduler";
export const SCHEDULER_JOB_ROLE = "scheduler-job";

/** The `dyno` label of a job's runs, `scheduler.report`, and back. Pure. */
export const jobDyno = (job: string) => `scheduler.${job}`;
export const jobOfDyno = (dyno: string) => dyno.replace(/^scheduler\./, "");

/** The job `pg:backups:schedule` writes. */
export const BACKUP_JOB = "pg-backups";

/** Backups a scheduled backup keeps unless told otherwise (Heroku keeps 7 daily ones). */
export const DEFAULT_RETAIN = 7;

const show = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v)));

/** What a job does, in words: its command, or `pg:backups:capture postgres (keep 7)`. Pure. */
export function jobWhat(j: SchedulerJob): string {
    return j.backup ? `pg:backups:capture ${j.backup.addon} (keep ${j.backup.retain})` : (j.command ?? "");
}

/** Checks a cron expression; a bad one is an input error naming `field`. Pure. */
export function validateSchedule(schedule: unknown, field: string): string {
    if (typeof schedule !== "string") throw new DynoformInputError(field, `expected a cron expression such as "*/10 * * * *", got ${show(schedule)}`);
    try {
        parseCron(schedule);
    } catch (err) {
        if (err instanceof CronError) throw new DynoformInputError(field, err.message);
        throw err;
    }
    return schedule.trim();
}

/** Checks a job name. Pure. */
export function validateJobName(name: string, field: string): string {
    if (!JOB_NAME.test(name)) {
        throw new DynoformInputError(field, `job name ${show(name)} must be lower-case letters, digits and '-' (at most 40), starting with a letter or digit`);
    }
    return name;
}

/**
 * Checks `dynoform:scheduler`: a map of job name to `{ schedule, command }` or
 * `{ schedule, backup, retain? }`. `addons` are the stack's Postgres add-on names, when known. Pure.
 *
 * @throws DynoformInputError naming the field, e.g. `scheduler.report.schedule`.
 */
export function validateSchedulerJobs(raw: unknown, postgresAddons?: string[], field = "scheduler"): SchedulerJob[] {
    if (raw === undefined || raw === null) return [];
    if (typeof raw !== "object" || Array.isArray(raw)) {
        throw new DynoformInputError(field, `expected a map of job name to { schedule, command }, got ${show(raw)}`);
    }
    return Object.entries(raw as Record<string, unknown>).map(([name, value]) => {
        const at = `${field}.${name}`;
        validateJobName(name, at);
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            throw new DynoformInputError(at, `expected { schedule, command } or { schedule, backup, retain }, got ${show(value)}`);
        }
        const v = value as Record<string, unknown>;
        const unknownKey = Object.keys(v).find((k) => !["schedule", "command", "backup", "retain"].includes(k));
        if (unknownKey) throw new DynoformInputError(`${at}.${unknownKey}`, `unknown key; a job has schedule, command, backup and retain`);
        const schedule = validateSchedule(v.schedule, `${at}.schedule`);
        if ((v.command === undefined) === (v.backup === undefined)) {
            throw new DynoformInputError(at, `a job has either a command or a backup (the name of a Postgres add-on), not ${v.command === undefined ? "neither" : "both"}`);
        }
        if (v.command !== undefined) {
            if (typeof v.command !== "string" || !v.command.trim()) throw new DynoformInputError(`${at}.command`, `expected a shell command, got ${show(v.command)}`);
            if (v.retain !== undefined) throw new DynoformInputError(`${at}.retain`, "retain applies to backup jobs only");
            return { name, schedule, command: v.command };
        }
        if (typeof v.backup !== "string" || (postgresAddons && !postgresAddons.includes(v.backup))) {
            throw new DynoformInputError(`${at}.backup`, `${show(v.backup)} is not a Postgres add-on of this app (Postgres add-ons: ${postgresAddons?.join(", ") || "none"})`);
        }
        return { name, schedule, backup: { addon: v.backup, retain: validateRetain(v.retain ?? DEFAULT_RETAIN, `${at}.retain`) } };
    });
}

/** A retention count: a whole number from 1 to 1000 (`"7"` from the stack file reads as 7). Pure. */
export function validateRetain(raw: unknown, field: string): number {
    const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 1000) {
        throw new DynoformInputError(field, `expected a whole number of backups to keep, from 1 to 1000, got ${show(raw)}`);
    }
    return n;
}

/** `--at "02:00"` (UTC) as a daily cron expression, `0 2 * * *`. Pure. */
export function dailyAt(at: string, field = "--at"): string {
    const m = /^([01]?\d|2[0-3]):([0-5]\d)(?:\s+UTC)?$/i.exec(at.trim());
    if (!m) throw new DynoformInputError(field, `expected a time of day in UTC as HH:MM, e.g. "02:00", got ${show(at)}`);
    return `${Number(m[2])} ${Number(m[1])} * * *`;
}

/** A job name from its command: `npm run report` -> `npm-run-report`, unique among `taken`. Pure. */
export function jobNameFor(command: string, taken: string[]): string {
    const base = command.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 36).replace(/-+$/, "") || "job";
    if (!taken.includes(base)) return base;
    let n = 2;
    while (taken.includes(`${base}-${n}`)) n++;
    return `${base}-${n}`;
}
