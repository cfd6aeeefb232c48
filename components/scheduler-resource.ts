import * as pulumi from "@pulumi/pulumi";
import { backupsVolumeLabels, BACKUPS_DIR, scheduledCaptureScript } from "../infra/docker/backups";
import { dockerName } from "../infra/docker/labels";
import { Scheduler } from "../infra/docker/scheduler";
import type { LoopJob } from "../infra/docker/scheduler-loop";
import { AddOnSpec } from "./app-json";
import { dynoEnv } from "./config-vars";
import { DYNO_SIZES, DEFAULT_DYNO_SIZE } from "./dyno-size";
import { jobWhat, SchedulerJob } from "./scheduler";

/** What an App hands its scheduler. */
export interface AppSchedulerArgs {
    app: string;
    stack: string;
    jobs: SchedulerJob[];
    /** The app's add-ons: a backup job reads its add-on's URL from the var it is attached as. */
    addons: Array<AddOnSpec & { name: string; varName: string }>;
    /** The Node base image (the loop) and the Postgres one (backup runs, as `pg:backups:capture`). */
    runtimeImage: pulumi.Input<string>;
    postgresImage: pulumi.Input<string>;
    image: pulumi.Input<string>;
    config: pulumi.Input<Record<string, string>>;
    attachments: pulumi.Input<Record<string, string>>;
    network: pulumi.Input<string>;
    dockerHost?: string;
}

/** The jobs as the loop runs them: commands as given, backups as a capture script. Pure. */
export function loopJobs(a: Pick<AppSchedulerArgs, "app" | "stack" | "jobs" | "addons">, postgresImage: string): LoopJob[] {
    return a.jobs.map((j) => {
        if (!j.backup) return { name: j.name, schedule: j.schedule, what: jobWhat(j), command: j.command };
        const addon = a.addons.find((x) => x.name === j.backup!.addon);
        if (!addon) throw new Error(`scheduler job ${j.name} backs up ${j.backup.addon}, which the app does not have`);
        return {
            name: j.name,
            schedule: j.schedule,
            what: jobWhat(j),
            backup: {
                image: postgresImage,
                urlVar: addon.varName,
                volume: dockerName.backupsVolume(a.app, a.stack),
                volumeLabels: backupsVolumeLabels(a.app, a.stack),
                mountPath: BACKUPS_DIR,
                script: scheduledCaptureScript(j.backup.retain),
            },
        };
    });
}

/** The app's {@link Scheduler}, or none when it has no jobs. Runs are standard-1x one-off dynos, as on Heroku. */
export function schedulerFor(name: string, a: AppSchedulerArgs, opts: pulumi.CustomResourceOptions): Scheduler | undefined {
    if (a.jobs.length === 0) return undefined;
    const size = DYNO_SIZES[DEFAULT_DYNO_SIZE];
    return new Scheduler(name, {
        dockerHost: a.dockerHost,
        app: a.app,
        stack: a.stack,
        runtimeImage: a.runtimeImage,
        image: a.image,
        env: pulumi.all([a.config, a.attachments]).apply(([c, att]) => dynoEnv({ config: c, attachments: att, processType: "scheduler", index: 1 })),
        network: a.network,
        memoryMb: size.memoryMb,
        cpuShares: size.cpuShares,
        jobs: pulumi.output(a.postgresImage).apply((pg) => loopJobs(a, pg)),
    }, opts);
}
