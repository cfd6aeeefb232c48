/**
 * Benchmark of issue 13's targets, before and after, medians of `--reps` (5) runs, in one table:
 * a no-op `preview`, `ps:scale web=+1` (wall and CPU seconds of the CLI's process tree),
 * `ps:resize` of 10 dynos (seconds and restarts), `up` of 0 -> 30 dynos against 30 parallel
 * `docker run` until every container answers, and the CLI process tree's peak memory.
 * "Before" is another build of the CLI (`--base`, default /work/main/dist/cli/main.js), "after"
 * this checkout's; each has its own project and stack, and the runs alternate between them.
 *
 * Run: `npx tsc -p . && node dist/bench/cmdpath.js [--base path/to/dist/cli/main.js] [--reps 5] [--up-dynos 30] [--up-reps 5]`.
 */
import * as os from "os";
import { connectDocker } from "../infra/docker/client";
import { LABEL } from "../infra/docker/labels";
import { removeStackObjects } from "../test/support/cli";
import { containersWith } from "../test/support/harness";
import { dockerRunArgs, dynoTemplate } from "./scale-out";
import { BenchApp, benchApp, CliRun, dynoContainers, fmt, machineLine, memoryLine, mib, printTable, range, runMain, runOk, timed, untilAccepting } from "./support";

const arg = (name: string) => {
    const at = process.argv.indexOf(name);
    return at < 0 ? undefined : process.argv[at + 1];
};
const BASE = arg("--base") ?? "/work/main/dist/cli/main.js";
const REPS = Number(arg("--reps") ?? 5);
const UP_DYNOS = Number(arg("--up-dynos") ?? 30);
/** Runs of the 30-dyno `up` (each makes and removes 30 dynos per build): `--up-reps`, default `--reps`. */
const UP_REPS = Number(arg("--up-reps") ?? REPS);
const RESIZE_DYNOS = 10;
/** Small sizes, so 30 dynos per stack fit beside what else runs on the machine. */
const SMALL = "custom-128mb";
const LARGER = "custom-256mb";

interface Variant {
    name: string;
    cliJs?: string;
    app?: BenchApp;
    web: number;
    preview: number[];
    scale: number[];
    scaleCpu: number[];
    resize: number[];
    resizeRestarts: number[];
    up: number[];
    peakBytes: number;
    /** The command of the peak, with each process's share. */
    peakOf: string;
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cpuOf = (r: CliRun) => Object.values(r.usage.cpuSeconds).reduce((a, b) => a + b, 0);

async function cli(v: Variant, ...args: string[]): Promise<CliRun> {
    const r = await v.app!.cli(...args);
    if (r.usage.peakBytes > v.peakBytes) {
        v.peakBytes = r.usage.peakBytes;
        v.peakOf = `${args.join(" ")}: ${memoryLine(r.usage)}`;
    }
    return r;
}

async function main(): Promise<void> {
    process.stdout.write(`cmdpath bench: ${REPS} runs each; ${machineLine()}\n`);
    const variants: Variant[] = [
        { name: `before (${BASE})`, cliJs: BASE },
        { name: "after (this checkout)" },
    ].map((v) => ({ ...v, web: 1, preview: [], scale: [], scaleCpu: [], resize: [], resizeRestarts: [], up: [], peakBytes: 0, peakOf: "" }));
    const runStack = `bench-cmdpath-run-${process.pid}`;
    const docker = connectDocker();
    const dockerRun: number[] = [];
    try {
        for (const [i, v] of variants.entries()) {
            v.app = await benchApp(`bench-cmdpath${i}`, { quantity: 1, size: SMALL }, v.cliJs);
            await cli(v, "up", "--yes");
        }
        for (const rep of range(REPS)) {
            for (const v of variants) {
                const preview = await cli(v, "preview");
                if (!/^Resources: \d+ same$/m.test(preview.stdout)) throw new Error(`${v.name}: preview of an unchanged app planned changes:\n${preview.stdout}`);
                v.preview.push(preview.seconds);
                v.web += 1;
                const scale = await cli(v, "ps:scale", `web=${v.web}`);
                v.scale.push(scale.seconds);
                v.scaleCpu.push(cpuOf(scale));
                process.stderr.write(`rep ${rep} ${v.name}: preview ${fmt(preview.seconds)} s, ps:scale web=${v.web} ${fmt(scale.seconds)} s ${fmt(cpuOf(scale))} CPU-s\n`);
            }
        }
        for (const v of variants) {
            v.app!.setWeb(RESIZE_DYNOS, SMALL);
            await cli(v, "up", "--yes");
        }
        for (const rep of range(REPS)) {
            const to = rep % 2 ? LARGER : SMALL;
            for (const v of variants) {
                const before = await dynoContainers(v.app!.stack);
                const r = await cli(v, "ps:resize", `web=${to}`);
                const after = await dynoContainers(v.app!.stack);
                const restarted = after.filter((a) => {
                    const b = before.find((x) => x.Id === a.Id);
                    return !b || b.State.StartedAt !== a.State.StartedAt || a.RestartCount !== 0;
                }).length;
                if (after.length !== RESIZE_DYNOS) throw new Error(`${v.name}: ${after.length} web dynos after the resize`);
                v.resize.push(r.seconds);
                v.resizeRestarts.push(restarted);
                process.stderr.write(`rep ${rep} ${v.name}: ps:resize of ${RESIZE_DYNOS} to ${to} ${fmt(r.seconds)} s, ${restarted} restarted\n`);
            }
        }
        for (const v of variants) {
            v.app!.setWeb(0, SMALL);
            await cli(v, "up", "--yes");
        }
        const template = await dynoTemplateOf(variants[1]);
        await docker.createNetwork({ Name: `${runStack}-net`, Labels: { [LABEL.stack]: runStack } });
        for (const rep of range(UP_REPS)) {
            for (const v of variants) {
                v.app!.setWeb(UP_DYNOS, SMALL);
                const up = await cli(v, "up", "--yes");
                v.up.push(up.seconds);
                v.app!.setWeb(0, SMALL);
                await cli(v, "up", "--yes");
                process.stderr.write(`rep ${rep} ${v.name}: up of ${UP_DYNOS} dynos ${fmt(up.seconds)} s, peak ${memoryLine(up.usage)}\n`);
            }
            const ids: string[] = [];
            const seconds = await timed(async () => {
                const out = await Promise.all(range(UP_DYNOS).map((n) => runOk("docker", dockerRunArgs(template, runStack, n))));
                ids.push(...out.map((o) => o.trim()));
                await untilAccepting(ids, template.port);
            });
            dockerRun.push(seconds);
            await runOk("docker", ["rm", "-f", ...ids]);
            process.stderr.write(`rep ${rep}: ${UP_DYNOS} x docker run until answering ${fmt(seconds)} s\n`);
        }
        report(variants, dockerRun);
    } finally {
        for (const c of await containersWith({ [LABEL.stack]: runStack })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        await removeStackObjects(runStack);
        for (const v of variants) await v.app?.cleanup();
    }
}

/** What the baseline `docker run`s copy (image, command, limits): one dyno of `v`'s app, scaled to 1 for it. */
async function dynoTemplateOf(v: Variant) {
    v.app!.setWeb(1, SMALL);
    await cli(v, "up", "--yes");
    const t = await dynoTemplate(v.app!.stack);
    v.app!.setWeb(0, SMALL);
    await cli(v, "up", "--yes");
    return t;
}

function report(variants: Variant[], dockerRun: number[]): void {
    const [before, after] = variants;
    const run = median(dockerRun);
    const rows: Array<[string, string, (v: Variant) => string]> = [
        ["no-op preview of the tiny app, s", "<= 2.5", (v) => fmt(median(v.preview))],
        ["ps:scale web=+1, s", "<= 5", (v) => fmt(median(v.scale))],
        ["ps:scale web=+1, CPU-s of the process tree", "<= 4", (v) => fmt(median(v.scaleCpu))],
        [`ps:resize of ${RESIZE_DYNOS} dynos, s`, "<= 4", (v) => fmt(median(v.resize))],
        [`ps:resize of ${RESIZE_DYNOS} dynos, restarts (max)`, "0", (v) => String(Math.max(...v.resizeRestarts))],
        [`up of 0 -> ${UP_DYNOS} dynos, s`, "", (v) => fmt(median(v.up))],
        [`... / ${UP_DYNOS} parallel docker run until answering (${fmt(run)} s)`, "<= 1.5x", (v) => `${(median(v.up) / run).toFixed(2)}x`],
        ["CLI process tree peak memory (all runs)", "<= 300 MiB", (v) => mib(v.peakBytes)],
    ];
    printTable(
        `Issue 13 targets, medians of ${REPS} runs (${UP_REPS} of the ${UP_DYNOS}-dyno up; before = ${BASE}); ${os.cpus().length} CPUs; ${machineLine()}`,
        ["measure", "target", "before", "after"],
        rows.map(([what, target, f]) => [what, target, f(before), f(after)]),
    );
    process.stdout.write(
        `\nruns (s): ${variants
            .map((v) => `${v.name}: preview ${v.preview.map(fmt).join(" ")}; scale ${v.scale.map(fmt).join(" ")}; resize ${v.resize.map(fmt).join(" ")}; up ${v.up.map(fmt).join(" ")}`)
            .join(" | ")}; docker run ${dockerRun.map(fmt).join(" ")}\n`,
    );
    for (const v of variants) process.stdout.write(`peak memory, ${v.name}: ${v.peakOf}\n`);
}

if (require.main === module) runMain(main);
