import { CommandModule } from "yargs";
import { say } from "../deploy";
import { onEdge, setAndSync } from "../edge";
import { answer, beforeEdgeChange, readEdgeStack } from "../edge-command";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

/** `dynoform maintenance`: whether the app is in maintenance mode. */
export const maintenanceCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "maintenance",
    describe: "Show whether the app is in maintenance mode",
    handler: async (argv) => {
        const on = readEdgeStack(argv).settings.maintenance === true;
        answer(argv, { maintenance: on }, on ? "on" : "off");
    },
};

/**
 * Turns maintenance mode on or off: the edge router answers the app's requests with a 503 page,
 * or routes them again. Dynos, add-ons and `run` are not touched.
 */
export async function setMaintenance(argv: GlobalOptions, on: boolean): Promise<void> {
    const s = readEdgeStack(argv);
    if (!onEdge(s.settings)) {
        throw new UsageError(`maintenance:${on ? "on" : "off"}: ${s.settings.app} is not on the edge router, which serves the maintenance page: \`dynoform domains:add <domain>\` first; nothing was changed`);
    }
    await beforeEdgeChange(s);
    s.settings.maintenance = on;
    await setAndSync(s.dir, s.stack, s.settings, "maintenance", on ? true : undefined);
    say(`maintenance mode ${on ? "on" : "off"}: stacks/Pulumi.${s.stack}.yaml updated`);
    answer(argv, { maintenance: on }, `maintenance mode is ${on ? "on: the app answers 503 with a page" : "off"}`);
}
