import assert from "node:assert/strict";
import { test } from "node:test";
import { connectDocker } from "../../../infra/docker/client";
import { taskImage, waitUntilListening } from "../../../infra/swarm/tasks";
import { recordedBaseImages } from "../../../toolchain/base-image-refs";
import { describeLive } from "../../support/engines";

// waitUntilListening, which holds a cluster deploy until the web dynos and the router take
// connections, on the local engine: a bridge network where a network alias stands for
// `tasks.<service>` (several containers answer to it, as a service's tasks do).
describeLive("waitUntilListening: the tasks of a service accept connections", () => {
    test("returns once every task listens (one only after 2 s), and fails naming how many did when one never does", async () => {
        const docker = connectDocker();
        const image = recordedBaseImages().node;
        const tag = `dfls${process.pid}`;
        const made: Array<{ remove(o: object): Promise<unknown> }> = [];
        await docker.createNetwork({ Name: tag, Labels: { "dev.dynoform.test": tag } });
        // A dyno that starts listening on 5000 after `delayMs`; a negative delay: never.
        const dyno = async (delayMs: number) => {
            const listen = delayMs < 0 ? "setInterval(() => {}, 1000)" : `setTimeout(() => require("net").createServer().listen(5000), ${delayMs})`;
            const c = await docker.createContainer({
                Image: image,
                Cmd: ["node", "-e", listen],
                HostConfig: { NetworkMode: tag },
                NetworkingConfig: { EndpointsConfig: { [tag]: { Aliases: ["tasks.shop-prod-web"] } } },
            });
            made.push(c);
            await c.start();
            return c;
        };
        const wait = (count: number, timeoutMs: number) =>
            waitUntilListening(docker, { service: "shop-prod-web", network: tag, port: 5000, count, probeImage: image, timeoutMs });
        try {
            await dyno(0);
            const late = await dyno(2000);
            const started = Date.now();
            await wait(2, 30_000);
            const waited = Date.now() - started;
            const { State } = await late.inspect();
            assert.ok(Date.now() - Date.parse(State.StartedAt) >= 2000, `returned ${waited} ms after it was called, once the late dyno listened`);

            await dyno(-1);
            await assert.rejects(wait(3, 3000), /service shop-prod-web: 2 of 3 tasks accept connections on port 5000 after 3 s \(3 addresses\)/);
        } finally {
            for (const c of made.reverse()) await c.remove({ force: true }).catch(() => undefined);
            await docker.getNetwork(tag).remove().catch(() => undefined);
        }
    });

    test("taskImage: a local image by its ID; a registry digest, an ID or an image the engine lacks as it is", async () => {
        const docker = connectDocker();
        const ref = recordedBaseImages().node;
        const id = (await docker.getImage(ref).inspect()).Id;
        assert.match(id, /^sha256:[0-9a-f]{64}$/);
        assert.equal(await taskImage(docker, ref), id);
        assert.equal(await taskImage(docker, id), id);
        const digest = `127.0.0.1:5000/hello@sha256:${"a".repeat(64)}`;
        assert.equal(await taskImage(docker, digest), digest);
        assert.equal(await taskImage(docker, "dynoform/no-such-image:0"), "dynoform/no-such-image:0");
    });
});
