import { CommandModule } from "yargs";
import { configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface StopOptions extends EditOptions {
    type: string;
}

/** `ps:stop`'s argument names a process type. Pure. */
export function stopType(argv: { type: string }): string {
    if (!/^[A-Za-z0-9_-]+$/.test(argv.type)) {
        throw new UsageError(`ps:stop: \`${argv.type}\` is not a process type (use ps:scale TYPE=0)`);
    }
    return argv.type;
}

/** `dynoform ps:stop worker`: scales a process type to 0 (its dynos get SIGTERM and the grace period). */
export const psStopCommand: CommandModule<GlobalOptions, StopOptions> = {
    command: "ps:stop <type>",
    describe: "Stop every dyno of a process type (scale it to 0)",
    builder: (y) => withUp(y).positional("type", { type: "string", demandOption: true }).example("$0 ps:stop worker", "stop the workers"),
    handler: async (argv) => {
        stopType(argv);
        await editAndDeploy(argv, {
            set: [{ path: configPath("formation", argv.type, "quantity"), value: "0" }],
            remove: [],
            preview: (view) => {
                const f = (view.settings.formation ??= {});
                f[argv.type] = { ...(f[argv.type] ?? {}), quantity: 0 };
            },
            description: `Stop ${argv.type}`,
        });
    },
};
