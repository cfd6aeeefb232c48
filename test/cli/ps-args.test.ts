import assert from "node:assert/strict";
import { test } from "node:test";
import { parseScaleArg } from "../../cli/commands/ps-scale";
import { typeAssignment } from "../../cli/edit";
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
