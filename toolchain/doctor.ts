import { connectDocker, DEFAULT_DOCKER_HOST } from "../infra/docker/client";
import { passphraseFile } from "./passphrase";
import { BaseImageStatus, ensureBaseImages } from "./base-images";
import { pulumiEnvironment } from "./backend";
import { DockerEngineStatus, ensureDockerEngine } from "./docker-engine";
import { PulumiCliStatus, ensurePulumiCli } from "./pulumi-cli";
import { Reporter, timed } from "./report";

/** Everything the bootstrap made sure of. */
export interface Toolchain {
    docker: DockerEngineStatus;
    pulumi: PulumiCliStatus;
    images: BaseImageStatus;
    env: Record<string, string>;
}

/**
 * Idempotent bootstrap: a Docker engine that answers, a Pulumi CLI of the pinned version,
 * the base images, and the Pulumi environment (state backend, passphrase, offline flags).
 * Prints one line per step with what it found or did and how long it took.
 */
export async function ensureToolchain(report: Reporter): Promise<Toolchain> {
    const docker = await timed(report, (d) => `docker: engine ${d.version} at ${d.host} (${d.memoryMiB ? `API ${d.apiVersion}, ${d.memoryMiB} MiB, ` : ""}${d.action})`, () =>
        ensureDockerEngine(report),
    );
    const pulumi = await timed(report, (p) => `pulumi: CLI v${p.version} in ${p.root} (${p.action})`, () =>
        ensurePulumiCli(report, { rebuildStale: true }),
    );
    const images = await timed(
        report,
        (s) => "images: " + Object.entries(s).map(([n, v]) => `${n}=${v.ref} (${v.action})`).join(", "),
        () => ensureBaseImages(report, connectDocker(), docker.host !== DEFAULT_DOCKER_HOST ? connectDocker(DEFAULT_DOCKER_HOST) : undefined),
    );
    const env = pulumiEnvironment(pulumi.binDir);
    const own = process.env.PULUMI_CONFIG_PASSPHRASE || process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
    report(`state: ${env.PULUMI_BACKEND_URL}${own ? "" : ` (secrets under this machine's passphrase in ${passphraseFile()}; set PULUMI_CONFIG_PASSPHRASE for shared state)`}`);
    return { docker, pulumi, images, env };
}
