import { CommandModule } from "yargs";
import type { AppDefinition } from "../../components/app-definition";
import { configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface RestartOptions extends EditOptions {
    target?: string;
}

/** Refuses a restart of a process type the Procfile lacks, or of a dyno the formation does not run. Pure. */
export function checkRestartTarget(target: string, definition: Pick<AppDefinition, "plan" | "procfileFile">): void {
    const [type, index] = target.split(".");
    const p = definition.plan.find((x) => x.type === type);
    if (!p) {
        const types = definition.plan.map((x) => x.type).join(", ");
        const why = type === "release" ? "release runs once per release and has no dynos" : `it is not in ${definition.procfileFile}`;
        throw new UsageError(`ps:restart: \`${type}\` is not a process type with dynos (${why}); the types are ${types}`);
    }
    if (index !== undefined && Number(index) > p.quantity) {
        const running = p.quantity === 0 ? "none" : p.quantity === 1 ? `${type}.1` : `${type}.1 to ${type}.${p.quantity}`;
        throw new UsageError(`ps:restart: there is no dyno ${target}: ${type} runs ${p.quantity} (${running})`);
    }
}

/** `ps:restart`'s target, when given, names a process type or a dyno (`web`, `web.2`). Pure. */
export function restartTarget(argv: { target?: string }): string | undefined {
    const target = argv.target;
    if (target !== undefined && !/^[A-Za-z0-9_-]+(\.[1-9][0-9]*)?$/.test(target)) {
        throw new UsageError(`ps:restart: \`${target}\` is not a process type or dyno name (web, web.2)`);
    }
    return target;
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
        const target = restartTarget(argv);
        const token = new Date().toISOString();
        const { readStackFile, validateSettings } = await import("../stack-settings");
        const { checkStack, projectDir } = await import("../project");
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const view = readStackFile(dir, argv.stack);
        if (target !== undefined) checkRestartTarget(target, validateSettings(dir, view, argv.stack));
        const types = target ? [target] : Object.keys(view.settings.formation ?? { web: {} });
        await editAndDeploy(argv, {
            set: (types.length ? types : ["web"]).map((t) => ({ path: configPath("restarts", t), value: token })),
            remove: [],
            preview: () => undefined,
            description: `Restart ${target ?? "all dynos"}`,
        });
    },
};
