import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { Stack } from "@pulumi/pulumi/automation";
import { connectDocker } from "../../../infra/docker/client";
import { Image, ImageArgs } from "../../../infra/docker/image";
import { CONTENT_HASH_LABEL, contentHash } from "../../../infra/docker/image-ops";
import { DOCKERIGNORE } from "../../../cli/commands/init";
import { testProject, TestProject } from "../../support/harness";
import { engineEvents, runOnce } from "../../support/docker";
import { describeLive } from "../../support/engines";
import { folder, tmpFolder, write } from "../../support/tmp-folders";

// The Image provider on a real Docker engine, through the Pulumi engine (pure parts: image.test.ts).

const IMAGE_TYPE = "pulumi-nodejs:dynamic/docker:Image";



let project: TestProject | undefined;
/** A stack holding one Image whose args the test may change between operations. */
async function imageStack(p: TestProject, name: string, args: () => ImageArgs): Promise<Stack> {
    return p.stack(async () => {
        const image = new Image("img", { repository: `${p.id}/${name}`, ...args() });
        return { imageId: image.imageId, imageRef: image.imageRef, generated: image.generatedDockerfile };
    }, `${p.id}-${name}`);
}

describeLive("on a real Docker engine through the Pulumi engine", { concurrency: true }, () => {
    before(async () => {
        project = await testProject("image");
    });
    after(async () => {
        await project?.cleanup();
        if (!project) return;
        const docker = connectDocker();
        for (const img of await docker.listImages({ filters: { reference: [`${project.id}/*`] } }).catch(() => [])) {
            await docker.getImage(img.Id).remove({ force: true }).catch(() => undefined);
        }
    });

    test("Dockerfile build: rebuilt only when the content changes", async (t) => {
        const p = project!;
        const src = tmpFolder({
            Dockerfile: `FROM ${p.images.node}\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n`,
            "hello.txt": "hello v1\n",
            ".dockerignore": "*.md\n",
            "README.md": "notes\n",
        });
        const stack = await imageStack(p, "dockerfile", () => ({ context: src }));

        const up = await stack.up();
        assert.deepEqual(up.summary.resourceChanges, { create: 2 });
        const ref = up.outputs.imageRef.value as string;
        const firstId = up.outputs.imageId.value as string;
        assert.equal(up.outputs.generated.value, false);
        assert.match(ref, new RegExp(`^${p.id}/dockerfile:[0-9a-f]{12}$`));
        const info = await connectDocker().getImage(ref).inspect();
        assert.equal(info.Id, firstId, "imageId is the built image's ID");
        assert.equal(info.Config.Labels[CONTENT_HASH_LABEL].slice(0, 12), ref.split(":")[1]);
        assert.equal((await runOnce(ref, "cat /hello.txt")).output, "hello v1\n");

        assert.deepEqual((await stack.preview()).changeSummary, { same: 2 }, "unchanged source: nothing to do");
        write(src, "README.md", "more notes\n");
        assert.deepEqual((await stack.preview()).changeSummary, { same: 2 }, "an ignored file changed: nothing to do");

        write(src, "hello.txt", "hello v2\n");
        const ev = engineEvents();
        const preview = await stack.preview({ onEvent: ev.onEvent });
        assert.deepEqual(preview.changeSummary, { same: 1, update: 1 });
        const step = ev.steps(IMAGE_TYPE).find((m) => m.op === "update");
        assert.deepEqual(step?.diffs, ["contentHash"], "the diff names the content hash");

        const up2 = await stack.up();
        assert.deepEqual(up2.summary.resourceChanges, { same: 1, update: 1 });
        const ref2 = up2.outputs.imageRef.value as string;
        assert.notEqual(up2.outputs.imageId.value, firstId, "a new image ID");
        assert.notEqual(ref2, ref);
        assert.equal((await runOnce(ref2, "cat /hello.txt")).output, "hello v2\n");
        assert.equal((await connectDocker().getImage(ref).inspect()).Id, firstId, "the old image is kept for rollback");
        assert.deepEqual((await stack.preview()).changeSummary, { same: 2 });
    });

    test("Node.js app without a Dockerfile: production dependencies only, no host node_modules or .env, uid 1000", async (t) => {
        const p = project!;
        const src = tmpFolder({
            "package.json": JSON.stringify({
                name: "tiny",
                version: "1.0.0",
                scripts: { start: "node index.js" },
                dependencies: { ms: "2.1.3" },
                devDependencies: { "is-number": "7.0.0" },
            }),
            "package-lock.json": JSON.stringify(LOCKFILE),
            "index.js": 'console.log(require("ms")(60000));\n',
            "node_modules/host-only/index.js": "module.exports = 1;\n",
            "node_modules/ms/index.js": "module.exports = () => 'from the host';\n",
            ".env": "SECRET=do-not-ship\n",
        });
        const stack = await imageStack(p, "nodeapp", () => ({ context: src, nodeBaseImage: p.images.node }));
        const up = await stack.up();
        assert.deepEqual(up.summary.resourceChanges, { create: 2 });
        assert.equal(up.outputs.generated.value, true);
        const ref = up.outputs.imageRef.value as string;
        assert.equal((await connectDocker().getImage(ref).inspect()).Config.User, "1000");

        const run = await runOnce(ref, "id -u; ls -a /app | tr '\\n' ' '; echo; ls /app/node_modules | tr '\\n' ' '; echo; node index.js");
        assert.equal(run.exitCode, 0, run.output);
        const [uid, appFiles, modules, started] = run.output.trim().split("\n");
        assert.equal(uid, "1000", "runs as uid 1000");
        assert.deepEqual(modules.trim().split(" "), ["ms"], "production dependency only: no devDependency, no host module");
        assert.equal(started, "1m", "the installed ms, not the host's copy");
        assert.ok(!appFiles.split(" ").includes(".env"), ".env is not shipped");
        assert.ok(appFiles.split(" ").includes("index.js"));

        write(src, "node_modules/host-only/index.js", "module.exports = 2;\n");
        write(src, ".env", "SECRET=changed\n");
        assert.deepEqual((await stack.preview()).changeSummary, { same: 2 }, "host node_modules and .env are not content");
    });

    test("init's .dockerignore (and the one older inits wrote, listing the generated Dockerfile): the generated build still gets its Dockerfile", async (t) => {
        const p = project!;
        // Issue 11: dockerode filtered the built context again with this file and dropped
        // Dockerfile.dynoform ("Cannot locate specified Dockerfile").
        for (const [name, ignore] of [["initignore", DOCKERIGNORE], ["oldinitignore", `${DOCKERIGNORE}Dockerfile.dynoform\n`]]) {
            const src = tmpFolder({
                "package.json": JSON.stringify({ name: "tiny", version: "1.0.0", scripts: { start: "node index.js" } }),
                "index.js": 'console.log("started");\n',
                "Procfile": "web: node index.js\n",
                ".dockerignore": ignore,
                "stacks/Pulumi.dev.yaml": "config: {}\n",
            });
            // Written under umask 077: the dyno's uid 1000 must still read it.
            fs.chmodSync(path.join(src, "index.js"), 0o600);
            const stack = await imageStack(p, name, () => ({ context: src, nodeBaseImage: p.images.node }));
            const up = await stack.up();
            assert.equal(up.outputs.generated.value, true);
            const run = await runOnce(up.outputs.imageRef.value as string, "ls -a /app | tr '\\n' ' '; node index.js");
            assert.equal(run.exitCode, 0, run.output);
            assert.match(run.output, /started/);
            assert.ok(!run.output.includes("stacks"), `the stack files are not shipped: ${run.output}`);
        }
    });

    test("a Dockerfile that .dockerignore lists is still sent (and nothing else it lists)", async (t) => {
        const p = project!;
        const src = tmpFolder({
            Dockerfile: `FROM ${p.images.node}\nCOPY . /src/\nCMD ["ls", "/src"]\n`,
            ".dockerignore": "Dockerfile\n.dockerignore\n*.md\n",
            "hello.txt": "hi\n",
            "README.md": "notes\n",
        });
        const stack = await imageStack(p, "ignoreddockerfile", () => ({ context: src }));
        const up = await stack.up();
        const run = await runOnce(up.outputs.imageRef.value as string, "ls -a /src | tr '\\n' ' '");
        assert.equal(run.exitCode, 0, run.output);
        const shipped = run.output.trim().split(" ");
        assert.ok(shipped.includes("hello.txt") && !shipped.includes("README.md"), run.output);
    });

    test("a failing build: the error carries the build log's last lines", async (t) => {
        const p = project!;
        const src = tmpFolder({
            Dockerfile: `FROM ${p.images.node}\nRUN echo build-step-marker-1 && echo build-step-marker-2 >&2 && exit 7\n`,
        });
        const stack = await imageStack(p, "broken", () => ({ context: src }));
        const ev = engineEvents();
        await assert.rejects(stack.up({ onEvent: ev.onEvent }));
        const [message] = ev.errors().filter((m) => m.includes("image build"));
        assert.ok(message, JSON.stringify(ev.errors()));
        assert.match(message, new RegExp(`image build for ${src} failed: The command .*returned a non-zero code: 7`));
        assert.match(message, /last lines of the build log:\n(.*\n)*.*build-step-marker-1/);
        assert.match(message, /build-step-marker-2/);
    });

    test("a prebuilt ref: its local image ID, or a clear error when it is nowhere", async (t) => {
        const p = project!;
        let ref = p.images.node;
        const stack = await imageStack(p, "prebuilt", () => ({ ref }));
        const up = await stack.up();
        assert.equal(up.outputs.imageId.value, (await connectDocker().getImage(p.images.node).inspect()).Id);
        assert.equal(up.outputs.imageRef.value, p.images.node);

        ref = `${p.id}/no-such-image:1`;
        const ev = engineEvents();
        await assert.rejects(stack.up({ onEvent: ev.onEvent }));
        const [message] = ev.errors().filter((m) => m.includes("no-such-image"));
        assert.match(message ?? JSON.stringify(ev.errors()), new RegExp(`image ${p.id}/no-such-image:1 could not be pulled \\(.+\\) and is not on the Docker host`));
    });
});

/** package-lock.json (v3) for ms 2.1.3 with is-number 7.0.0 as a devDependency. */
const LOCKFILE = {
    name: "tiny",
    version: "1.0.0",
    lockfileVersion: 3,
    requires: true,
    packages: {
        "": {
            name: "tiny",
            version: "1.0.0",
            dependencies: { ms: "2.1.3" },
            devDependencies: { "is-number": "7.0.0" },
        },
        "node_modules/is-number": {
            version: "7.0.0",
            resolved: "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
            integrity: "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==",
            dev: true,
            license: "MIT",
            engines: { node: ">=0.12.0" },
        },
        "node_modules/ms": {
            version: "2.1.3",
            resolved: "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
            integrity: "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
            license: "MIT",
        },
    },
};
