import { CommandModule } from "yargs";
import { ensureDockerEngine } from "../../toolchain/docker-engine";
import { silentReporter } from "../../toolchain/report";
import { configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { checkRouterPort } from "../router-port";
import { readStackFile } from "../stack-settings";

interface RouterPortOptions extends EditOptions {
    port?: string;
}

/** A port argument as a number from 1 to 65535, or a usage error naming it. Pure. */
export function parsePort(arg: string): number {
    const port = /^\d+$/.test(arg.trim()) ? Number(arg.trim()) : NaN;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new UsageError(`router:port: \`${arg}\` is not a port from 1 to 65535`);
    }
    return port;
}

/**
 * `dynoform router:port [PORT]`: prints the host port of the app's router, or moves the router
 * to PORT. A port held by another process or app is refused before anything changes; the new
 * router starts before the old one stops, so the app answers throughout.
 */
export const routerPortCommand: CommandModule<GlobalOptions, RouterPortOptions> = {
    command: "router:port [port]",
    describe: "Show the router's host port, or move the router to another port",
    builder: (y) =>
        withUp(y)
            .positional("port", { type: "string", describe: "New host port (1-65535)" })
            .example("$0 router:port", "the current port")
            .example("$0 router:port 5200", "serve the app on http://127.0.0.1:5200"),
    handler: async (argv) => {
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const { settings } = readStackFile(dir, argv.stack);
        if (argv.port === undefined) {
            const shown = settings.routerPort === undefined ? null : settings.routerPort;
            process.stdout.write(argv.json ? JSON.stringify({ routerPort: shown }) + "\n" : `${shown ?? "no router port set"}\n`);
            return;
        }
        const port = parsePort(String(argv.port));
        if (argv.up) {
            await ensureDockerEngine(silentReporter);
            await checkRouterPort(settings.app, argv.stack, port, settings.routerHost);
        }
        await editAndDeploy(argv, {
            set: [{ path: configPath("routerPort"), value: String(port) }],
            remove: [],
            preview: (view) => {
                view.settings.routerPort = port;
            },
            description: `Router port ${settings.routerPort ?? "-"} -> ${port}`,
        });
    },
};
