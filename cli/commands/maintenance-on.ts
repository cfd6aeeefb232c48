import { CommandModule } from "yargs";
import { GlobalOptions } from "../options";
import { setMaintenance } from "./maintenance";

/** `dynoform maintenance:on`: the edge router answers 503 with a maintenance page; dynos keep running. */
export const maintenanceOnCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "maintenance:on",
    describe: "Answer the app's requests with a 503 maintenance page",
    handler: (argv) => setMaintenance(argv, true),
};
