import type Docker = require("dockerode");
import { nextRun, parseCron } from "../components/cron";
import { jobOfDyno, jobWhat, SchedulerJob, SCHEDULER_JOB_ROLE, SCHEDULER_ROLE } from "../components/scheduler";
import { LABEL, ownerLabels } from "../infra/docker/labels";
import { readDeployedResources } from "../infra/engine/stack-read";
import { GlobalOptions } from "./options";
import { projectDir } from "./project";

/** The Scheduler resource's type in state. */
const SCHEDULER_TYPE = "pulumi-nodejs:dynamic/docker:Scheduler";

/** A job's last run, from the container Docker keeps until the next run ends. */
export interface JobRun {
    job: string;
    container: string;
    state: "running" | "exited" | "created";
    startedAt: string;
    finishedAt?: string;
    exitCode?: number;
}

/** A job as `scheduler` lists it. */
export interface JobRow {
    name: string;
    schedule: string;
    /** The command, or `pg:backups:capture <addon> (keep N)`. */
    runs: string;
    /** The newest finished run, with its exit code. */
    lastRun: JobRun | null;
    /** A run going on now, if any. */
    running: JobRun | null;
    /** The next time it is due (UTC, ISO). */
    next: string | null;
}

/** A job as deployed: in the state's Scheduler resource. */
export interface DeployedJob {
    name: string;
    schedule: string;
    what?: string;
}

/** What `preview` says about the scheduled jobs: `+ tick (* * * * *): echo hi`, `~`, `-`; none when unchanged. Pure. */
export function schedulerChanges(deployed: DeployedJob[], desired: SchedulerJob[]): string[] {
    const lines: string[] = [];
    for (const j of desired) {
        const d = deployed.find((x) => x.name === j.name);
        const now = `${j.name} (${j.schedule}): ${jobWhat(j)}`;
        if (!d) lines.push(`  + ${now}`);
        else if (d.schedule !== j.schedule || (d.what !== undefined && d.what !== jobWhat(j))) lines.push(`  ~ ${now} (was ${d.schedule}: ${d.what ?? "?"})`);
    }
    for (const d of deployed) if (!desired.some((j) => j.name === d.name)) lines.push(`  - ${d.name} (${d.schedule}): ${d.what ?? ""}`.trimEnd());
    return lines.length ? ["Scheduler (UTC):", ...lines] : [];
}

/** The rows `scheduler` prints: declared jobs with their last run and next time. Pure. */
export function jobRows(jobs: SchedulerJob[], runs: JobRun[], now: Date): JobRow[] {
    return jobs.map((j) => ({
        name: j.name,
        schedule: j.schedule,
        runs: jobWhat(j),
        lastRun: newest(runs.filter((r) => r.job === j.name && r.state === "exited")),
        running: newest(runs.filter((r) => r.job === j.name && r.state !== "exited")),
        next: nextRun(parseCron(j.schedule), now)?.toISOString() ?? null,
    }));
}

const newest = (runs: JobRun[]) => runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt))[0] ?? null;

/** `last run 2026-11-30T16:10:00Z: exit 0; running since ...`, or `no run yet`. Pure. */
export function lastRunText(row: Pick<JobRow, "lastRun" | "running">): string {
    const at = (iso: string) => iso.replace(/\.\d+Z$/, "Z");
    const parts = [
        row.lastRun ? `last run ${at(row.lastRun.startedAt)}: exit ${row.lastRun.exitCode}` : "no run yet",
        ...(row.running ? [`running since ${at(row.running.startedAt)}`] : []),
    ];
    return parts.join("; ");
}

/** The runs Docker holds for an app's stack (the last one of each job, and any still running). */
export async function jobRuns(docker: Docker, app: string, stack: string): Promise<JobRun[]> {
    const labels = { ...ownerLabels(app, stack), [LABEL.role]: SCHEDULER_JOB_ROLE };
    const list = await docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
    const runs: JobRun[] = [];
    for (const c of list) {
        const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
        if (!info) continue;
        const state = info.State.Running ? "running" : info.State.Status === "created" ? "created" : "exited";
        runs.push({
            job: jobOfDyno(c.Labels[LABEL.dyno] ?? ""),
            container: info.Name.replace(/^\//, ""),
            state,
            startedAt: info.State.StartedAt,
            ...(state === "exited" ? { finishedAt: info.State.FinishedAt, exitCode: info.State.ExitCode } : {}),
        });
    }
    return runs;
}

/** The scheduler container's state: `running`, Docker's word, or `none`. */
export async function schedulerState(docker: Docker, app: string, stack: string): Promise<string> {
    const labels = { ...ownerLabels(app, stack), [LABEL.role]: SCHEDULER_ROLE };
    const [c] = await docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
    return c ? c.State : "none";
}

/** The jobs the stack's last deployment runs, from the Scheduler resource in its state. */
export async function deployedJobs(argv: Pick<GlobalOptions, "cwd" | "stack">): Promise<DeployedJob[]> {
    const [scheduler] = await readDeployedResources({ projectDir: projectDir(argv), stack: argv.stack }, SCHEDULER_TYPE);
    const jobs = scheduler?.outputs.jobs;
    return Array.isArray(jobs) ? (jobs as DeployedJob[]).map(({ name, schedule, what }) => ({ name, schedule, what })) : [];
}
