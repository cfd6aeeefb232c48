import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { paths } from "./paths";

// The base images' names and the record `dynoform doctor` writes, apart from the code that
// builds and copies them (base-images.ts, which needs dockerode): the components read these.

/** The runtime images Dynoform needs: built apps run on `node`, add-ons on `postgres`/`redis`, the router on `nginx`. */
export type BaseImageName = "node" | "postgres" | "redis" | "nginx";

export const BASE_IMAGE_NAMES: BaseImageName[] = ["node", "postgres", "redis", "nginx"];

/** Where each base image came from. Written by `dynoform doctor`, read by the Pulumi program. */
export type BaseImageRefs = Record<BaseImageName, string>;

/**
 * The file the last bootstrap of a Docker host recorded its base images in: one per host, so a
 * server's images (an official one it has, say) never stand in for the local engine's.
 * `dockerHost`: the DOCKER_HOST a command runs against (the stack's host); unset or a unix
 * socket is the local engine. Pure but for the folder.
 */
export function recordFile(dockerHost = process.env.DOCKER_HOST): string {
    const local = !dockerHost || dockerHost.startsWith("unix://");
    const suffix = local ? "" : `-${crypto.createHash("sha256").update(dockerHost).digest("hex").slice(0, 12)}`;
    return path.join(paths.images(), `base-images${suffix}.json`);
}

/**
 * The base image references recorded by the last bootstrap of the command's Docker host (the
 * local engine's when `doctor` never ran against that host), or a clear error when there are none.
 */
export function recordedBaseImages(): BaseImageRefs {
    const own = recordFile();
    const file = fs.existsSync(own) ? own : recordFile("");
    if (!fs.existsSync(file)) {
        throw new Error(`no base images recorded in ${file}: run \`npx dynoform doctor\` first`);
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as BaseImageRefs;
}
