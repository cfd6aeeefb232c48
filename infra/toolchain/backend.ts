import * as fs from "fs";
import * as path from "path";
import { paths } from "./paths";

/** The passphrase used when none is given: fine for a workstation, never for shared state. */
export const LOCAL_DEV_PASSPHRASE = "dynoform-local-dev";

/**
 * Environment for the Pulumi CLI: an embedded `file://` state backend under DYNOFORM_HOME
 * (PULUMI_BACKEND_URL overrides it), a passphrase secrets provider (PULUMI_CONFIG_PASSPHRASE
 * or PULUMI_CONFIG_PASSPHRASE_FILE override the local-dev default), no update checks and no
 * plugin downloads, and the toolchain's bin folder first on PATH.
 */
export function pulumiEnvironment(binDir: string): Record<string, string> {
    const backend = process.env.PULUMI_BACKEND_URL || `file://${paths.state()}`;
    if (backend.startsWith("file://")) {
        fs.mkdirSync(backend.slice("file://".length), { recursive: true });
    }
    fs.mkdirSync(paths.pulumiHome(), { recursive: true });
    const env: Record<string, string> = {
        PULUMI_BACKEND_URL: backend,
        PULUMI_HOME: process.env.PULUMI_HOME || paths.pulumiHome(),
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        PATH: [binDir, process.env.PATH ?? ""].join(path.delimiter),
    };
    if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
        env.PULUMI_CONFIG_PASSPHRASE = LOCAL_DEV_PASSPHRASE;
    }
    return env;
}
