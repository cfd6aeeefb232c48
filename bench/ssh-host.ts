/**
 * Benchmark: a stack on a server over SSH against the same stack on the local engine, in one
 * process. `up` of examples/hello (the image already on that engine, as on every deploy but the
 * first: a warm-up `up` and `destroy` build it) to a test host and locally, and the image
 * transfer rate of `promote` across hosts: the app image the local stack runs streamed to the
 * server's engine (save | load over the two APIs, as `promote` and `copyImages` do).
 *
 * Run as root (test hosts are network namespaces): `npm run build && node dist/bench/ssh-host.js`.
 */
import { appProject } from "../test/support/app-project";
import { freePort } from "../test/support/harness";
import { startTestHosts } from "../test/support/test-hosts";
import { copyImages, recordedBaseImages } from "../toolchain/base-images";
import { connectDocker } from "../infra/docker/client";
import { LABEL } from "../infra/docker/labels";
import { fmt, machineLine, timed } from "./support";

/** Seconds of a second `up` of examples/hello (the first builds the image), and the image its web dyno ran. */
async function timedUp(settings: Record<string, unknown>): Promise<{ seconds: number; imageId: string }> {
    const project = await appProject("hello", settings);
    const check = (r: { code: number; stderr: string }, what: string) => {
        if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stderr}`);
    };
    try {
        check(await project.cli(["up", "--yes"]), "warm-up up");
        check(await project.cli(["destroy", "--confirm", project.app]), "destroy");
        let r = { code: 0, stdout: "", stderr: "" };
        const seconds = await timed(async () => (r = await project.cli(["up", "--yes"])));
        check(r, "timed up");
        const engine = connectDocker(typeof settings.dockerHost === "string" ? settings.dockerHost : undefined);
        const [web] = await engine.listContainers({ filters: { label: [`${LABEL.stack}=${project.stack}`, `${LABEL.processType}=web`] } });
        return { seconds, imageId: web.ImageID };
    } finally {
        await project.cleanup();
    }
}

async function main(): Promise<void> {
    console.log(`bench/ssh-host.ts; ${machineLine()}`);
    const hosts = await startTestHosts(1, Object.values(recordedBaseImages()));
    try {
        const host = hosts.hosts[0];
        const local = await timedUp({ routerPort: String(await freePort()) });
        const remote = await timedUp({ routerPort: "5000", dockerHost: host.dockerHost });
        console.log(`up of examples/hello: local engine ${fmt(local.seconds)} s, test host over SSH ${fmt(remote.seconds)} s (ratio ${(remote.seconds / local.seconds).toFixed(2)})`);
        // The image built locally is one the server's own build did not make (another ID); an earlier run may have copied it.
        await host.engine.getImage(local.imageId).remove({ force: true }).catch(() => undefined);
        const [copy] = await copyImages(connectDocker(), connectDocker(host.dockerHost), [local.imageId]);
        if (copy.bytes === 0) throw new Error(`the server already had ${local.imageId}: nothing was transferred`);
        const mb = copy.bytes / 1e6;
        console.log(`promote's image transfer, local engine -> test host over SSH: ${local.imageId.slice(7, 19)} ${mb.toFixed(0)} MB in ${fmt(copy.ms / 1000)} s = ${(mb / (copy.ms / 1000)).toFixed(1)} MB/s`);
        console.log(machineLine());
    } finally {
        await hosts.teardown();
    }
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
