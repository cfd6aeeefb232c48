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

/** The file the last bootstrap recorded the base images in. */
export function recordFile(): string {
    return path.join(paths.images(), "base-images.json");
}

/** The base image references recorded by the last bootstrap, or a clear error when there are none. */
export function recordedBaseImages(): BaseImageRefs {
    const file = recordFile();
    if (!fs.existsSync(file)) {
        throw new Error(`no base images recorded in ${file}: run \`npx dynoform doctor\` first`);
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as BaseImageRefs;
}
