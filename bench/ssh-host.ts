/**
 * Benchmark: a stack on a server over SSH against the same stack on the local engine. `up` of
 * examples/hello (new stacks, so every container is created; the app image is reused where the
 * engine has it, as on a second deploy) to a test host and locally, and the image transfer rate
 * of engine-to-engine copies (`promote` across hosts, base images on a new server).
 *
 * Run (root): `npx tsc -p . && node dist/bench/ssh-host.js`.
 */
import { appProject } from "../test/support/app-project";
import { freePort } from "../test/support/harness";
import { startTestHosts } from "../test/support/test-hosts";
import { copyImages, recordedBaseImages } from "../toolchain/base-images";
import { connectDocker } from "../infra/docker/client";

async function timedUp(settings: Record<string, unknown>): Promise<number> {
    const project = await appProject("hello", settings);
    try {
        // A first up builds the image on that engine if it lacks it; the timed one reuses it.
        const warm = await project.cli(["up", "--yes"]);
        if (warm.code !== 0) throw new Error(warm.stderr);
        await project.cli(["destroy", "--confirm", project.app]);
        const started = Date.now();
        const r = await project.cli(["up", "--yes"]);
        if (r.code !== 0) throw new Error(r.stderr);
        return (Date.now() - started) / 1000;
    } finally {
        await project.cleanup();
    }
}

async function main(): Promise<void> {
    const hosts = await startTestHosts(1, Object.values(recordedBaseImages()));
    try {
        const host = hosts.hosts[0];
        const local = await timedUp({ routerPort: String(await freePort()) });
        const remote = await timedUp({ routerPort: "5000", dockerHost: host.dockerHost });
        console.log(`up of examples/hello: local ${local.toFixed(1)} s, over SSH to a test host ${remote.toFixed(1)} s (ratio ${(remote / local).toFixed(2)})`);
        const node = recordedBaseImages().node;
        await host.engine.getImage(node).remove({ force: true });
        const [copy] = await copyImages(connectDocker(), connectDocker(host.dockerHost), [node]);
        const mb = copy.bytes / 1e6;
        console.log(`image transfer local -> test host over SSH: ${node} ${mb.toFixed(0)} MB in ${(copy.ms / 1000).toFixed(1)} s = ${(mb / (copy.ms / 1000)).toFixed(1)} MB/s`);
    } finally {
        await hosts.teardown();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
