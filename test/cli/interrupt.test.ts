import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";

// `interruptible` with real signals, in a child process standing in for the CLI: the operation
// sees the abort (what the Automation API turns into a SIGINT for `pulumi`), and the command ends
// with the shell's code for the signal. The whole CLI path, through Pulumi, is in
// test/reliability/faults.test.ts.
const INTERRUPT = path.resolve(__dirname, "..", "..", "cli", "interrupt.js");

/** Runs an operation that, once aborted, takes `cancelMs` to stop (never, when undefined). */
function operation(cancelMs: number | undefined) {
    const script = `
        const { interruptible } = require(${JSON.stringify(INTERRUPT)});
        interruptible("up", (signal) => new Promise((resolve, reject) => {
            setInterval(() => undefined, 1000);
            signal.addEventListener("abort", () => {
                process.stdout.write("aborted\\n");
                ${cancelMs === undefined ? "" : `setTimeout(() => reject(new Error("cancelled")), ${cancelMs});`}
            });
            process.stdout.write("ready\\n");
        })).catch((err) => process.exit(err.code ?? 1));`;
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
    test(`${signal} to the CLI alone aborts the operation, which stops; exit ${code}`, async () => {
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

test("a second signal ends the CLI at once, while the operation is still stopping", async () => {
    const op = operation(undefined);
    await op.ready;
    op.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(op.child.exitCode, null, "still stopping after the first signal");
    op.child.kill("SIGTERM");
    assert.equal(await op.exited, 143);
    assert.match(op.err(), /^dynoform: SIGTERM again: stopping now; the next command clears what up left in flight$/m);
});
