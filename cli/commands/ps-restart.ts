import { CommandModule } from "yargs";
import { configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface RestartOptions extends EditOptions {
    target?: string;
}

/**
 * `dynoform ps:restart [web|web.2]`: a new restart token for those dynos; `up` replaces them one
 * at a time, each new web dyno admitted by the router before the old one stops.
 */
export const psRestartCommand: CommandModule<GlobalOptions, RestartOptions> = {
    command: "ps:restart [target]",
    describe: "Restart all dynos, a process type, or one dyno (rolling, through the router)",
    builder: (y) =>
        withUp(y)
            .positional("target", { type: "string", describe: "`web` or `web.2`; all dynos when omitted" })
            .example("$0 ps:restart web", "roll every web dyno"),
    handler: async (argv) => {
        const target = argv.target;
        if (target !== undefined && !/^[A-Za-z0-9_-]+(\.[1-9][0-9]*)?$/.test(target)) {
            throw new UsageError(`ps:restart: \`${target}\` is not a process type or dyno name (web, web.2)`);
        }
        const token = new Date().toISOString();
        const { readStackFile } = await import("../stack-settings");
        const { projectDir } = await import("../project");
        const types = target ? [target] : Object.keys(readStackFile(projectDir(argv), argv.stack).settings.formation ?? { web: {} });
        await editAndDeploy(argv, {
            set: (types.length ? types : ["web"]).map((t) => ({ path: configPath("restarts", t), value: token })),
            remove: [],
            preview: () => undefined,
            description: `Restart ${target ?? "all dynos"}`,
        });
    },
};
