import assert from "node:assert/strict";
import { spawn } from "child_process";
import * as fs from "fs";
import { test } from "node:test";
import { processRunning } from "../../toolchain/processes";

// A daemon killed with SIGKILL whose parent never reaps it stays a zombie with a /proc entry:
// `kill -0` says it is there, so a pid-file check built on that keeps a new dockerd from starting.

test("processRunning: a live process yes, a zombie no, a pid that is gone no", async () => {
    assert.equal(processRunning(process.pid), true);
    // `sleep 0` ends at once; its parent execs into `sleep 5`, which never reaps it: a zombie.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 5"], { stdio: ["ignore", "pipe", "ignore"] });
    try {
        const zombie = await new Promise<number>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
        const deadline = Date.now() + 5000;
        while (!fs.readFileSync(`/proc/${zombie}/stat`, "utf8").includes(") Z") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.match(fs.readFileSync(`/proc/${zombie}/stat`, "utf8"), /\) Z/, "the child is a zombie");
        assert.doesNotThrow(() => process.kill(zombie, 0), "kill -0 still finds the zombie");
        assert.equal(processRunning(zombie), false);
        assert.equal(processRunning(parent.pid!), true);
    } finally {
        parent.kill("SIGKILL");
    }
    await new Promise((r) => parent.once("close", r));
    assert.equal(processRunning(parent.pid!), false, "reaped by this process: gone");
});
