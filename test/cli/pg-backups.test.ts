import assert from "node:assert/strict";
import { test } from "node:test";
import { backupScript, libpqEnv, nextBackupId, parseListing, pickBackup } from "../../cli/pg-backups";

// pg:backups' pure parts (through the CLI: pg-backups.live.test.ts).

test("parseListing, nextBackupId, pickBackup, libpqEnv, scripts: pure", () => {
    const listing = "/backups/b002.dump 3000 1700000100 600\n/backups/b001.dump 2000 1700000000 600\n/backups/b003.failed 0 1700000200 600\n/backups/notes 1 1 644\n";
    const backups = parseListing(listing);
    assert.deepEqual(backups.map((b) => [b.id, b.status, b.size]), [["b001", "Completed", 2000], ["b002", "Completed", 3000], ["b003", "Failed", 0]]);
    assert.equal(backups[0].time, new Date(1700000000 * 1000).toISOString());
    assert.equal(nextBackupId([]), "b001");
    assert.equal(nextBackupId(backups), "b004");
    assert.equal(nextBackupId([{ id: "b999" }]), "b1000");
    assert.equal(pickBackup(backups, undefined, "x").id, "b002");
    assert.throws(() => pickBackup(backups, "b003", "x"), /unknown backup id `b003` on x \(backups: b001, b002\)/);
    assert.throws(() => pickBackup([], undefined, "x"), /no completed backup/);

    const env = libpqEnv("postgres://app:s%2F3cr%40t@postgres:5432/app");
    assert.deepEqual(env, { PGHOST: "postgres", PGPORT: "5432", PGUSER: "app", PGPASSWORD: "s/3cr@t", PGDATABASE: "app" });
    for (const script of [backupScript.list(), backupScript.capture("b001"), backupScript.restore("b001"), backupScript.download("b001")]) {
        assert.ok(!script.includes("s/3cr@t") && !script.includes("PGPASSWORD"), script);
    }
    assert.match(backupScript.capture("b001"), /umask 077; chmod 700 \/backups/);
    assert.match(backupScript.restore("b001"), /pg_restore --clean --if-exists/);
    assert.throws(() => backupScript.download("../etc/passwd"), /not a backup id/);
});
