import { CommandModule } from "yargs";
import { connectDocker } from "../../infra/docker/client";
import { say } from "../deploy";
import { byTime, followLogs, formatLogLine, LogFilter, LogLine, LogSource, recentLines, schedulerContainers } from "../app-logs";
import { stackApp } from "../app-state";
import { stackCluster } from "../docker-host";
import { followSwarmLogs, recentSwarmLines } from "../swarm-logs";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { useColor } from "../progress";

interface LogsOptions extends GlobalOptions {
    tail: boolean;
    dyno?: string;
    ps?: string;
    source?: LogSource["kind"];
    num: number;
}

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const COLORS: Record<LogSource["kind"], number> = { app: 36, dynoform: 35, addon: 33 };

/**
 * `dynoform logs [--tail]`: the app's logs as Heroku shows them, read from Docker: dynos and
 * one-offs as `app[web.1]`, the router as `dynoform[router]`, add-ons as `addon[postgres]`.
 * The tool prints only what the containers printed; it never adds config values.
 */
export const logsCommand: CommandModule<GlobalOptions, LogsOptions> = {
    command: "logs",
    describe: "Show the app's logs (dynos, router, add-ons); --tail follows them",
    builder: (y) =>
        y
            .option("tail", { alias: "t", type: "boolean", default: false, describe: "Keep following; dynos that start later are picked up (Ctrl-C stops)" })
            .option("dyno", { alias: "d", type: "string", describe: "Only this dyno (web.1) or process type (web); also router or an add-on name" })
            .option("ps", { alias: "p", type: "string", describe: "Only this process type (worker)" })
            .option("source", { type: "string", choices: ["app", "dynoform", "addon"] as const, describe: "Only dynos (app), the router (dynoform) or add-ons (addon)" })
            .option("num", { alias: "n", type: "number", default: 100, describe: "How many recent lines to show first (0: none)" })
            .example("$0 logs --tail", "follow every dyno, the router and the add-ons")
            .example("$0 logs --dyno web.1 -n 20", "the last 20 lines of web.1")
            .example("$0 logs --ps worker --tail --stack staging", "follow staging's workers"),
    handler: async (argv) => {
        for (const [flag, v] of [["--dyno", argv.dyno], ["--ps", argv.ps]] as const) {
            if (v !== undefined && !NAME.test(v)) throw new UsageError(`${flag} ${JSON.stringify(v)} is not a dyno or process type (e.g. web.1 or worker)`);
        }
        if (!Number.isInteger(argv.num) || argv.num < 0) throw new UsageError(`-n ${argv.num} must be a whole number of lines, 0 or more`);
        const app = await stackApp(argv);
        const filter: LogFilter = { dyno: argv.dyno, ps: argv.ps, source: argv.source };
        const docker = connectDocker();
        const color = useColor() && !argv.json;
        const paint = (kind: LogSource["kind"], s: string) => (color ? `\u001b[${COLORS[kind]}m${s}\u001b[0m` : s);
        const print = (l: LogLine) =>
            process.stdout.write(
                argv.json
                    ? JSON.stringify({ time: new Date(Number(l.ns / 1_000_000n)).toISOString(), source: l.source.kind, dyno: l.source.dyno, stream: l.stream, text: l.text }) + "\n"
                    : formatLogLine(l, paint) + "\n",
            );

        const startedNs = BigInt(Date.now()) * 1_000_000n;
        if (stackCluster(argv.cwd, argv.stack) !== undefined) {
            // On a cluster: every task's lines through the manager, each with its dyno and node, and
            // the scheduler's and its runs' (containers on the manager, as on one host).
            const onManager = await recentLines(docker, app, argv.stack, filter, argv.num, schedulerContainers);
            const lines = [...(await recentSwarmLines(docker, app, argv.stack, filter, argv.num)), ...onManager.lines]
                .sort(byTime)
                .slice(-argv.num);
            lines.forEach(print);
            if (!argv.tail) return;
            say(`--- following ${app} (${argv.stack}) on every node; Ctrl-C stops`);
            const last = lines.length ? lines[lines.length - 1].ns : startedNs;
            const services = followSwarmLogs({ docker, app, stack: argv.stack, filter, sinceNs: last, onLine: print });
            const jobs = followLogs({ docker, app, stack: argv.stack, filter, cutoffs: onManager.cutoffs, known: onManager.known, startedNs, onLine: print, only: schedulerContainers });
            return follow({ stop: () => (services.stop(), jobs.stop()), done: Promise.all([services.done, jobs.done]).then(() => undefined) });
        }
        const recent = await recentLines(docker, app, argv.stack, filter, argv.num);
        recent.lines.forEach(print);
        if (!argv.tail) return;

        say(`--- following ${app} (${argv.stack}); new dynos are picked up as they start; Ctrl-C stops`);
        await follow(followLogs({ docker, app, stack: argv.stack, filter, cutoffs: recent.cutoffs, known: recent.known, startedNs, onLine: print }));
    },
};

/** Waits until a follower ends; Ctrl-C, SIGTERM or a closed stdout stop it. */
async function follow(follower: { stop: () => void; done: Promise<void> }): Promise<void> {
    const stop = () => follower.stop();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    process.stdout.once("error", stop);
    try {
        await follower.done;
    } finally {
        process.removeListener("SIGINT", stop);
        process.removeListener("SIGTERM", stop);
        process.stdout.removeListener("error", stop);
    }
}
