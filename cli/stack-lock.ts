import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { dynoformHome } from "../toolchain/paths";
import { processRunning } from "../toolchain/processes";

/** Who holds a stack's lock: written into the lock file by the holder. */
export interface LockHolder {
    pid: number;
    /** The process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22): tells a reused pid apart. */
    start: string;
    /** The command line, `config:set KA=1 --stack dev`. */
    command: string;
    /** When the lock was taken (ISO time). */
    since: string;
}

/** The commands that change a stack (its file, state or containers): they take its lock. Read-only ones do not. */
export const LOCKING_COMMANDS = new Set([
    "up",
    "refresh",
    "destroy",
    "config:set",
    "config:unset",
    "ps:scale",
    "ps:resize",
    "ps:restart",
    "ps:stop",
    "addons:create",
    "addons:destroy",
    "promote",
    "rollback",
    "pg:backups:capture",
    "pg:backups:restore",
    "domains:add",
    "domains:remove",
    "certs:add",
    "certs:renew",
    "maintenance:on",
    "maintenance:off",
    "pg:backups:schedule",
    "pg:backups:unschedule",
    "scheduler:add",
    "scheduler:remove",
]);

/** Seconds a command waits for another command's lock on the same stack (`--lock-timeout`, DYNOFORM_LOCK_TIMEOUT). */
export const DEFAULT_LOCK_TIMEOUT_S = 600;

const POLL_MS = 200;

/** A process's start time, from /proc; "" where there is no /proc. */
export function processStart(pid: number): string {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "";
    } catch {
        return "";
    }
}

/** Whether the holder is gone: its pid is not running, or runs a process started at another time. */
export function holderGone(h: LockHolder): boolean {
    if (!Number.isInteger(h.pid) || h.pid <= 0 || !processRunning(h.pid)) return true;
    const start = processStart(h.pid);
    return Boolean(start && h.start && start !== h.start);
}

/** `pid 1234 (\`dynoform config:set KA=1\`) since 12:01:02`. Pure. */
export function describeHolder(h: LockHolder): string {
    return `pid ${h.pid} (\`dynoform ${h.command}\`) since ${h.since.replace(/^.*T(\d\d:\d\d:\d\d).*$/, "$1")} UTC`;
}

/**
 * The lock file of one stack of one project: under DYNOFORM_HOME (never in the repository), named
 * by the stack and a hash of its stack file's path, so two projects' `dev` stacks do not share it.
 */
export function lockFile(projectDir: string, stack: string): string {
    const hash = crypto.createHash("sha256").update(path.join(path.resolve(projectDir), "stacks", stack)).digest("hex").slice(0, 16);
    return path.join(dynoformHome(), "locks", `${stack}-${hash}.lock`);
}

function readHolder(file: string): { text: string; holder?: LockHolder } | undefined {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return undefined; // released meanwhile
    }
    try {
        return { text, holder: JSON.parse(text) as LockHolder };
    } catch {
        return { text }; // being written, or torn: judged again on the next poll
    }
}

/**
 * Removes a dead holder's lock, unless another process replaced it meanwhile: the file is moved
 * aside, and put back (without overwriting) when what was moved is not what was judged stale.
 */
function takeOver(file: string, staleText: string): void {
    const aside = `${file}.stale-${process.pid}`;
    try {
        fs.renameSync(file, aside);
    } catch {
        return;
    }
    if (fs.readFileSync(aside, "utf8") === staleText) {
        fs.rmSync(aside, { force: true });
        return;
    }
    try {
        fs.linkSync(aside, file);
    } catch {
        // Someone took the lock after ours was moved: theirs stands.
    }
    fs.rmSync(aside, { force: true });
}

/** A lock this process holds, with a count so a nested take (edit, then deploy) is one lock. */
const held = new Map<string, number>();

/** How many stack locks this process holds: a command holding one is changing a stack. */
export function heldLocks(): number {
    return held.size;
}

/**
 * Takes the stack's lock, waiting for another command that holds it (one line says for whom)
 * up to `timeoutS`; a dead holder's lock is taken over. Returns the release function. The lock
 * is an O_EXCL file holding the pid, the process start time, the command and the time.
 */
export async function acquireStackLock(
    projectDir: string,
    stack: string,
    command: string,
    opts: { timeoutS: number; say: (line: string) => void },
): Promise<() => void> {
    const file = lockFile(projectDir, stack);
    const release = () => {
        const n = (held.get(file) ?? 1) - 1;
        if (n > 0) return void held.set(file, n);
        held.delete(file);
        const mine = readHolder(file)?.holder;
        if (mine?.pid === process.pid) fs.rmSync(file, { force: true });
    };
    if (held.has(file)) {
        held.set(file, held.get(file)! + 1);
        return release;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const me: LockHolder = { pid: process.pid, start: processStart(process.pid), command, since: new Date().toISOString() };
    const deadline = Date.now() + opts.timeoutS * 1000;
    let waitingFor: string | undefined;
    for (;;) {
        try {
            const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
            fs.writeSync(fd, JSON.stringify({ ...me, since: new Date().toISOString() }));
            fs.closeSync(fd);
            held.set(file, 1);
            process.once("exit", () => held.has(file) && readHolder(file)?.holder?.pid === process.pid && fs.rmSync(file, { force: true }));
            return release;
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        }
        const found = readHolder(file);
        if (found?.holder && holderGone(found.holder)) {
            opts.say(`dynoform: taking over the lock on stack ${stack} from ${describeHolder(found.holder)}: that process is gone`);
            takeOver(file, found.text);
            continue;
        }
        const who = found?.holder ? describeHolder(found.holder) : "another command";
        if (found && who !== waitingFor) opts.say(`dynoform: stack ${stack} is busy: waiting for ${who} (up to ${opts.timeoutS} s, --lock-timeout)`);
        if (found) waitingFor = who;
        if (Date.now() >= deadline) {
            throw new StackBusyError(`stack ${stack} is busy: ${who} still holds it after ${opts.timeoutS} s; nothing was changed (wait for it, or raise --lock-timeout)`);
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
    }
}

/** Another command held the stack for longer than the timeout. */
export class StackBusyError extends Error {
    override readonly name = "StackBusyError";
}
