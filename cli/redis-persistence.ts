import { connectDocker } from "../infra/docker/client";
import { execIn } from "../infra/docker/exec";

/** How a Redis add-on keeps its data, as `addons:info` shows it. */
export interface RedisPersistence {
    /** Append-only file on, and how often it is fsynced (`everysec`). */
    aof: boolean;
    appendfsync: string;
    /** RDB snapshot rules (`3600 1 300 100 60 10000`), "" when snapshots are off. */
    save: string;
    /** The data folder (the add-on's volume is mounted there). */
    dir: string;
    /** The last RDB save (ISO) and whether the last background save and AOF write succeeded. */
    lastSave?: string;
    lastBgsaveStatus?: string;
    aofLastWriteStatus?: string;
}

/**
 * Reads `CONFIG GET appendonly appendfsync save dir` (key and value on alternate lines) and
 * `INFO persistence` (`key:value` lines). Pure.
 */
export function parseRedisPersistence(config: string, info: string): RedisPersistence {
    const lines = config.replace(/\r/g, "").split("\n");
    const cfg = new Map<string, string>();
    for (let i = 0; i + 1 < lines.length; i += 2) cfg.set(lines[i].trim(), lines[i + 1].trim());
    const inf = new Map(info.replace(/\r/g, "").split("\n").filter((l) => l.includes(":")).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()] as [string, string]));
    const lastSave = Number(inf.get("rdb_last_save_time"));
    return {
        aof: cfg.get("appendonly") === "yes",
        appendfsync: cfg.get("appendfsync") ?? "",
        save: cfg.get("save") ?? "",
        dir: cfg.get("dir") ?? "",
        ...(lastSave > 0 ? { lastSave: new Date(lastSave * 1000).toISOString() } : {}),
        ...(inf.has("rdb_last_bgsave_status") ? { lastBgsaveStatus: inf.get("rdb_last_bgsave_status") } : {}),
        ...(inf.has("aof_last_write_status") ? { aofLastWriteStatus: inf.get("aof_last_write_status") } : {}),
    };
}

/** `AOF on (fsync everysec); RDB snapshots at 3600 1 300 100 60 10000; in /data`. Pure. */
export function persistenceText(p: RedisPersistence): string {
    const aof = p.aof ? `AOF on (fsync ${p.appendfsync})` : "AOF off";
    const rdb = p.save ? `RDB snapshots at ${p.save}` : "RDB snapshots off";
    return `${aof}; ${rdb}; in ${p.dir}`;
}

/** Asks the running Redis add-on (its password from its own env, never on a command line). */
export async function redisPersistence(container: string): Promise<RedisPersistence> {
    const c = connectDocker().getContainer(container);
    const cli = (args: string) => execIn(c, ["/bin/sh", "-c", `REDISCLI_AUTH="$REDIS_PASSWORD" exec redis-cli --no-auth-warning ${args}`]);
    const config = await cli("CONFIG GET appendonly appendfsync save dir");
    const info = await cli("INFO persistence");
    if (config.exitCode !== 0 || /^(ERR|NOAUTH|WRONGPASS)/m.test(config.output)) throw new Error(`redis-cli CONFIG GET failed: ${config.output.trim()}`);
    return parseRedisPersistence(config.output, info.output);
}
