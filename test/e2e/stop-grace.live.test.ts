import assert from "node:assert/strict";
import * as fs from "fs";
import type { TestContext } from "node:test";
import { LABEL } from "../../infra/docker/labels";
import { CliResult, deployOnce, TINY_APP, usageLine } from "../support/cli";
import { DockerEvent, recordDockerEvents } from "../support/docker";
import { testLive } from "../support/engines";
import { containersWith } from "../support/harness";

// Each process type's grace period between SIGTERM and SIGKILL (`dynoform:stopGraceSeconds`),
// through the real CLI and Docker, on a rollout, a scale-down and a destroy: `short` ignores
// SIGTERM and has 1 s, so Docker kills it; `long` needs 3 s to finish its work on SIGTERM and has
// 20 s, so it exits 0 by itself. One grace for every type could not give both.
const GRACE = { short: 1, long: 20 };
const app = deployOnce("grace", {
    files: {
        ...TINY_APP,
        Procfile: "web: node server.js\nshort: sh short.sh\nlong: sh long.sh\n",
        "short.sh": "trap 'echo short: SIGTERM ignored' TERM\necho short up\nwhile true; do sleep 1; done\n",
        "long.sh": "trap 'echo long: SIGTERM, finishing; sleep 3; echo long: done; exit 0' TERM\necho long up\nwhile true; do sleep 1; done\n",
    },
    settings: { formation: { short: { quantity: 2 }, long: { quantity: 2 } }, stopGraceSeconds: GRACE },
});

/** How one dyno container stopped, from Docker's events: when SIGTERM came, whether SIGKILL followed, its exit code. */
interface Stop {
    type: string;
    /** `short.1` */
    name: string;
    killAfterMs?: number;
    dieAfterMs: number;
    exitCode: number;
}

/** Runs a CLI command and reports how each `short` and `long` dyno it stopped went, from Docker's events. */
async function stopsDuring(stack: string, command: () => Promise<CliResult>): Promise<Stop[]> {
    const recorder = await recordDockerEvents({ [LABEL.stack]: stack });
    const r = await command();
    const events = await recorder.stop();
    assert.equal(r.code, 0, r.stderr);
    const byContainer = new Map<string, DockerEvent[]>();
    for (const e of events) byContainer.set(e.Actor.ID, [...(byContainer.get(e.Actor.ID) ?? []), e]);
    const stops: Stop[] = [];
    for (const list of byContainer.values()) {
        const type = list[0].Actor.Attributes[LABEL.processType];
        const term = list.find((e) => e.Action === "kill" && e.Actor.Attributes.signal === "15");
        const die = list.find((e) => e.Action === "die");
        if (!(type in GRACE) || !term || !die) continue;
        const kill = list.find((e) => e.Action === "kill" && e.Actor.Attributes.signal === "9");
        const ms = (e: DockerEvent) => Math.round((e.timeNano - term.timeNano) / 1e6);
        stops.push({ type, name: list[0].Actor.Attributes[LABEL.dyno], killAfterMs: kill && ms(kill), dieAfterMs: ms(die), exitCode: Number(die.Actor.Attributes.exitCode) });
    }
    return stops.sort((a, b) => a.name.localeCompare(b.name));
}

/** `short` killed about its 1 s after SIGTERM (exit 137); `long` finished its 3 s of work and exited 0, never killed. */
function assertGraces(t: TestContext, stops: Stop[], expected: string[]): void {
    const shown = JSON.stringify(stops);
    t.diagnostic(shown);
    assert.deepEqual(stops.map((s) => s.name), expected, shown);
    for (const s of stops) {
        if (s.type === "short") {
            assert.equal(s.exitCode, 137, shown);
            assert.ok(s.killAfterMs !== undefined && s.killAfterMs >= 900 && s.killAfterMs < 10_000, `short killed after its 1 s grace: ${shown}`);
        } else {
            assert.equal(s.exitCode, 0, shown);
            assert.equal(s.killAfterMs, undefined, `long never killed: ${shown}`);
            // Its 3 s of work, measured between two Docker events whose times the engine stamps after
            // the signal and the exit (a CI run saw 2986 ms): a kill on SIGTERM would be ~50 ms.
            assert.ok(s.dieAfterMs >= 2800 && s.dieAfterMs < GRACE.long * 1000, `long finished its work within its 20 s: ${shown}`);
        }
    }
}

testLive("a bad stopGraceSeconds is one line naming the field and the stack file; nothing changes", async () => {
    const { project, stack } = await app.deployed();
    const before = (await containersWith({ [LABEL.stack]: stack })).map((c) => c.Id).sort();
    const file = `${project.dir}/stacks/Pulumi.${stack}.yaml`;
    const good = project.readStack(stack);
    const bad = good.replace(/^(\s+long: )20$/m, "$1soon");
    assert.notEqual(bad, good);
    fs.writeFileSync(file, bad);
    try {
        const up = await project.cli(["up", "--yes", "--stack", stack]);
        assert.match(usageLine(up), new RegExp(`Pulumi\\.${stack}\\.yaml:\\d+: \`dynoform:stopGraceSeconds\\.long\`: expected a whole number of seconds from 0 to 3600, got "soon"$`));
        assert.equal(project.readStack(stack), bad, "the stack file is as the user left it");
        assert.deepEqual((await containersWith({ [LABEL.stack]: stack })).map((c) => c.Id).sort(), before, "no container changed");
    } finally {
        fs.writeFileSync(file, good);
    }
});

testLive("a rollout stops each type's old dynos with that type's grace period", async (t) => {
    const { project, stack } = await app.deployed();
    const stops = await stopsDuring(stack, () => project.cli(["config:set", "ROLL=1", "--stack", stack]));
    assertGraces(t, stops, ["long.1", "long.2", "short.1", "short.2"]);
});

testLive("a scale-down, then a destroy, stop each type's dynos with that type's grace period", async (t) => {
    const { project, stack } = await app.deployed();
    assertGraces(t, await stopsDuring(stack, () => project.cli(["ps:scale", "short=1", "long=1", "--stack", stack])), ["long.2", "short.2"]);
    assertGraces(t, await stopsDuring(stack, () => project.cli(["destroy", "--confirm", "tiny", "--stack", stack])), ["long.1", "short.1"]);
});
