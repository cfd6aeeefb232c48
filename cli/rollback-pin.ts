import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import type { StackSettings } from "../infra/settings";
import { stackFile } from "./project";

// `rollback` runs an earlier release's image by pinning it in the stack file (`dynoform:image`).
// As on Heroku, the pin lasts until new code is deployed: it is recorded with the source's
// content hash, and the first deploy that finds the source changed drops it and builds.

/** The content hash of a source folder, as the image build computes it. */
export function sourceHash(source: string): string {
    // Loaded here: image-ops brings the Pulumi SDK, which read-only commands never load.
    const { contentHash } = require("../infra/docker/image-ops") as typeof import("../infra/docker/image-ops");
    return contentHash({ context: source });
}

/**
 * Whether a rollback's image pin is stale: set by `rollback` (with the hash) and the source
 * folder no longer has the content it had then. A promoted image (no hash) is never stale.
 */
export function stalePin(dir: string, settings: Pick<StackSettings, "image" | "source" | "rollbackSourceHash">): boolean {
    if (!settings.image || !settings.rollbackSourceHash || !settings.source) return false;
    const source = path.resolve(dir, settings.source);
    return fs.existsSync(source) && sourceHash(source) !== settings.rollbackSourceHash;
}

/** Removes the rollback pin (`dynoform:image`, `dynoform:rollbackSourceHash`) from the stack file, keeping the rest as written. */
export function dropPin(dir: string, stack: string): void {
    const file = stackFile(dir, stack);
    const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
    doc.deleteIn(["config", "dynoform:image"]);
    doc.deleteIn(["config", "dynoform:rollbackSourceHash"]);
    fs.writeFileSync(file, doc.toString());
}
