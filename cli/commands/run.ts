import { CommandModule } from "yargs";
import { dynoEnv, parseConfigAssignment } from "../../components/config-vars";
import { DEFAULT_DYNO_SIZE, resolveDynoSize } from "../../components/dyno-size";
import { connectDocker } from "../../infra/docker/client";
import { dockerName, LABEL, roleFilter } from "../../infra/docker/labels";
import { ensureDockerEngine } from "../../toolchain/docker-engine";
import { silentReporter } from "../../toolchain/report";
import { say } from "../deploy";
import { asUsage } from "../edit";
import { ExitStatus, UsageError } from "../errors";
import { nextRunIndex, runAttached, shellCommand } from "../one-off";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { readAppOutputs } from "../stack-outputs";
import { readStackFile } from "../stack-settings";

interface RunOptions extends GlobalOptions {
    command?: string[];
    size: string;
    env?: string[];
    tty?: boolean;
}

/**
 * `dynoform run <command...>`: a one-off dyno (`run.N`) with the image, config vars, add-on
 * attachments and network of the app's current release. Interactive with a TTY when stdin is
 * one; the command's exit code becomes dynoform's; the container is removed afterwards.
 */
export const runCommand: CommandModule<GlobalOptions, RunOptions> = {
    command: "run [command..]",
    describe: "Run a one-off dyno with the app's release (exit code passed through)",
    builder: (y) =>
        y
            .positional("command", { type: "string", array: true, describe: "The command; put it after -- when it has options" })
            .option("size", { type: "string", default: DEFAULT_DYNO_SIZE, describe: "Dyno size of the one-off" })
            .option("env", { alias: "e", type: "string", array: true, nargs: 1, describe: "Extra env var for this run (KEY=VALUE); repeat for more" })
            .option("tty", { type: "boolean", describe: "Attach a terminal (default: when stdin is a terminal); --no-tty for plain streams" })
            .example("$0 run bash", "a shell in a one-off dyno")
            .example("$0 run -- node -e 'console.log(process.env.DATABASE_URL ? \"db\" : \"none\")'", "a command with options, after --")
            .example("$0 run --stack staging -- npm run migrate", "a one-off on staging"),
    handler: async (argv) => {
        const words = [...(argv.command ?? []), ...argv._.slice(1).map(String)];
        if (words.length === 0) throw new UsageError("run: give a command, e.g. `dynoform run bash` or `dynoform run -- node -v`");
        const size = asUsage(() => resolveDynoSize(argv.size, "size"));
        const extra = (argv.env ?? []).map((p) => asUsage(() => parseConfigAssignment(p, "env")));
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const app = readStackFile(dir, argv.stack).settings.app;

        await ensureDockerEngine(silentReporter);
        const outputs = await readAppOutputs(argv);
        if (!outputs.imageDigest) throw new Error(`${app} has not been deployed to ${argv.stack}: run \`dynoform up --stack ${argv.stack}\` first`);
        const attachedVars = Object.values(outputs.addonAttachments ?? {});
        if (attachedVars.length && !outputs.attachments) {
            throw new Error(`the ${argv.stack} stack's outputs do not hold the add-on URLs yet: run \`dynoform up --stack ${argv.stack}\` once`);
        }
        const docker = connectDocker();
        const running = await docker.listContainers({
            all: true,
            filters: { label: roleFilter("run", app, argv.stack) },
        });
        const index = nextRunIndex(running.map((c) => c.Labels[LABEL.dyno] ?? ""));
        const config = { ...(outputs.config ?? {}), ...Object.fromEntries(extra) };
        const env = asUsage(() => dynoEnv({ config, attachments: outputs.attachments ?? {}, processType: "run", index }));
        const command = shellCommand(words);
        const tty = argv.tty ?? Boolean(process.stdin.isTTY && process.stdout.isTTY);
        say(`Running \`${command}\` on ${app} (${argv.stack}) as run.${index}, ${size.name}...`);
        const code = await runAttached({
            docker,
            app,
            stack: argv.stack,
            image: outputs.imageDigest,
            command,
            env,
            // Found by its owner labels: an older deployment's network keeps its older name.
            network: (await docker.listNetworks({ filters: { label: [`${LABEL.app}=${app}`, `${LABEL.stack}=${argv.stack}`] } }))[0]?.Name ??
                dockerName.network(app, argv.stack),
            index,
            size,
            tty,
        });
        if (code !== 0) throw new ExitStatus(code);
    },
};
