import * as crypto from "crypto";
import Docker = require("dockerode");
import { Writable } from "stream";
import { isNotFound } from "./client";
import { ContainerRole, dockerName, notOwned, ownerLabels, roleLabel } from "./labels";

// The Postgres backups volume and the helper containers that read and write it. The volume is
// made here, outside the stack's state, so `destroy` never deletes it (as add-on data is kept).

/** Where the backups volume is mounted in a helper container. */
export const BACKUPS_DIR = "/backups";

/** The `role` label of the backups volume and of its helper containers. */
export const BACKUPS_ROLE: ContainerRole = "pg-backups";

/** The labels of an app's backups volume in one stack. Pure. */
export function backupsVolumeLabels(app: string, stack: string): Record<string, string> {
    return { ...ownerLabels(app, stack), ...roleLabel(BACKUPS_ROLE) };
}

/**
 * The backups volume of `app` in `stack`, found by its labels or created (`hello.dev.pg-backups`).
 * A volume of that name owned by another app is refused, and nothing is changed.
 */
export async function ensureBackupsVolume(docker: Docker, app: string, stack: string): Promise<string> {
    const labels = backupsVolumeLabels(app, stack);
    const found = await findBackupsVolume(docker, app, stack);
    if (found) return found;
    const name = dockerName.backupsVolume(app, stack);
    try {
        const existing = await docker.getVolume(name).inspect();
        const why = notOwned("volume", name, existing.Labels, labels);
        if (why) throw new Error(why);
        return name;
    } catch (err) {
        if (!isNotFound(err)) throw err;
    }
    await docker.createVolume({ Name: name, Labels: labels });
    return name;
}

/** The name of the backups volume of `app` in `stack`, or undefined when there is none yet. */
export async function findBackupsVolume(docker: Docker, app: string, stack: string): Promise<string | undefined> {
    const { Volumes } = await docker.listVolumes({
        filters: { label: Object.entries(backupsVolumeLabels(app, stack)).map(([k, v]) => `${k}=${v}`) },
    });
    return Volumes?.[0]?.Name;
}

/** A helper container run from the Postgres add-on's own image. */
export interface BackupJob {
    docker: Docker;
    app: string;
    stack: string;
    /** The add-on container's image ID (its pg_dump matches its server). */
    image: string;
    /** The add-on's network, so its alias (the URL's host) resolves. */
    network: string;
    volume: string;
    /** A shell script (no secrets: it reads them from the env). */
    script: string;
    /** libpq's PG* variables, the password among them: in the container's env, never in its command. */
    env: Record<string, string>;
    /** Where stdout goes (download); collected as text when absent. */
    stdout?: Writable;
}

/** Runs `job.script` in a one-off container with the backups volume, then removes it; its exit code and output. */
export async function runBackupJob(job: BackupJob): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const container = await job.docker.createContainer({
        name: dockerName.container(job.app, job.stack, BACKUPS_ROLE, crypto.randomBytes(3).toString("hex")),
        Image: job.image,
        Entrypoint: ["/bin/sh", "-c"],
        Cmd: [job.script],
        Env: Object.entries(job.env).map(([k, v]) => `${k}=${v}`),
        AttachStdout: true,
        AttachStderr: true,
        Labels: { ...ownerLabels(job.app, job.stack), ...roleLabel(BACKUPS_ROLE) },
        HostConfig: {
            NetworkMode: job.network,
            Mounts: [{ Type: "volume", Source: job.volume, Target: BACKUPS_DIR }],
            Init: true,
            AutoRemove: false,
        },
    });
    try {
        const stream = (await container.attach({ stream: true, stdout: true, stderr: true, hijack: true })) as NodeJS.ReadableStream;
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const stdout = job.stdout ?? collect(out);
        const ended = new Promise<void>((resolve) => {
            stream.on("end", resolve);
            stream.on("close", resolve);
            stream.on("error", () => resolve());
        });
        job.docker.modem.demuxStream(stream, stdout, collect(err));
        await container.start();
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        await ended;
        return { exitCode: StatusCode, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
    } finally {
        await container.remove({ force: true }).catch(() => undefined);
    }
}

function collect(into: Buffer[]): Writable {
    return new Writable({
        write(chunk: Buffer, _enc, done) {
            into.push(chunk);
            done();
        },
    });
}

/**
 * A scheduled capture, run by the scheduler: the next id from the files on the volume (as
 * `nextBackupId` does), pg_dump -Fc as `pg:backups:capture` does, then only the newest `retain`
 * completed backups kept. No secret in it: libpq reads the password from the env. Pure.
 */
export function scheduledCaptureScript(retain: number): string {
    if (!Number.isInteger(retain) || retain < 1) throw new Error(`retain must be a whole number above 0, got ${retain}`);
    const d = BACKUPS_DIR;
    return [
        `umask 077; chmod 700 ${d} || exit 1`,
        `last=$(ls ${d} | sed -n 's/^b0*\\([0-9][0-9]*\\)\\.\\(dump\\|partial\\|failed\\)$/\\1/p' | sort -n | tail -n 1)`,
        `id=$(printf 'b%03d' $(( \${last:-0} + 1 )))`,
        `echo "capturing $id"`,
        `if pg_dump -Fc --no-password -f ${d}/$id.partial; then mv ${d}/$id.partial ${d}/$id.dump; else rm -f ${d}/$id.partial; : > ${d}/$id.failed; echo "backup $id failed"; exit 1; fi`,
        `echo "backup $id completed ($(stat -c %s ${d}/$id.dump) bytes)"`,
        `for f in $(ls ${d} | sed -n 's/^b0*\\([0-9][0-9]*\\)\\.dump$/\\1 &/p' | sort -n | head -n -${retain} | cut -d' ' -f2); do rm -f ${d}/$f && echo "removed $f (keeping ${retain})"; done`,
    ].join("\n");
}
