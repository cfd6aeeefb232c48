import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";

// `interruptible` with real signals, in a child process standing in for the CLI, and a fake
// operation standing in for Pulumi: one that only learns of the signal through the abort (a
// signal sent to the CLI alone), or one that gets it itself and says "^C received" (a terminal's
// Ctrl-C or a signal to the process group), which must then not be signalled a second time
// (Pulumi terminates at once on its second SIGINT). The whole path through Pulumi is in
// test/reliability/faults.test.ts.
const INTERRUPT = path.resolve(__dirname, "..", "..", "cli", "interrupt.js");

/**
 * Runs an operation that, once aborted, takes `cancelMs` to stop (never, when undefined). With
 * `seesSignal`, it gets the signal itself, reports it as Pulumi does, and stops 1.5 s later.
 */
function operation(cancelMs: number | undefined, seesSignal = false, failsWhileStopping = false, finishesAfterMs?: number) {
    const script = `
        const { interruptible } = require(${JSON.stringify(INTERRUPT)});
        interruptible("up", (i) => new Promise((resolve, reject) => {
            setInterval(() => undefined, 1000);
            const onEvent = i.onEvent();
            ${seesSignal ? `process.once("SIGINT", () => { onEvent({ stdoutEvent: { message: "^C received; cancelling. If you would like to terminate immediately, press ^C again.\\n" } }); setTimeout(() => reject(new Error("cancelled")), 1500); });` : ""}
            i.signal.addEventListener("abort", () => {
                process.stdout.write("aborted\\n");
                ${failsWhileStopping ? `Promise.reject(new Error("Resource monitor is terminating"));` : ""}
                ${cancelMs === undefined ? "" : `setTimeout(() => reject(new Error("cancelled")), ${cancelMs});`}
            });
            ${finishesAfterMs === undefined ? "" : `process.once("SIGINT", () => setTimeout(() => resolve("done"), ${finishesAfterMs}));`}
            process.stdout.write("ready\\n");
        })).then(() => process.exit(0), (err) => process.exit(err.code ?? 1));`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => (err += c));
    const ready = new Promise<void>((resolve) => child.stdout.on("data", () => out.includes("ready") && resolve()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    return { child, ready, exited, out: () => out, err: () => err };
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    test(`${signal} to the CLI alone is passed on to the operation, which stops; exit ${code}`, async () => {
        const op = operation(200);
        await op.ready;
        op.child.kill(signal);
        assert.equal(await op.exited, code, op.err());
        assert.equal(op.out(), "ready\naborted\n", "the operation saw the abort");
        assert.deepEqual(op.err().trim().split("\n"), [
            `dynoform: ${signal}: stopping up once the operations in flight finish (send it again to stop at once)`,
            `dynoform: up stopped by ${signal}; what it finished is in the stack's state (\`dynoform up\` continues from there)`,
        ]);
    });
}

test("a SIGINT Pulumi got itself (\"^C received\") is not passed on a second time", async () => {
    const op = operation(200, true);
    await op.ready;
    op.child.kill("SIGINT"); // as the process group gets it: the CLI and its Pulumi alike
    assert.equal(await op.exited, 130, op.err());
    assert.equal(op.out(), "ready\n", "no abort: Pulumi had the signal already");
    assert.match(op.err(), /^dynoform: up stopped by SIGINT;/m);
});

test("a second signal ends the CLI at once, while the operation is still stopping", async () => {
    const op = operation(undefined);
    await op.ready;
    op.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1300));
    assert.equal(op.out(), "ready\naborted\n");
    assert.equal(op.child.exitCode, null, "still stopping after the first signal");
    op.child.kill("SIGTERM");
    assert.equal(await op.exited, 143);
    assert.match(op.err(), /^dynoform: SIGTERM again: stopping now; the next command clears what up left in flight$/m);
});

test("the program's registrations failing while Pulumi stops on a signal are the signal's doing: exit 130, not a program error", async () => {
    const op = operation(200, false, true);
    await op.ready;
    op.child.kill("SIGINT");
    assert.equal(await op.exited, 130, op.err());
    assert.doesNotMatch(op.err(), /Resource monitor is terminating/);
    assert.match(op.err(), /^dynoform: up stopped by SIGINT;/m);
});

test("an operation that finishes before the signal reaches it still ends the command as interrupted: exit 130, all of it saved", async () => {
    const op = operation(undefined, false, false, 100);
    await op.ready;
    op.child.kill("SIGINT");
    assert.equal(await op.exited, 130, op.err());
    assert.equal(op.out(), "ready\n", "finished before the abort was passed on");
    assert.deepEqual(op.err().trim().split("\n"), [
        "dynoform: SIGINT: stopping up once the operations in flight finish (send it again to stop at once)",
        "dynoform: up stopped by SIGINT; what it finished is in the stack's state (all of its work: it finished before it could stop)",
    ]);
});

test("a resource's failure stops Pulumi: the program's registrations then fail ('Resource monitor is terminating'), and the command fails with the resource's error", async () => {
    const script = `
        const { interruptible } = require(${JSON.stringify(INTERRUPT)});
        interruptible("up", () => new Promise((_, reject) => {
            Promise.reject(new Error("Resource monitor is terminating"));
            setTimeout(() => reject(new Error("release v3 failed and was rolled back: dyno worker.1 exited with code 4")), 200);
        })).then(() => process.exit(0), (err) => { process.stdout.write(err.message + "\\n"); process.exit(1); });`;
    const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 1);
    assert.equal(out, "release v3 failed and was rolled back: dyno worker.1 exited with code 4\n");
});
