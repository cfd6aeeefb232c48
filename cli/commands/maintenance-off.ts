import { CommandModule } from "yargs";
import { GlobalOptions } from "../options";
import { setMaintenance } from "./maintenance";

/** `dynoform maintenance:off`: the edge router routes the app's requests to its dynos again. */
export const maintenanceOffCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "maintenance:off",
    describe: "Route the app's requests to its dynos again",
    handler: (argv) => setMaintenance(argv, false),
};
