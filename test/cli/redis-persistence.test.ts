import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRedisPersistence, persistenceText } from "../../cli/redis-persistence";

// The pure part of `addons:info` on a Redis add-on: redis-cli's CONFIG GET (key and value on
// alternate lines) and INFO persistence (`key:value`, CRLF) as one line.

test("parseRedisPersistence: AOF, its fsync, the RDB rules, the folder and the last save", () => {
    const config = "appendonly\nyes\nappendfsync\neverysec\nsave\n3600 1 300 100 60 10000\ndir\n/data\n";
    const info = "# Persistence\r\nloading:0\r\nrdb_last_save_time:1764518400\r\nrdb_last_bgsave_status:ok\r\naof_enabled:1\r\naof_last_write_status:ok\r\n";
    const p = parseRedisPersistence(config, info);
    assert.deepEqual(p, {
        aof: true,
        appendfsync: "everysec",
        save: "3600 1 300 100 60 10000",
        dir: "/data",
        lastSave: "2025-11-30T16:00:00.000Z",
        lastBgsaveStatus: "ok",
        aofLastWriteStatus: "ok",
    });
    assert.equal(persistenceText(p), "AOF on (fsync everysec); RDB snapshots at 3600 1 300 100 60 10000; in /data");
    assert.equal(persistenceText(parseRedisPersistence("appendonly\nno\nsave\n\ndir\n/var/lib/redis\n", "")), "AOF off; RDB snapshots off; in /var/lib/redis");
});
