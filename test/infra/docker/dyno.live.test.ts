import assert from "node:assert/strict";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Stack } from "@pulumi/pulumi/automation";
import { connectDocker } from "../../../infra/docker/client";
import { Dyno, DynoArgs } from "../../../infra/docker/dyno";
import { LABEL } from "../../../infra/docker/labels";
import { Network } from "../../../infra/docker/network";
import { Volume } from "../../../infra/docker/volume";
import { eventually } from "../../support/poll";
import { containersWith, freePort, httpServerCommand, testProject, TestProject } from "../../support/harness";
import { containerLogs, engineEvents, execIn, httpGet, inspectContainer, recordDockerEvents, removeVolume, resourceState, runOnce, sleep } from "../../support/docker";
import { describeLive } from "../../support/engines";
import { filesUnder, readPresent } from "../../support/files";

// The Dyno provider on a real Docker engine, through the Pulumi engine (pure parts: dyno.test.ts).

const MIB = 1024 * 1024;
const DYNO_TYPE = "pulumi-nodejs:dynamic/docker:Dyno";
const APP = "dynotest";

let project: TestProject | undefined;

/** Common args of the dynos below. */
function dynoArgs(p: TestProject, over: Partial<DynoArgs> & Pick<DynoArgs, "processType" | "index">): DynoArgs {
    return {
        app: APP,
        stack: p.id,
        image: p.images.node,
        memoryMb: 64,
        cpuShares: 256,
        stopGraceSeconds: 2,
        ...over,
    };
}

/** The one container of a dyno, found by its labels. */
async function onlyContainer(p: TestProject, dyno: string) {
    const found = await containersWith({ [LABEL.stack]: p.id, [LABEL.dyno]: dyno });
    assert.equal(found.length, 1, `exactly one container for ${dyno} (found ${found.map((c) => c.Names[0]).join(", ")})`);
    return (await inspectContainer(found[0].Id))!;
}

// The four suites below use separate stacks and run side by side; the tests inside each run in order.
describeLive("on a real Docker engine through the Pulumi engine", { concurrency: true }, () => {
    before(async () => {
        project = await testProject("dyno");
    });
    after(async () => {
        await project?.cleanup();
        if (project) await removeVolume(`${project.id}-grace`);
    });

    describe("web dyno: create, resize in place, replace on env change", { concurrency: false }, () => {
        let stack: Stack;
        let size = { memoryMb: 128, cpuShares: 512, size: "standard-1x" };
        let greeting = "hello";
        const secretToken = `token-${Math.random().toString(36).slice(2)}`;
        let firstId = "";
        let firstStartedAt = "";

        test("create: the dyno answers on its port, with its labels and limits in docker inspect", async (t) => {
            const p = project!;
            stack = await p.stack(async () => {
                const network = new Network("web-net", { name: `${p.id}-web` });
                const web = new Dyno(
                    "web-1",
                    dynoArgs(p, {
                        processType: "web",
                        index: 1,
                        release: "v1",
                        command: httpServerCommand(),
                        env: { PORT: "5000", DYNO: "web.1", GREETING: greeting, SECRET_TOKEN: secretToken },
                        port: 5000,
                        ...size,
                        network: network.name,
                        aliases: ["web"],
                    }),
                );
                return { containerName: web.containerName, state: web.state, ip: web.ipAddress };
            }, `${p.id}-web`);

            const up = await stack.up();
            assert.deepEqual(up.summary.resourceChanges, { create: 3 });
            assert.equal(up.outputs.state.value, "running");
            const info = await onlyContainer(p, "web.1");
            assert.equal(`/${up.outputs.containerName.value}`, info.Name, "the containerName output names the container");
            assert.match(info.Name, new RegExp(`^/${APP}\\.${p.id}\\.web\\.1\\.[0-9a-f]{6}$`));
            assert.equal(await httpGet(up.outputs.ip.value, 5000), "web.1 hello");

            assert.equal(info.HostConfig.Memory, 128 * MIB);
            assert.equal(info.HostConfig.MemorySwap, 128 * MIB);
            assert.equal(info.HostConfig.CpuShares, 512);
            assert.equal(info.HostConfig.RestartPolicy?.Name, "always");
            const imageLabels = (await connectDocker().getImage(info.Image).inspect()).Config.Labels ?? {};
            assert.deepEqual(
                Object.fromEntries(Object.entries(info.Config.Labels).filter(([k]) => !(k in imageLabels))),
                {
                    [LABEL.managed]: "true",
                    [LABEL.app]: APP,
                    [LABEL.stack]: p.id,
                    [LABEL.role]: "dyno",
                    [LABEL.processType]: "web",
                    [LABEL.index]: "1",
                    [LABEL.dyno]: "web.1",
                    [LABEL.release]: "v1",
                    [LABEL.size]: "standard-1x",
                },
            );
            const endpoint = info.NetworkSettings.Networks[`${p.id}-web`];
            assert.ok(endpoint, "joined the app's network");
            assert.ok(endpoint.Aliases?.includes("web"), "with its alias");
            assert.ok(info.Config.Env.includes(`SECRET_TOKEN=${secretToken}`));
            const exported = JSON.stringify(await stack.exportStack());
            assert.match(exported, /"env":\{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270"/, "env is a secret");
            assert.ok(!exported.includes(`"SECRET_TOKEN":"${secretToken}"`), "no plaintext env outside the secret envelope");
            assert.ok(!readPresent(filesUnder(path.join(project!.dir, "state"))).some((f) => f.bytes.includes(secretToken)), "env is encrypted in the state files, inputs and outputs");
            firstId = info.Id;
            firstStartedAt = info.State.StartedAt;
        });

        test("resize in place: preview and up show an update naming memoryMb and cpuShares; same container, new limits", async (t) => {
            if (!firstId) return t.skip("needs the created dyno");
            size = { memoryMb: 256, cpuShares: 1024, size: "standard-2x" };

            const ev = engineEvents();
            const preview = await stack.preview({ onEvent: ev.onEvent });
            assert.deepEqual(preview.changeSummary, { same: 2, update: 1 }, "stack and network same, dyno updated");
            const [step] = ev.steps(DYNO_TYPE).filter((m) => m.op !== "same");
            assert.equal(step.op, "update");
            assert.deepEqual([...(step.diffs ?? [])].sort(), ["cpuShares", "memoryMb", "size"]);
            assert.deepEqual(Object.keys(step.detailedDiff ?? {}).sort(), ["cpuShares", "memoryMb", "size"]);

            const up = await stack.up();
            assert.deepEqual(up.summary.resourceChanges, { same: 2, update: 1 });
            const info = await onlyContainer(project!, "web.1");
            assert.equal(info.Id, firstId, "same container");
            assert.equal(info.State.StartedAt, firstStartedAt, "not restarted");
            assert.equal(info.RestartCount, 0);
            assert.equal(info.HostConfig.Memory, 256 * MIB);
            assert.equal(info.HostConfig.MemorySwap, 256 * MIB);
            assert.equal(info.HostConfig.CpuShares, 1024);
            assert.equal(info.Config.Labels[LABEL.size], "standard-1x", "labels cannot change in place (only state does)");
            assert.equal((await resourceState(stack, DYNO_TYPE, "web-1")).size, "standard-2x");
            assert.equal(await httpGet(info.NetworkSettings.Networks[`${project!.id}-web`].IPAddress, 5000), "web.1 hello");
        });

        test("replace on env change: the new container answers before the old one gets SIGTERM", async (t) => {
            if (!firstId) return t.skip("needs the created dyno");
            greeting = "bonjour";
            const pr = project!;
            const labels = { [LABEL.stack]: pr.id, [LABEL.dyno]: "web.1" };

            // Watch from outside while `up` runs: Docker's own event log (when SIGTERM was sent) and
            // an HTTP poller per container of web.1 (found by a listing every 50 ms), each asking
            // its container what it answers, 10 ms after its last reply.
            const dockerEvents = await recordDockerEvents(labels);
            const answers: Array<{ sent: number; at: number; id: string; body: string }> = [];
            let polling = true;
            const pollers = new Map<string, Promise<void>>();
            const pollOne = async (id: string, ip: string) => {
                while (polling) {
                    const sent = Date.now();
                    const body = await httpGet(ip, 5000, 300);
                    if (body) answers.push({ sent, at: Date.now(), id, body });
                    await sleep(10);
                }
            };
            const watcher = (async () => {
                const docker = connectDocker();
                while (polling) {
                    const list = await docker.listContainers({ filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } });
                    for (const c of list) {
                        const ip = c.NetworkSettings.Networks[`${pr.id}-web`]?.IPAddress;
                        if (ip && !pollers.has(c.Id)) pollers.set(c.Id, pollOne(c.Id, ip));
                    }
                    await sleep(50);
                }
            })();

            const ev = engineEvents();
            const up = await stack.up({ onEvent: ev.onEvent }).finally(() => (polling = false));
            await watcher;
            await Promise.all(pollers.values());
            const events = await dockerEvents.stop();

            assert.deepEqual(up.summary.resourceChanges, { replace: 1, same: 2 });
            const ops = ev.steps(DYNO_TYPE).map((m) => m.op).filter((op) => op !== "same");
            assert.deepEqual(ops, ["create-replacement", "replace", "delete-replaced"], "create before delete");
            const replacement = ev.steps(DYNO_TYPE).find((m) => m.op === "create-replacement")!;
            assert.deepEqual(replacement.keys, ["env"], "env is the field that forces the replacement");
            assert.deepEqual(replacement.diffs, ["env"]);
            assert.deepEqual(Object.keys(replacement.detailedDiff ?? {}).map((k) => k.split(".")[0]), ["env"], "detailedDiff names env");

            const info = await onlyContainer(pr, "web.1");
            assert.notEqual(info.Id, firstId, "a new container");
            assert.equal(await inspectContainer(firstId), undefined, "the old container is removed");
            assert.ok(info.Config.Env.includes("GREETING=bonjour"));

            const term = events.find((e) => e.Actor.ID === firstId && e.Action === "kill");
            assert.ok(term, "Docker recorded the stop of the old container");
            assert.equal(term.Actor.Attributes.signal, "15", "stopped with SIGTERM, not killed");
            const termAt = term.timeNano / 1e6;
            const firstNew = answers.find((a) => a.id === info.Id);
            assert.ok(firstNew, "the poller saw the new container answer");
            assert.equal(firstNew.body, "web.1 bonjour");
            // When the new server began to accept connections, by its own log line: the pollers'
            // timestamps lag by up to a request (over 90 ms with three test files on 2 cores), so
            // they prove only the overlap below, not this order.
            const listening = /listening at (\d+)/.exec(await containerLogs(info.Id));
            assert.ok(listening, "the new server logged when it started listening");
            const listeningAt = Number(listening[1]);
            assert.ok(listeningAt < termAt, `new listening at ${listeningAt}, before SIGTERM to the old one at ${termAt}`);
            // Both served at once: the old container answered a request sent after the new one was
            // listening. The reference is the new server's own clock, not its poller's first answer:
            // that poller starts only once a listing finds the container, and on a loaded machine its
            // first reply came after SIGTERM (CI of 2026-12-03). A poller's `sent` is read before the
            // request goes out, so `sent >= listeningAt` can only understate the overlap.
            const oldAfterNew = answers.find((a) => a.id === firstId && a.body === "web.1 hello" && a.sent >= listeningAt);
            assert.ok(oldAfterNew, `the old container answered a request sent after the new one was listening (at ${listeningAt})`);
            const destroyed = events.find((e) => e.Actor.ID === firstId && e.Action === "destroy");
            assert.ok(destroyed && destroyed.timeNano / 1e6 >= termAt, "the old container is removed after its SIGTERM");
        });
    });

    describe("drift: refresh sees it, up heals it", { concurrency: false }, () => {
        let stack: Stack;
        const names = ["gone", "stopped", "killed", "crashed"] as const;

        before(async () => {
            const p = project!;
            stack = await p.stack(async () => {
                const outs: Record<string, pulumi.Output<string>> = {};
                names.forEach((processType) => {
                    const d = new Dyno(
                        `${processType}-1`,
                        dynoArgs(p, {
                            processType,
                            index: 1,
                            command: "sleep 100000",
                            env: { SECRET_TOKEN: `token-${processType}` },
                            restartPolicy: processType === "stopped" ? "no" : "always",
                            stopGraceSeconds: 1,
                        }),
                    );
                    outs[processType] = d.containerName;
                });
                return outs;
            }, `${p.id}-drift`);
            const up = await stack.up();
            assert.deepEqual(up.summary.resourceChanges, { create: 5 });
        });

        test("docker rm -f: refresh reports `missing`, up runs a container of the same name and env again", async (t) => {
            const before = await onlyContainer(project!, "gone.1");
            await connectDocker().getContainer(before.Id).remove({ force: true });

            const refresh = await stack.refresh();
            assert.equal(refresh.summary.resourceChanges?.update, 1, "refresh reports the drift as an update");
            const seen = await resourceState(stack, DYNO_TYPE, "gone-1");
            assert.equal(seen.state, "missing");
            assert.equal(seen.containerId, "");

            const preview = await stack.preview();
            assert.equal(preview.changeSummary.update, 1, "the next up will heal it");
            const up = await stack.up();
            assert.deepEqual(up.summary.resourceChanges, { same: 4, update: 1 });
            const after = await onlyContainer(project!, "gone.1");
            assert.equal(after.Name, before.Name, "same container name");
            assert.notEqual(after.Id, before.Id);
            assert.equal(after.State.Running, true);
            assert.ok(after.Config.Env.includes("SECRET_TOKEN=token-gone"), "same env");
            assert.equal((await resourceState(stack, DYNO_TYPE, "gone-1")).state, "running");
            assert.deepEqual((await stack.preview()).changeSummary, { same: 5 }, "healed: nothing left to do");
        });

        test("docker kill with restartPolicy `no`: refresh sees `exited` with its exit code, up starts it again", async (t) => {
            const before = await onlyContainer(project!, "stopped.1");
            await connectDocker().getContainer(before.Id).kill();
            await eventually(async () => !(await inspectContainer(before.Id))!.State.Running, 5000, "the killed dyno to stop", 100);

            const refresh = await stack.refresh();
            assert.equal(refresh.summary.resourceChanges?.update, 1);
            const seen = await resourceState(stack, DYNO_TYPE, "stopped-1");
            assert.equal(seen.state, "exited");
            assert.equal(seen.exitCode, 137, "SIGKILL");

            const up = await stack.up();
            assert.deepEqual(up.summary.resourceChanges, { same: 4, update: 1 });
            const after = (await inspectContainer(before.Id))!;
            assert.equal(after.State.Running, true, "the same container runs again");
            assert.notEqual(after.State.StartedAt, before.State.StartedAt);
            assert.equal((await resourceState(stack, DYNO_TYPE, "stopped-1")).state, "running");
        });

        test("docker kill with restartPolicy `always`: Docker 20.10 counts it as a manual stop (no restart); refresh sees it, up starts it", async (t) => {
            const before = await onlyContainer(project!, "killed.1");
            await connectDocker().getContainer(before.Id).kill();
            // Docker decides at the exit, under the container's lock: `restarting` (RestartCount + 1)
            // or `exited`. So the first state that is not `running` is the decision.
            const stopped = await eventually(async () => {
                const i = (await inspectContainer(before.Id))!;
                return i.State.Status !== "running" || i.RestartCount > 0 ? i : undefined;
            }, 10_000, "Docker to handle the killed dyno's exit", 20);
            assert.equal(stopped.State.Status, "exited", "`docker kill` is not restarted by the `always` policy");
            assert.equal(stopped.RestartCount, 0);

            const refresh = await stack.refresh();
            assert.equal(refresh.summary.resourceChanges?.update, 1);
            const seen = await resourceState(stack, DYNO_TYPE, "killed-1");
            assert.equal(seen.state, "exited");
            assert.equal(seen.exitCode, 137);

            const up = await stack.up();
            assert.deepEqual(up.summary.resourceChanges, { same: 4, update: 1 });
            assert.equal((await inspectContainer(before.Id))!.State.Running, true);
        });

        test("a crash under restartPolicy `always`: Docker restarts it, refresh shows restartCount incremented", async (t) => {
            const before = await onlyContainer(project!, "crashed.1");
            // Kill the dyno's process from inside (children of docker-init, PID 1): a crash, not a stop.
            await execIn(
                before.Id,
                'for s in /proc/[0-9]*/status; do [ "$(sed -n "s/^PPid:[[:space:]]*//p" $s)" = 1 ] && kill -KILL $(sed -n "s/^Pid:[[:space:]]*//p" $s); done; true',
            );
            const restarted = await eventually(async () => {
                const i = (await inspectContainer(before.Id))!;
                // While Docker waits to restart, State.Running is already true (with Restarting).
                return i.RestartCount === 1 && i.State.Running && !i.State.Restarting ? i : undefined;
            }, 10_000, "Docker to restart the crashed dyno", 100);
            assert.notEqual(restarted.State.StartedAt, before.State.StartedAt);

            // Refresh writes what Docker says into state; its summary counts what an `up` would have
            // to change, and Docker has already healed this dyno, so there is nothing.
            const refresh = await stack.refresh();
            assert.equal(refresh.summary.resourceChanges?.update ?? 0, 0, "nothing for up to do");
            const seen = await resourceState(stack, DYNO_TYPE, "crashed-1");
            assert.equal(seen.state, "running");
            assert.equal(seen.restartCount, 1, "restartCount incremented in state");
            assert.equal(seen.startedAt, restarted.State.StartedAt);
            assert.equal(seen.containerId, before.Id, "the same container, restarted by Docker");
            assert.deepEqual((await stack.preview()).changeSummary, { same: 5 }, "Docker already healed it");
        });
    });

    describe("out of memory", { concurrency: false }, () => {
        /** The file whose appearance tells the hungry dyno to start allocating. */
        const GO = "/tmp/dynoform-hungry-go";
        test("an OOM-killed dyno: refresh reports `oom-killed`, up starts it again", async (t) => {
            const p = project!;
            const stack = await p.stack(async () => {
                new Dyno(
                    "hungry-1",
                    dynoArgs(p, {
                        processType: "hungry",
                        index: 1,
                        memoryMb: 32,
                        restartPolicy: "no",
                        // Boots, waits for the test's go (a file it takes away, so the dyno that up starts
                        // again waits too), then allocates until the kernel kills it at the 32 MiB limit.
                        // A go, not a `sleep 2`: a loaded CI host took longer than that to see the dyno
                        // booted, and the kill came during up. Perl, not node: under a 32 MiB limit on a
                        // loaded machine the kernel reclaims and re-reads node's own binary for 18-66 s
                        // before it kills (three runs, 3 busy loops, caches dropped); perl's few MiB
                        // leave it nothing to reclaim: killed in 1.2-1.5 s the same way.
                        command: `until rm ${GO} 2>/dev/null; do sleep 0.1; done; perl -e '$x .= q(a) x 1048576 while 1'`,
                    }),
                );
                return {};
            }, `${p.id}-oom`);
            try {
                await stack.up();
                const info = await onlyContainer(p, "hungry.1");
                assert.equal(info.State.Running, true, "booted and waiting for its go");
                await execIn(info.Id, `touch ${GO}`);
                const dead = await eventually(async () => {
                    const i = (await inspectContainer(info.Id))!;
                    return i.State.Running ? undefined : i;
                }, 20_000, "the hungry dyno to be killed", 100);
                assert.equal(dead.State.OOMKilled, true);

                const refresh = await stack.refresh();
                assert.equal(refresh.summary.resourceChanges?.update, 1);
                const seen = await resourceState(stack, DYNO_TYPE, "hungry-1");
                assert.equal(seen.state, "oom-killed");
                assert.equal(seen.exitCode, 137);

                const up = await stack.up();
                assert.deepEqual(up.summary.resourceChanges, { same: 1, update: 1 });
                const again = (await inspectContainer(info.Id))!;
                assert.notEqual(again.State.StartedAt, info.State.StartedAt, "started again");
                assert.equal(again.State.Running, true, "running again, waiting for a new go");
            } finally {
                await stack.destroy();
            }
        });
    });

    describe("delete with a grace period", { concurrency: false }, () => {
        test("a dyno that traps SIGTERM finishes its work; one that ignores it is killed after the grace period", async (t) => {
            const p = project!;
            const volumeName = `${p.id}-grace`;
            let withDynos = true;
            const stack = await p.stack(async () => {
                const volume = new Volume("grace-data", { name: volumeName });
                if (!withDynos) return {};
                const mounts = [pulumi.interpolate`${volume.name}:/data`];
                new Dyno(
                    "polite-1",
                    dynoArgs(p, {
                        processType: "polite",
                        index: 1,
                        mounts,
                        stopGraceSeconds: 10,
                        command:
                            "trap 'echo $(date +%s%N) > /data/polite-term; sleep 2; echo finished $(date +%s%N) > /data/polite; exit 0' TERM; " +
                            "while true; do sleep 0.2; done",
                    }),
                );
                new Dyno(
                    "stubborn-1",
                    dynoArgs(p, {
                        processType: "stubborn",
                        index: 1,
                        mounts,
                        stopGraceSeconds: 4,
                        // The weight of a process outside any dyno, so a loaded host does not starve it first.
                        cpuShares: 1024,
                        // Bash's own clock ($EPOCHREALTIME, ns with 000 added): one fork a beat (sleep), not
                        // three (date, mv); a loaded CI host once stalled that loop 1.13 s before the
                        // SIGKILL. Beats go to two files in turn: a SIGKILL between the shell's truncate
                        // and its write empties one (CI, 3 files at once), never both.
                        command:
                            "exec bash -c 'now() { echo ${EPOCHREALTIME/./}000; }; trap \"now > /data/stubborn-term\" TERM; " +
                            "i=0; while true; do now > /data/stubborn-beat.$((i++ % 2)); sleep 0.1; done'",
                    }),
                );
                return {};
            }, `${p.id}-grace`);
            const up = await stack.up();
            assert.deepEqual(up.summary.resourceChanges, { create: 4 });

            withDynos = false;
            const stubbornEvents = await recordDockerEvents({ [LABEL.stack]: p.id, [LABEL.processType]: "stubborn" });
            const started = Date.now();
            const down = await stack.up();
            const elapsed = (Date.now() - started) / 1000;
            const signals = (await stubbornEvents.stop()).filter((e) => e.Action === "kill");
            assert.deepEqual(down.summary.resourceChanges, { delete: 2, same: 2 });
            assert.equal((await containersWith({ [LABEL.stack]: p.id, [LABEL.app]: APP, [LABEL.processType]: "polite" })).length, 0);
            assert.equal((await containersWith({ [LABEL.stack]: p.id, [LABEL.app]: APP, [LABEL.processType]: "stubborn" })).length, 0);

            // Each file's content on a line named after it (a CI run once found the lines out of place).
            const read = await runOnce(
                p.images.node,
                "for f in polite-term polite stubborn-term stubborn-beat.0 stubborn-beat.1; do v=$(cat /data/$f) || exit 1; printf '%s=%s\\n' $f \"$v\"; done",
                { binds: [`${volumeName}:/data`] },
            );
            assert.equal(read.exitCode, 0, read.output);
            const files = Object.fromEntries(read.output.trim().split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
            const { "polite-term": politeTerm, polite, "stubborn-term": stubbornTerm } = files;
            // The later of the two beat files (the one a SIGKILL cut short, if any, is empty or older).
            const stubbornBeat = [files["stubborn-beat.0"], files["stubborn-beat.1"]].filter((b) => /^\d+$/.test(b ?? "")).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).pop() ?? "";
            const [word, finishedAt] = polite.split(" ");
            assert.equal(word, "finished", `the polite dyno finished its work: ${read.output}`);
            assert.match(`${politeTerm} ${finishedAt} ${stubbornTerm} ${stubbornBeat}`, /^\d+ \d+ \d+ \d+$/, `each file holds a time in ns: ${read.output}`);
            const ms = (ns: string) => Number(BigInt(ns) / 1_000_000n);
            assert.ok(ms(finishedAt) - ms(politeTerm) >= 2000, "it took its 2 s after SIGTERM");
            // Docker's own record of the stop: SIGTERM, then SIGKILL when the grace period ran out.
            assert.deepEqual(signals.map((e) => e.Actor.Attributes.signal), ["15", "9"], "SIGTERM, then SIGKILL");
            const [termAt, killAt] = signals.map((e) => e.timeNano / 1e6);
            const grace = (killAt - termAt) / 1000;
            assert.ok(grace >= 4 - 0.1 && grace < 10, `SIGKILL came ${grace} s after SIGTERM: the 4 s grace period`);
            // And the dyno's own: it trapped the SIGTERM and kept working until the SIGKILL (its
            // heartbeat every 0.1 s; a loaded host can stall it for a moment, hence the second).
            assert.ok(Math.abs(ms(stubbornTerm) - termAt) < 1000, "the dyno saw the SIGTERM Docker sent");
            assert.ok(ms(stubbornBeat) > killAt - 1000, `its last heartbeat ${((killAt - ms(stubbornBeat)) / 1000).toFixed(2)} s before the SIGKILL`);
            assert.ok(elapsed >= 4, `the delete took ${elapsed} s, at least the grace period`);
        });
    });

    describe("unknown inputs", { concurrency: false }, () => {
        test("a first preview with env and memory computed from a resource not yet created passes check", async (t) => {
            const p = project!;
            const stack = await p.stack(async () => {
                const network = new Network("later-net", { name: `${p.id}-later` });
                new Dyno(
                    "later-1",
                    dynoArgs(p, {
                        processType: "later",
                        index: 1,
                        command: "sleep 100000",
                        network: network.name,
                        // Unknown during the first preview: the whole env map and a number.
                        env: network.networkId.apply((id) => ({ NETWORK_ID: id })),
                        memoryMb: network.networkId.apply(() => 64),
                    }),
                );
                return {};
            }, `${p.id}-later`);
            try {
                const ev = engineEvents();
                const preview = await stack.preview({ onEvent: ev.onEvent });
                assert.deepEqual(ev.errors(), []);
                assert.deepEqual(preview.changeSummary, { create: 3 });
                const up = await stack.up();
                assert.deepEqual(up.summary.resourceChanges, { create: 3 });
                const info = await onlyContainer(p, "later.1");
                const net = info.NetworkSettings.Networks[`${p.id}-later`];
                assert.ok(info.Config.Env.includes(`NETWORK_ID=${net.NetworkID}`));
            } finally {
                await stack.destroy();
            }
        });
    });

    describe("health check", { concurrency: false }, () => {
        test("create waits until Docker reports the dyno healthy; a new timing of the same check is an update in place", async (t) => {
            const p = project!;
            let intervalSeconds = 1;
            const stack = await p.stack(async () => {
                const d = new Dyno(
                    "checked-1",
                    dynoArgs(p, {
                        processType: "checked",
                        index: 1,
                        command: "sleep 3; touch /tmp/ready; sleep 100000",
                        healthcheck: { command: "test -f /tmp/ready", intervalSeconds, retries: 30 },
                    }),
                );
                return { state: d.state };
            }, `${p.id}-health`);
            try {
                const up = await stack.up();
                assert.deepEqual(up.summary.resourceChanges, { create: 2 });
                const info = await onlyContainer(p, "checked.1");
                // /tmp/ready appears 3 s after start: healthy now means create waited for it.
                assert.equal(info.State.Health?.Status, "healthy", "healthy when create returned");
                assert.deepEqual(info.Config.Healthcheck?.Test, ["CMD-SHELL", "test -f /tmp/ready"]);

                // As when Dynoform's add-on check went from 1 s to 3 s: no restart, the state takes the new timing.
                intervalSeconds = 3;
                const ev = engineEvents();
                const again = await stack.up({ onEvent: ev.onEvent });
                assert.deepEqual(again.summary.resourceChanges, { update: 1, same: 1 });
                const update = ev.steps(DYNO_TYPE).find((m) => m.op === "update");
                assert.deepEqual(update?.diffs, ["healthcheck"]);
                assert.equal((await onlyContainer(p, "checked.1")).Id, info.Id, "the same container");
                assert.equal((await resourceState(stack, DYNO_TYPE, "checked-1")).healthcheck.intervalSeconds, 3);
            } finally {
                await stack.destroy();
            }
        });
    });

    describe("errors", { concurrency: false }, () => {
        let stack: Stack;
        let args: Partial<DynoArgs> = {};

        async function failingUp(t: { name: string }, over: Partial<DynoArgs>): Promise<string> {
            const p = project!;
            args = over;
            stack ??= await p.stack(async () => {
                new Dyno("err-1", dynoArgs(p, { processType: "err", index: 1, command: "sleep 100000", ...args }));
                return {};
            }, `${p.id}-errors`);
            const ev = engineEvents();
            await assert.rejects(stack.up({ onEvent: ev.onEvent }), `${t.name}: up fails`);
            assert.equal(
                (await containersWith({ [LABEL.stack]: p.id, [LABEL.processType]: "err" })).length,
                0,
                "no container is left behind",
            );
            const resourceErrors = ev
                .events.filter((e) => e.diagnosticEvent?.severity === "error" && e.diagnosticEvent.urn?.includes("Dyno"))
                .map((e) => e.diagnosticEvent!.message);
            assert.equal(resourceErrors.length, 1, `one error diagnostic for the dyno: ${JSON.stringify(ev.errors())}`);
            return resourceErrors[0];
        }

        test("wrong dockerHost: a one-line error naming it", async (t) => {
            const message = await failingUp(t, { dockerHost: "unix:///tmp/dynoform-no-such-docker.sock" });
            const line = message.trim();
            assert.match(line, /Docker engine not reachable at dockerHost unix:\/\/\/tmp\/dynoform-no-such-docker\.sock: ENOENT/);
            assert.equal(line.split("\n").length, 1, `one line: ${line}`);
            const port = await freePort();
            const tcp = await failingUp(t, { dockerHost: `tcp://127.0.0.1:${port}` });
            assert.match(tcp, new RegExp(`Docker engine not reachable at dockerHost tcp://127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
        });

        test("missing image: says so", async (t) => {
            const message = await failingUp(t, { image: "dynoform/no-such-image:nope" });
            assert.match(message, /image dynoform\/no-such-image:nope not found on the Docker host/);
        });

        test("host port already in use: names the port", async (t) => {
            const port = await freePort();
            const holder = net.createServer().listen(port, "127.0.0.1");
            await new Promise((r) => holder.once("listening", r));
            try {
                const message = await failingUp(t, {
                    command: httpServerCommand(),
                    env: { PORT: "5000" },
                    port: 5000,
                    publish: { hostPort: port },
                });
                assert.match(message, new RegExp(`port 127\\.0\\.0\\.1:${port} is already in use`));
            } finally {
                holder.close();
            }
        });

        test("a dyno whose command exits at once: create fails with its last log lines, no container left", async (t) => {
            const message = await failingUp(t, { command: "echo boot-failure-marker-1; echo boot-failure-marker-2 >&2; exit 3" });
            assert.match(message, /^dyno err\.1 (crashed while booting \(exit code 3; Docker restarted it \d+x\)|exited with code 3 while booting)\n/);
            assert.match(message, /last log lines of dynotest\..*\.err\.1\.[0-9a-f]{6}:\n/);
            assert.match(message, /boot-failure-marker-1/);
            assert.match(message, /boot-failure-marker-2/);
            const noRestart = await failingUp(t, { command: "echo bye-marker; exit 4", restartPolicy: "no" });
            assert.match(noRestart, /dyno err\.1 exited with code 4 while booting/);
            assert.match(noRestart, /bye-marker/);
        });

        test("a web dyno that never listens on $PORT: the boot timeout says so, no container left", async (t) => {
            const started = Date.now();
            const message = await failingUp(t, { command: "echo not-listening-marker; sleep 100000", port: 5000, bootTimeoutSeconds: 2 });
            assert.match(message, /^dyno err\.1 did not accept connections on \$PORT \(5000\) within the 2 s boot timeout\n/);
            assert.match(message, /not-listening-marker/);
            assert.ok(Date.now() - started >= 2000);
        });

        test("memory larger than the host: needed vs available MiB", async (t) => {
            const total = Math.floor((await connectDocker().info()).MemTotal / MIB);
            const message = await failingUp(t, { memoryMb: total * 4 });
            assert.match(
                message,
                new RegExp(`not enough memory on the Docker host for dyno err\\.1: needs ${total * 4} MiB, \\d+ MiB of ${total} MiB is not reserved`),
            );
        });

        test("dynos created in parallel cannot together reserve more memory than the host has", async (t) => {
            const p = project!;
            const docker = connectDocker();
            const total = (await docker.info()).MemTotal;
            const running = await docker.listContainers({ filters: { status: ["running", "restarting"] } });
            const limits = await Promise.all(running.map(async (c) => (await docker.getContainer(c.Id).inspect()).HostConfig.Memory ?? 0));
            const free = Math.floor((total - limits.reduce((a, b) => a + b, 0)) / MIB);
            const each = Math.floor(free * 0.6); // either fits alone, both do not
            const stack = await p.stack(async () => {
                for (const index of [1, 2]) {
                    new Dyno(`big-${index}`, dynoArgs(p, { processType: "big", index, command: "sleep 100000", memoryMb: each }));
                }
                return {};
            }, `${p.id}-big`);
            const ev = engineEvents();
            try {
                await assert.rejects(stack.up({ onEvent: ev.onEvent }));
                const created = await containersWith({ [LABEL.stack]: p.id, [LABEL.processType]: "big" });
                assert.equal(created.length, 1, "one dyno was created, the other refused");
                const refused = ev.errors().filter((m) => m.includes("not enough memory"));
                assert.equal(refused.length, 1, JSON.stringify(ev.errors()));
                assert.match(refused[0], new RegExp(`dyno big\\.[12]: needs ${each} MiB, \\d+ MiB of ${Math.floor(total / MIB)} MiB is not reserved`));
            } finally {
                await stack.destroy();
            }
        });
    });
});

/** Every file under a folder. */

