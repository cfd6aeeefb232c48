import * as os from "os";
import * as path from "path";

/**
 * The per-user Dynoform folder: toolchain builds, the local state backend, base image
 * records and daemon logs live here, never in the repository. `DYNOFORM_HOME` overrides it.
 */
export function dynoformHome(): string {
    return process.env.DYNOFORM_HOME || path.join(os.homedir(), ".dynoform");
}

/** The repository (or installed package) root: the folder holding Pulumi.yaml and package.json. */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..");

export const paths = {
    toolchain: () => path.join(dynoformHome(), "toolchain"),
    state: () => path.join(dynoformHome(), "state"),
    pulumiHome: () => path.join(dynoformHome(), "pulumi-home"),
    logs: () => path.join(dynoformHome(), "logs"),
    images: () => path.join(dynoformHome(), "images"),
    dockerData: () => process.env.DYNOFORM_DOCKER_DATA_ROOT || "/var/lib/docker",
};
