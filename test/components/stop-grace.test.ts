import assert from "node:assert/strict";
import { test } from "node:test";
import { DynoformInputError } from "../../components/errors";
import { graceSeconds, stopGraceByType, stopGraceProblem } from "../../components/stop-grace";

test("graceSeconds: whole seconds from 0 to 3600; a stack file's \"5\" reads as 5", () => {
    assert.deepEqual([0, 1, "5", " 20 ", 3600].map(graceSeconds), [0, 1, 5, 20, 3600]);
    for (const bad of [-1, 1.5, 3601, "5s", "", null, true, {}, []]) assert.equal(graceSeconds(bad), undefined, JSON.stringify(bad));
});

test("stopGraceByType: 30 s for every type by default, one number for all, or a map by type", () => {
    assert.deepEqual(stopGraceByType(undefined, ["web", "worker"]), { web: 30, worker: 30 });
    assert.deepEqual(stopGraceByType(10, ["web", "worker"]), { web: 10, worker: 10 });
    assert.deepEqual(stopGraceByType({ worker: "120", web: 0 }, ["web", "worker", "clock"]), { web: 0, worker: 120, clock: 30 });
});

test("stopGraceByType: a bad value or a type the Procfile lacks names the field and the file", () => {
    const fails = (raw: unknown, message: RegExp) =>
        assert.throws(() => stopGraceByType(raw, ["web", "worker"], "stacks/Pulumi.dev.yaml"), (e: Error) => e instanceof DynoformInputError && message.test(e.message));
    fails({ worker: "soon" }, /^stacks\/Pulumi\.dev\.yaml: `stopGraceSeconds\.worker`: expected a whole number of seconds from 0 to 3600, got "soon"$/);
    fails({ worker: 4000 }, /`stopGraceSeconds\.worker`: expected a whole number of seconds from 0 to 3600, got 4000/);
    fails({ clock: 5 }, /^stacks\/Pulumi\.dev\.yaml: `stopGraceSeconds\.clock`: process type "clock" is not in the Procfile; Procfile types are web, worker$/);
    fails(-3, /`stopGraceSeconds`: expected a whole number of seconds from 0 to 3600, got -3 \(or a map of process type to seconds\)/);
});

test("stopGraceProblem: what the stack-file reader reports below `dynoform:stopGraceSeconds`", () => {
    assert.equal(stopGraceProblem({ web: 5, worker: "20" }), undefined);
    assert.deepEqual(stopGraceProblem({ web: 5, worker: "1m" }), { at: ["worker"], reason: 'expected a whole number of seconds from 0 to 3600, got "1m"' });
    assert.match(stopGraceProblem(20)!.reason, /expected a map of process type to seconds, e\.g\. \{ worker: 120 \}, got 20/);
});
