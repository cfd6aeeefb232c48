import * as fs from "fs";

/** Whether `pid` is a live process: there, and not a zombie (dead, waiting for its parent to reap it). */
export function processRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EPERM") return false; // EPERM: there, but another user's
    }
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
    } catch {
        return !fs.existsSync("/proc/self/stat");
    }
}
