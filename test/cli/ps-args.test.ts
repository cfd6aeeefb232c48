import assert from "node:assert/strict";
import { test } from "node:test";
import { parseScaleArg, scaledQuantity } from "../../cli/commands/ps-scale";
import { checkRestartTarget } from "../../cli/commands/ps-restart";
import { DYNO_SIZES } from "../../components/dyno-size";
import { distinctTypes, typeAssignment } from "../../cli/edit";
import { UsageError } from "../../cli/errors";

// The `TYPE=...` arguments of ps:scale and ps:resize, parsed by one function.

test("typeAssignment: TYPE=VALUE splits at the first =; anything else names the command and the form", () => {
    assert.deepEqual(typeAssignment("ps:resize", "web=standard-2x", "TYPE=SIZE"), { type: "web", value: "standard-2x" });
    assert.deepEqual(typeAssignment("ps:resize", "web=a=b", "TYPE=SIZE"), { type: "web", value: "a=b" });
    for (const bad of ["web", "=3", "we b=1", ""]) {
        assert.throws(() => typeAssignment("ps:resize", bad, "TYPE=SIZE"), (e: Error) => e instanceof UsageError && e.message === `ps:resize: \`${bad}\` is not TYPE=SIZE`);
    }
});

test("parseScaleArg: quantity and optional size, each checked under its formation field", () => {
    assert.deepEqual(parseScaleArg("web=3"), { type: "web", quantity: 3, size: undefined });
    assert.deepEqual(parseScaleArg("worker=2:standard-2x"), { type: "worker", quantity: 2, size: "standard-2x" });
    const usage = (arg: string, message: RegExp) => assert.throws(() => parseScaleArg(arg), (e: Error) => e instanceof UsageError && message.test(e.message));
    usage("web", /^ps:scale: `web` is not TYPE=QUANTITY\[:SIZE\]/);
    usage("web=abc", /^`formation\.web\.quantity`: quantity "abc" is not valid/);
    usage("web=-1", /^`formation\.web\.quantity`/);
    usage("web=1:tiny", /^`formation\.web\.size`: unknown dyno size "tiny"/);
    usage("web=1:", /^`formation\.web\.size`: unknown dyno size ""/);
});

test("parseScaleArg: web+N and web-N scale by a difference (Heroku's syntax); web=+1 says to drop the =", () => {
    assert.deepEqual(parseScaleArg("web+1"), { type: "web", delta: 1, size: undefined });
    assert.deepEqual(parseScaleArg("my-worker-2:standard-2x"), { type: "my-worker", delta: -2, size: "standard-2x" });
    const usage = (arg: string, message: string) => assert.throws(() => parseScaleArg(arg), (e: Error) => e instanceof UsageError && e.message === message);
    usage("web=+1", '`formation.web.quantity`: quantity "+1" is not valid; scale by a difference with web+1 (no =)');
    usage("web+x", '`formation.web.quantity`: difference "+x" is not valid; use a whole number (e.g. web+1)');
    usage("web+", '`formation.web.quantity`: difference "+" is not valid; use a whole number (e.g. web+1)');
});

test("scaledQuantity: a difference applies to the deployed quantity and must stay within 0 to 100", () => {
    const before = { plan: [{ type: "web", command: "node s.js", quantity: 2, size: DYNO_SIZES["standard-1x"] }] };
    assert.equal(scaledQuantity({ type: "web", delta: 1 }, before), 3);
    assert.equal(scaledQuantity({ type: "web", delta: -2 }, before), 0);
    assert.equal(scaledQuantity({ type: "web", quantity: 7 }, before), 7);
    assert.throws(() => scaledQuantity({ type: "web", delta: -3 }, before), (e: Error) => e instanceof UsageError && e.message === "`formation.web.quantity`: web runs 2; -3 would make -1, outside 0 to 100");
    assert.throws(() => scaledQuantity({ type: "web", delta: 99 }, before), (e: Error) => e instanceof UsageError && e.message === "`formation.web.quantity`: web runs 2; +99 would make 101, outside 0 to 100");
});

test("distinctTypes: a process type given twice in one command is refused, naming both arguments", () => {
    distinctTypes("ps:scale", ["web=2", "worker=1"], ["web", "worker"]);
    assert.throws(
        () => distinctTypes("ps:scale", ["web=2", "worker=1", "web=3"], ["web", "worker", "web"]),
        (e: Error) => e instanceof UsageError && e.message === "ps:scale: `web` is given 2 times (`web=2`, `web=3`); give each process type once",
    );
});

test("checkRestartTarget: a type the Procfile lacks, release, or a dyno past the formation is refused", () => {
    const def = {
        procfileFile: "app/Procfile",
        plan: [
            { type: "web", command: "node server.js", quantity: 2, size: DYNO_SIZES["standard-1x"] },
            { type: "clock", command: "node clock.js", quantity: 0, size: DYNO_SIZES["standard-1x"] },
        ],
    };
    for (const ok of ["web", "web.1", "web.2", "clock"]) checkRestartTarget(ok, def);
    const usage = (target: string, message: string) =>
        assert.throws(() => checkRestartTarget(target, def), (e: Error) => e instanceof UsageError && e.message === message);
    usage("worker", "ps:restart: `worker` is not a process type with dynos (it is not in app/Procfile); the types are web, clock");
    usage("release", "ps:restart: `release` is not a process type with dynos (release runs once per release and has no dynos); the types are web, clock");
    usage("web.3", "ps:restart: there is no dyno web.3: web runs 2 (web.1 to web.2)");
    usage("clock.1", "ps:restart: there is no dyno clock.1: clock runs 0 (none)");
});
