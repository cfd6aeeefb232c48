import { CommandModule } from "yargs";
import { validateSchedulerJobs } from "../../components/scheduler";
import { connectDocker } from "../../infra/docker/client";
import { ensureDockerEngine } from "../../toolchain/docker-engine";
import { silentReporter } from "../../toolchain/report";
import { asUsage } from "../edit";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { jobRows, jobRuns, lastRunText, schedulerState } from "../scheduler";
import { readStackFile } from "../stack-settings";

/** `dynoform scheduler`: the stack's scheduled jobs, each with its schedule, last run and exit code, and next time. */
export const schedulerCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "scheduler",
    describe: "List scheduled jobs: schedule (UTC), command, last run and its exit code, next run",
    builder: (y) => y.example("$0 scheduler --stack production", ""),
    handler: async (argv) => {
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const { settings } = readStackFile(dir, argv.stack);
        const jobs = asUsage(() => validateSchedulerJobs(settings.scheduler));
        await ensureDockerEngine(silentReporter);
        const docker = connectDocker();
        const rows = jobRows(jobs, await jobRuns(docker, settings.app, argv.stack), new Date());
        if (argv.json) {
            process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
            return;
        }
        if (rows.length === 0) {
            process.stdout.write(`no scheduled jobs for ${settings.app} on ${argv.stack}: add one with \`dynoform scheduler:add "*/10 * * * *" -- npm run report\`\n`);
            return;
        }
        const state = await schedulerState(docker, settings.app, argv.stack);
        process.stdout.write(`=== ${settings.app} (${argv.stack}) scheduler: ${state}; times are UTC\n`);
        const width = Math.max(...rows.map((r) => r.name.length));
        for (const r of rows) {
            const next = r.next ? `, next ${r.next.replace(/:00\.000Z$/, "Z")}` : "";
            process.stdout.write(`${r.name.padEnd(width)}  ${r.schedule}  ${r.runs}  (${lastRunText(r)}${next})\n`);
        }
    },
};
