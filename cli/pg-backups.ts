import * as fs from "fs";
import * as path from "path";
import { Writable } from "stream";
import { ADDON_KINDS } from "../components/addon-plans";
import { connectDocker } from "../infra/docker/client";
import { libpqEnvOf } from "../infra/docker/scheduler-loop";
import { BACKUPS_DIR, ensureBackupsVolume, findBackupsVolume, runBackupJob } from "../infra/docker/backups";
import { ensureDockerEngine } from "../toolchain/docker-engine";
import { silentReporter } from "../toolchain/report";
import { AddonView, attachmentUrlOf, listAddons } from "./addons";
import { UsageError } from "./errors";
import { GlobalOptions } from "./options";
import { readAppOutputs } from "./stack-outputs";

// Heroku's `pg:backups`: pg_dump custom-format files on the app's backups volume, written and
// read by one-off containers of the Postgres add-on's own image. Files are 0600 in a 0700
// folder; the password reaches pg_dump through libpq's env, never its command line.

/** One backup as listed. */
export interface Backup {
    /** `b001`, `b002`, ... in the order they were taken. */
    id: string;
    /** When it finished (or started, while running), ISO 8601. */
    time: string;
    /** Bytes. */
    size: number;
    status: "Completed" | "Running" | "Failed";
    /** File mode, octal (`600`). */
    mode: string;
}

const STATUS_OF = { dump: "Completed", partial: "Running", failed: "Failed" } as const;

/** Backup ids: `b` and three or more digits. */
export const BACKUP_ID = /^b\d{3,}$/;

/**
 * Parses the helper's listing, one `stat -c '%n %s %Y %a'` line per file
 * (`/backups/b001.dump 2048 1700000000 600`), into backups sorted by id. Other files are ignored. Pure.
 */
export function parseListing(text: string): Backup[] {
    const backups: Backup[] = [];
    for (const line of text.split("\n")) {
        const m = /^\S*\/(b\d{3,})\.(dump|partial|failed) (\d+) (\d+) ([0-7]+)$/.exec(line.trim());
        if (!m) continue;
        backups.push({
            id: m[1],
            size: Number(m[3]),
            time: new Date(Number(m[4]) * 1000).toISOString(),
            status: STATUS_OF[m[2] as keyof typeof STATUS_OF],
            mode: m[5],
        });
    }
    return backups.sort((a, b) => backupNumber(a.id) - backupNumber(b.id));
}

function backupNumber(id: string): number {
    return Number(id.slice(1));
}

/** The id the next capture gets: one past the highest taken (failed ones included), `b001` first. Pure. */
export function nextBackupId(backups: Pick<Backup, "id">[]): string {
    const n = Math.max(0, ...backups.map((b) => backupNumber(b.id))) + 1;
    return `b${String(n).padStart(3, "0")}`;
}

/**
 * The completed backup `id` names, or the latest completed one when `id` is undefined. An
 * unknown id, or no backup at all, is a usage error naming what there is. Pure.
 */
export function pickBackup(backups: Backup[], id: string | undefined, where: string): Backup {
    const done = backups.filter((b) => b.status === "Completed");
    if (id === undefined) {
        const last = done[done.length - 1];
        if (!last) throw new UsageError(`no completed backup on ${where}: take one with \`dynoform pg:backups:capture\``);
        return last;
    }
    const b = done.find((x) => x.id === id);
    if (!b) {
        const known = done.map((x) => x.id).join(", ") || "none";
        throw new UsageError(`unknown backup id \`${id}\` on ${where} (backups: ${known})`);
    }
    return b;
}

/** `2048` -> `2.0 kB`. Pure. */
export function formatSize(bytes: number): string {
    if (bytes < 1000) return `${bytes} B`;
    const units = ["kB", "MB", "GB", "TB"];
    let v = bytes / 1000;
    let i = 0;
    while (v >= 1000 && i < units.length - 1) {
        v /= 1000;
        i++;
    }
    return `${v.toFixed(1)} ${units[i]}`;
}

/** libpq's env for a `postgres://user:password@host:port/db` URL: the password stays out of any command line. Pure. */
export const libpqEnv = libpqEnvOf;

/** The helper scripts; ids are checked against {@link BACKUP_ID} first, and no script holds a secret. Pure. */
export const backupScript = {
    list: () => `for f in ${BACKUPS_DIR}/b*; do [ -e "$f" ] && stat -c '%n %s %Y %a' "$f"; done; true`,
    capture: (id: string) => {
        const file = `${BACKUPS_DIR}/${checkedId(id)}`;
        return (
            `umask 077; chmod 700 ${BACKUPS_DIR} && ` +
            `if pg_dump -Fc --no-password -f ${file}.partial; then mv ${file}.partial ${file}.dump; ` +
            `else rm -f ${file}.partial; : > ${file}.failed; exit 1; fi`
        );
    },
    restore: (id: string) => `pg_restore --clean --if-exists --no-owner --single-transaction --no-password -d "$PGDATABASE" ${BACKUPS_DIR}/${checkedId(id)}.dump`,
    download: (id: string) => `cat ${BACKUPS_DIR}/${checkedId(id)}.dump`,
};

function checkedId(id: string): string {
    if (!BACKUP_ID.test(id)) throw new UsageError(`\`${id}\` is not a backup id (b001, b002, ...)`);
    return id;
}

/** What every backup command works on: the stack's Postgres add-on, reached as `run` and `addons:info` reach it. */
export interface BackupTarget {
    app: string;
    stack: string;
    addon: AddonView;
    /** The add-on container's image ID and network. */
    image: string;
    network: string;
    /** libpq env from the add-on's attachment URL (secret). */
    env: Record<string, string>;
    /** `hello (dev)`, for messages. */
    where: string;
}

/** The stack's (first) Postgres add-on, running; a stack without one is a usage error. */
export async function backupTarget(argv: Pick<GlobalOptions, "cwd" | "stack">): Promise<BackupTarget> {
    const { app, addons } = await listAddons(argv);
    const where = `${app} (${argv.stack})`;
    const addon = addons.find((a) => ADDON_KINDS[a.plan].backups);
    if (!addon) {
        throw new UsageError(`${where} has no Postgres add-on (add-ons: ${addons.map((a) => a.name).join(", ") || "none"}): add one with \`dynoform addons:create postgres\``);
    }
    await ensureDockerEngine(silentReporter);
    if (!addon.container || !addon.state.startsWith("running")) {
        throw new Error(`the ${addon.name} add-on of ${where} is not running (${addon.state}): run \`dynoform up --stack ${argv.stack}\``);
    }
    const url = attachmentUrlOf(await readAppOutputs(argv), addon);
    if (!url) throw new Error(`the ${argv.stack} stack's outputs do not hold ${addon.varName} yet: run \`dynoform up --stack ${argv.stack}\` once`);
    const info = await connectDocker().getContainer(addon.container).inspect();
    const network = Object.keys(info.NetworkSettings.Networks ?? {})[0];
    return { app, stack: argv.stack, addon, image: info.Image, network, env: libpqEnv(url), where };
}

async function job(t: BackupTarget, volume: string, script: string, stdout?: Writable) {
    return runBackupJob({ docker: connectDocker(), app: t.app, stack: t.stack, image: t.image, network: t.network, volume, script, env: t.env, stdout });
}

/** The backups of the target's app and stack (none before the first capture). */
export async function listBackups(t: BackupTarget): Promise<Backup[]> {
    const volume = await findBackupsVolume(connectDocker(), t.app, t.stack);
    if (!volume) return [];
    const r = await job(t, volume, backupScript.list());
    if (r.exitCode !== 0) throw new Error(`listing the backups of ${t.where} failed: ${r.stderr.trim()}`);
    return parseListing(r.stdout);
}

/** Takes a backup with pg_dump -Fc; resolves to it as listed. */
export async function captureBackup(t: BackupTarget): Promise<Backup> {
    const volume = await ensureBackupsVolume(connectDocker(), t.app, t.stack);
    const id = nextBackupId(await listBackups(t));
    const r = await job(t, volume, backupScript.capture(id));
    if (r.exitCode !== 0) throw new Error(`backup ${id} of ${t.addon.name} on ${t.where} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
    const b = (await listBackups(t)).find((x) => x.id === id && x.status === "Completed");
    if (!b) throw new Error(`backup ${id} of ${t.where} finished but is not on the backups volume`);
    return b;
}

/** Restores a completed backup into the add-on with pg_restore --clean --if-exists, in one transaction. */
export async function restoreBackup(t: BackupTarget, b: Backup): Promise<void> {
    const volume = await ensureBackupsVolume(connectDocker(), t.app, t.stack);
    const r = await job(t, volume, backupScript.restore(b.id));
    if (r.exitCode !== 0) throw new Error(`restoring ${b.id} into ${t.addon.name} on ${t.where} failed (exit ${r.exitCode}); the transaction was rolled back: ${r.stderr.trim()}`);
}

/** The folder a download goes to must exist: checked before anything runs. */
export function checkDownloadTarget(file: string): string {
    const full = path.resolve(file);
    const dir = path.dirname(full);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`-o ${file}: folder ${dir} does not exist`);
    if (fs.existsSync(full) && fs.statSync(full).isDirectory()) throw new UsageError(`-o ${file} is a folder: give a file name`);
    return full;
}

/** Copies a completed backup to `file` (mode 0600); written to a temp name first, so a failure leaves no partial file. */
export async function downloadBackup(t: BackupTarget, b: Backup, file: string): Promise<number> {
    const volume = await ensureBackupsVolume(connectDocker(), t.app, t.stack);
    const tmp = `${file}.${process.pid}.part`;
    const out = fs.createWriteStream(tmp, { mode: 0o600 });
    const closed = new Promise<void>((resolve, reject) => {
        out.on("close", resolve);
        out.on("error", reject);
    });
    try {
        const r = await job(t, volume, backupScript.download(b.id), out);
        out.end();
        await closed;
        if (r.exitCode !== 0) throw new Error(`downloading ${b.id} of ${t.where} failed: ${r.stderr.trim()}`);
        fs.renameSync(tmp, file);
        return fs.statSync(file).size;
    } finally {
        out.destroy();
        fs.rmSync(tmp, { force: true });
    }
}

/**
 * The latest completed backup of a Postgres add-on, for `addons:info`; undefined when there is
 * none, or no backups volume, or the add-on is not running (the listing needs its image and network).
 */
export async function lastBackupOf(argv: Pick<GlobalOptions, "cwd" | "stack">, addon: AddonView): Promise<Backup | undefined> {
    if (!addon.container || !addon.state.startsWith("running")) return undefined;
    const target = await backupTarget(argv);
    if (target.addon.name !== addon.name) return undefined;
    const done = (await listBackups(target)).filter((b) => b.status === "Completed");
    return done[done.length - 1];
}
