import { CommandModule } from "yargs";
import { ensureDockerEngine } from "../../toolchain/docker-engine";
import { silentReporter } from "../../toolchain/report";
import { say } from "../deploy";
import { onEdge, setAndSync } from "../edge";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { readStackFile } from "../stack-settings";

/** `dynoform maintenance`: whether the app is in maintenance mode. */
export const maintenanceCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "maintenance",
    describe: "Show whether the app is in maintenance mode",
    handler: async (argv) => {
        const dir = projectDir(argv);
        checkStack(dir, argv.stack);
        const on = readStackFile(dir, argv.stack).settings.maintenance === true;
        process.stdout.write(argv.json ? JSON.stringify({ maintenance: on }) + "\n" : `${on ? "on" : "off"}\n`);
    },
};

/**
 * Turns maintenance mode on or off: the edge router answers the app's requests with a 503 page,
 * or routes them again. Dynos, add-ons and `run` are not touched.
 */
export async function setMaintenance(argv: GlobalOptions, on: boolean): Promise<void> {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    const { settings } = readStackFile(dir, argv.stack);
    if (!onEdge(settings)) {
        throw new UsageError(`maintenance:${on ? "on" : "off"}: ${settings.app} is not on the edge router, which serves the maintenance page: \`dynoform domains:add <domain>\` first; nothing was changed`);
    }
    await ensureDockerEngine(silentReporter);
    settings.maintenance = on;
    await setAndSync(dir, argv.stack, settings, "maintenance", on ? true : undefined);
    say(`maintenance mode ${on ? "on" : "off"}: stacks/Pulumi.${argv.stack}.yaml updated`);
    process.stdout.write(argv.json ? JSON.stringify({ maintenance: on }) + "\n" : `maintenance mode is ${on ? "on: the app answers 503 with a page" : "off"}\n`);
}
