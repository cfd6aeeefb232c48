import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { attachmentUrl } from "../../components/addon";
import { App, AppArgs, releaseIdOf, validateAppArgs } from "../../components/app";
import { DynoformInputError } from "../../components/errors";
import { BASE_IMAGES, installMocks, isSecret, promiseOf, Recorder, Registered, T } from "../support/mocks";

const HELLO = path.resolve(__dirname, "../../../examples/hello");

/** The example app as the brief's main case: 2 web, 1 standard-2x worker, a release command, two add-ons. */
function helloArgs(extra: Partial<AppArgs> = {}): AppArgs {
    return {
        source: HELLO,
        formation: { web: { quantity: 2 }, worker: { quantity: 1, size: "standard-2x" } },
        config: { LOG_LEVEL: "debug" },
        routerPort: 8080,
        baseImages: BASE_IMAGES,
        ...extra,
    };
}

/** A prebuilt-image app with its Procfile as text: no files read. */
function imageArgs(extra: Partial<AppArgs> = {}): AppArgs {
    return {
        image: "registry.local/demo:1",
        procfile: "web: node index.js\nworker: node worker.js\nrelease: node migrate.js\n",
        routerPort: 8081,
        baseImages: BASE_IMAGES,
        ...extra,
    };
}

/** Builds an App on fresh mocks and waits until every registration has answered. */
async function build(name: string, args: AppArgs): Promise<{ rec: Recorder; app: App }> {
    const rec = installMocks();
    const app = new App(name, args);
    await promiseOf(app.releaseVersion);
    await rec.settle();
    return { rec, app };
}

function dynosOf(rec: Recorder, processType?: string): Registered[] {
    return rec
        .ofType(T.Dyno)
        .filter((d) => rec.ancestors(d).some((a) => a.startsWith(`${T.Formation} `)))
        .filter((d) => processType === undefined || d.inputs.processType === processType);
}

function dynoNames(rec: Recorder, processType?: string): string[] {
    return dynosOf(rec, processType)
        .map((d) => d.name)
        .sort();
}

/** Every release id a built app handed to its children (they must all agree). */
function releaseIdsOf(rec: Recorder): string[] {
    return [
        ...dynosOf(rec).map((d) => d.inputs.release),
        ...rec.ofType(T.ReleasePhase).map((r) => r.inputs.release),
        ...rec.ofType(T.Release).map((r) => r.inputs.releaseId),
    ];
}

function singleReleaseId(rec: Recorder): string {
    const ids = new Set(releaseIdsOf(rec));
    assert.equal(ids.size, 1, `children disagree on the release id: ${[...ids].join(", ")}`);
    return [...ids][0];
}

describe("releaseIdOf (pure)", () => {
    test("is a 12-hex-digit keyed hash, equal for equal inputs whatever the key order", () => {
        const a = releaseIdOf("salt", "sha256:1", { A: "1", B: "2" });
        assert.match(a, /^[0-9a-f]{12}$/);
        assert.equal(releaseIdOf("salt", "sha256:1", { B: "2", A: "1" }), a);
    });

    test("changes with a config value, a config key, the image or the salt", () => {
        const base = releaseIdOf("salt", "sha256:1", { A: "1" });
        assert.notEqual(releaseIdOf("salt", "sha256:1", { A: "2" }), base);
        assert.notEqual(releaseIdOf("salt", "sha256:1", { A: "1", B: "" }), base);
        assert.notEqual(releaseIdOf("salt", "sha256:2", { A: "1" }), base);
        assert.notEqual(releaseIdOf("pepper", "sha256:1", { A: "1" }), base);
    });

    test("does not confuse a value boundary with a key boundary", () => {
        assert.notEqual(releaseIdOf("s", "i", { A: "1,B" }), releaseIdOf("s", "i", { A: "1", B: "" }));
    });
});

describe("validateAppArgs (pure)", () => {
    test("reads the example's Procfile and app.json", () => {
        const { appName, definition } = validateAppArgs("hello", helloArgs());
        assert.equal(appName, "hello");
        assert.deepEqual(
            definition.plan.map((p) => [p.type, p.quantity, p.size.name]),
            [
                ["web", 2, "standard-1x"],
                ["worker", 1, "standard-2x"],
            ],
        );
        assert.equal(definition.releaseCommand, "node release.js");
        assert.deepEqual(
            definition.addons.map((a) => [a.name, a.plan, a.varName]),
            [
                ["postgres", "postgres", "DATABASE_URL"],
                ["redis", "redis", "REDIS_URL"],
            ],
        );
        assert.deepEqual(definition.generatedSecrets, ["SESSION_SECRET"]);
        assert.deepEqual(definition.configDefaults, { GREETING: "Hello" });
    });

    test("args.name overrides the resource name as the app name", () => {
        assert.equal(validateAppArgs("res", imageArgs({ name: "other" })).appName, "other");
    });
});

describe("App: the resource graph", () => {
    test("registers exactly the expected resources, each under the expected parent", async () => {
        const { rec } = await build("hello", helloArgs());
        // name -> [type, parent name]
        const expected: Record<string, [string, string | undefined]> = {
            hello: [T.App, undefined],
            "hello-net": [T.Network, "hello"],
            "hello-image": [T.Image, "hello"],
            "hello-postgres": [T.AddOn, "hello"],
            "hello-postgres-password": [T.RandomSecret, "hello-postgres"],
            "hello-postgres-data": [T.Volume, "hello-postgres"],
            "hello-postgres-server": [T.Dyno, "hello-postgres"],
            "hello-redis": [T.AddOn, "hello"],
            "hello-redis-password": [T.RandomSecret, "hello-redis"],
            "hello-redis-data": [T.Volume, "hello-redis"],
            "hello-redis-server": [T.Dyno, "hello-redis"],
            "hello-config-session-secret": [T.RandomSecret, "hello"],
            "hello-release-salt": [T.RandomSecret, "hello"],
            "hello-release-phase": [T.ReleasePhase, "hello"],
            "hello-web": [T.Formation, "hello"],
            "hello-web-1": [T.Dyno, "hello-web"],
            "hello-web-2": [T.Dyno, "hello-web"],
            "hello-worker": [T.Formation, "hello"],
            "hello-worker-1": [T.Dyno, "hello-worker"],
            "hello-router": [T.Router, "hello"],
            "hello-router-conf": [T.Volume, "hello-router"],
            "hello-router-nginx": [T.Dyno, "hello-router"],
            "hello-router-config": [T.RouterConfig, "hello-router"],
            "hello-release": [T.Release, "hello"],
        };
        assert.deepEqual(
            rec.summary(),
            Object.entries(expected)
                .map(([name, [type]]) => `${type} ${name}`)
                .sort(),
        );
        for (const [name, [type, parent]] of Object.entries(expected)) {
            const r = rec.get(type, name);
            if (parent === undefined) {
                assert.equal(r.parent, "", `${name} is a root resource`);
                continue;
            }
            const p = rec.resources.find((x) => x.urn === r.parent);
            assert.ok(p, `${name}'s parent ${r.parent} was registered`);
            assert.equal(p.name, parent, `${name}'s parent`);
        }
    });

    test("every child's parent chain ends at the App; URNs carry the parent's type", async () => {
        const { rec } = await build("hello", helloArgs());
        const app = rec.get(T.App, "hello");
        assert.equal(app.urn, `urn:pulumi:stack::project::${T.App}::hello`);
        const others = rec.resources.filter((r) => r !== app);
        assert.equal(rec.descendantsOf(app.urn!).length, others.length);
        for (const r of others) {
            const chain = rec.ancestors(r);
            assert.equal(chain[chain.length - 1], `${T.App} hello`, `${r.name}: ${chain.join(" <- ")}`);
        }
        // The mock monitor qualifies a URN's type with the parent's type only (one level), where
        // the engine writes the whole chain; the parent URN above gives the rest.
        assert.equal(
            rec.get(T.Dyno, "hello-web-1").urn,
            `urn:pulumi:stack::project::${T.Formation}$${T.Dyno}::hello-web-1`,
        );
        assert.equal(
            rec.get(T.Formation, "hello-web").urn,
            `urn:pulumi:stack::project::${T.App}$${T.Formation}::hello-web`,
        );
    });

    test("builds the image from source and names the network after app and stack", async () => {
        const { rec } = await build("hello", helloArgs());
        const image = rec.get(T.Image, "hello-image").inputs;
        assert.equal(image.context, HELLO);
        assert.equal(image.nodeBaseImage, "n");
        assert.equal(image.repository, "dynoform/hello");
        const net = rec.get(T.Network, "hello-net").inputs;
        assert.equal(net.name, "hello.stack");
        assert.deepEqual(net.formerNames, ["hello-stack"], "a network named the old way keeps its name");
        assert.deepEqual(net.labels, { "dev.dynoform.managed": "true", "dev.dynoform.app": "hello", "dev.dynoform.stack": "stack" });
        for (const d of dynosOf(rec)) assert.equal(d.inputs.network, "hello.stack", d.name);
        assert.equal(rec.get(T.Dyno, "hello-postgres-server").inputs.image, "p");
        assert.equal(rec.get(T.Dyno, "hello-redis-server").inputs.image, "r");
        assert.equal(rec.get(T.Dyno, "hello-router-nginx").inputs.image, "x");
    });

    test("a prebuilt image is used as given: no build, no app.json", async () => {
        const { rec, app } = await build("demo", imageArgs());
        const image = rec.get(T.Image, "demo-image");
        assert.deepEqual(Object.keys(image.inputs).sort(), ["ref"]);
        assert.equal(image.inputs.ref, "registry.local/demo:1");
        assert.equal(rec.ofType(T.AddOn).length, 0);
        assert.equal(await promiseOf(app.imageDigest), image.state.imageId);
        for (const d of dynosOf(rec)) assert.equal(d.inputs.image, image.state.imageId);
    });

    test("app.json's add-ons Dynoform does not run are not created, and the App says so", async (t) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-app-"));
        const appJson = path.join(dir, "app.json");
        fs.writeFileSync(appJson, JSON.stringify({ addons: ["heroku-redis", "mongolab"] }, null, 2));
        const warn = t.mock.method(pulumi.log, "warn", async () => undefined);
        try {
            const { rec, app } = await build("demo", imageArgs({ appJson }));
            assert.deepEqual(rec.ofType(T.AddOn).map((a) => a.name), ["demo-redis"]);
            assert.deepEqual(await promiseOf(app.addonAttachments), { redis: "REDIS_URL" });
            const said = warn.mock.calls.map((c) => String(c.arguments[0]));
            assert.deepEqual(said, [`${appJson}:4: \`addons[1]\`: add-on "mongolab" is not one Dynoform runs (only postgres and redis): skipped; the app will not have MONGOLAB_URI`]);
            assert.equal(warn.mock.calls[0].arguments[1], app, "said on the App");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("publishes the outputs: url, dynos, attachments, formation, release, image", async () => {
        const { rec, app } = await build("hello", helloArgs());
        assert.equal(await promiseOf(app.url), "http://127.0.0.1:8080");
        assert.deepEqual(await promiseOf(app.dynos), { web: ["web.1", "web.2"], worker: ["worker.1"] });
        assert.deepEqual(await promiseOf(app.addonAttachments), { postgres: "DATABASE_URL", redis: "REDIS_URL" });
        assert.deepEqual(await promiseOf(app.formation), {
            web: { quantity: 2, size: "standard-1x", memoryMb: 512 },
            worker: { quantity: 1, size: "standard-2x", memoryMb: 1024 },
        });
        assert.equal(await promiseOf(app.releaseVersion), 1);
        assert.equal(await promiseOf(app.imageDigest), rec.get(T.Image, "hello-image").state.imageId);
        assert.deepEqual(rec.get(T.Release, "hello-release").inputs.formation, {
            web: { quantity: 2, size: "standard-1x" },
            worker: { quantity: 1, size: "standard-2x" },
        });
    });

    test("routerHost is where the router publishes; the url follows", async () => {
        const { rec, app } = await build("hello", helloArgs({ routerHost: "192.168.5.5" }));
        assert.deepEqual(rec.get(T.Dyno, "hello-router-nginx").inputs.publish, { hostIp: "192.168.5.5", hostPort: 8080 });
        assert.equal(await promiseOf(app.url), "http://192.168.5.5:8080");
    });
});

describe("App: dyno environment and size", () => {
    test("each dyno gets DYNO, PORT on web only, config vars and the add-on URLs", async () => {
        const { rec } = await build("hello", helloArgs());
        const pgPassword = rec.get(T.RandomSecret, "hello-postgres-password").state.value;
        const redisPassword = rec.get(T.RandomSecret, "hello-redis-password").state.value;
        const sessionSecret = rec.get(T.RandomSecret, "hello-config-session-secret").state.value;
        const common = {
            DATABASE_URL: attachmentUrl("postgres", "postgres", pgPassword),
            REDIS_URL: attachmentUrl("redis", "redis", redisPassword),
            GREETING: "Hello",
            SESSION_SECRET: sessionSecret,
            LOG_LEVEL: "debug",
        };
        assert.deepEqual(rec.get(T.Dyno, "hello-web-1").inputs.env, { ...common, DYNO: "web.1", PORT: "5000" });
        assert.deepEqual(rec.get(T.Dyno, "hello-web-2").inputs.env, { ...common, DYNO: "web.2", PORT: "5000" });
        assert.deepEqual(rec.get(T.Dyno, "hello-worker-1").inputs.env, { ...common, DYNO: "worker.1" });
        assert.deepEqual(rec.get(T.ReleasePhase, "hello-release-phase").inputs.env, { ...common, DYNO: "release.1" });
        // The URLs are the ones the add-ons themselves expose.
        assert.equal(common.DATABASE_URL, `postgres://app:${pgPassword}@postgres:5432/app`);
        assert.equal(common.REDIS_URL, `redis://:${redisPassword}@redis:6379`);
    });

    test("web dynos listen on $PORT; other dynos have no port", async () => {
        const { rec } = await build("hello", helloArgs());
        assert.equal(rec.get(T.Dyno, "hello-web-1").inputs.port, 5000);
        assert.equal(rec.get(T.Dyno, "hello-web-2").inputs.port, 5000);
        assert.equal(rec.get(T.Dyno, "hello-worker-1").inputs.port, undefined);
    });

    test("memory and CPU come from the size: standard-1x 512 MB, standard-2x 1024 MB", async () => {
        const { rec } = await build("hello", helloArgs());
        const web = rec.get(T.Dyno, "hello-web-1").inputs;
        assert.deepEqual([web.size, web.memoryMb, web.cpuShares], ["standard-1x", 512, 1024]);
        const worker = rec.get(T.Dyno, "hello-worker-1").inputs;
        assert.deepEqual([worker.size, worker.memoryMb, worker.cpuShares], ["standard-2x", 1024, 2048]);
        assert.equal(rec.get(T.ReleasePhase, "hello-release-phase").inputs.memoryMb, 512);
    });

    test("dynos run the Procfile command, with their process type and index", async () => {
        const { rec } = await build("hello", helloArgs());
        const pick = (name: string) => {
            const i = rec.get(T.Dyno, name).inputs;
            return [i.app, i.stack, i.processType, i.index, i.command];
        };
        assert.deepEqual(pick("hello-web-2"), ["hello", "stack", "web", 2, "node index.js"]);
        assert.deepEqual(pick("hello-worker-1"), ["hello", "stack", "worker", 1, "node worker.js"]);
        assert.equal(rec.get(T.ReleasePhase, "hello-release-phase").inputs.command, "node release.js");
    });
});

describe("App: dependencies", () => {
    test("dyno 1 of each type waits for the add-ons and the release phase; later dynos chain", async () => {
        const { rec } = await build("hello", helloArgs());
        const urn = (type: string, name: string) => rec.get(type, name).urn!;
        const phase = urn(T.ReleasePhase, "hello-release-phase");
        const servers = [urn(T.Dyno, "hello-postgres-server"), urn(T.Dyno, "hello-redis-server")];
        for (const first of ["hello-web-1", "hello-worker-1"]) {
            const deps = rec.get(T.Dyno, first).dependencies;
            assert.ok(deps.includes(phase), `${first} depends on the release phase`);
            for (const s of servers) assert.ok(deps.includes(s), `${first} depends on ${s}`);
        }
        const web2 = rec.get(T.Dyno, "hello-web-2").dependencies;
        assert.ok(web2.includes(urn(T.Dyno, "hello-web-1")), "web.2 depends on web.1");
        // Only through web.1: web.2 waits for nothing else explicitly.
        assert.ok(!web2.includes(phase), "web.2 reaches the release phase through web.1");
        for (const s of servers) assert.ok(!web2.includes(s), `web.2 reaches ${s} through web.1`);
    });

    test("the release phase waits for the add-ons; the release and router config for the dynos", async () => {
        const { rec } = await build("hello", helloArgs());
        const urn = (type: string, name: string) => rec.get(type, name).urn!;
        const phase = rec.get(T.ReleasePhase, "hello-release-phase").dependencies;
        assert.ok(phase.includes(urn(T.Dyno, "hello-postgres-server")));
        assert.ok(phase.includes(urn(T.Dyno, "hello-redis-server")));
        assert.ok(phase.includes(urn(T.Image, "hello-image")));
        const release = rec.get(T.Release, "hello-release").dependencies;
        for (const d of ["hello-web-1", "hello-web-2", "hello-worker-1"]) {
            assert.ok(release.includes(urn(T.Dyno, d)), `the release waits for ${d}`);
        }
        const config = rec.get(T.RouterConfig, "hello-router-config").dependencies;
        for (const d of ["hello-web-1", "hello-web-2"]) {
            assert.ok(config.includes(urn(T.Dyno, d)), `the router config waits for ${d}`);
        }
        assert.ok(!config.includes(urn(T.Dyno, "hello-worker-1")));
    });

    test("the router gets the web dynos as upstreams", async () => {
        const { rec } = await build("hello", helloArgs());
        const upstreams = rec.get(T.RouterConfig, "hello-router-config").inputs.upstreams;
        const web = ["hello-web-1", "hello-web-2"].map((n) => rec.get(T.Dyno, n).state);
        assert.deepEqual(
            upstreams,
            web.map((s) => ({ host: s.containerName, port: 5000, containerId: s.containerId })),
        );
    });
});

describe("App: formation changes", () => {
    test("scaling web from 2 to 4 adds web-3 and web-4 and keeps web-1 and web-2", async () => {
        const before = await build("hello", helloArgs());
        const after = await build("hello", helloArgs({ formation: { web: { quantity: 4 }, worker: { quantity: 1, size: "standard-2x" } } }));
        assert.deepEqual(dynoNames(before.rec, "web"), ["hello-web-1", "hello-web-2"]);
        assert.deepEqual(dynoNames(after.rec, "web"), ["hello-web-1", "hello-web-2", "hello-web-3", "hello-web-4"]);
        assert.deepEqual(
            dynosOf(after.rec, "web").map((d) => d.inputs.env.DYNO).sort(),
            ["web.1", "web.2", "web.3", "web.4"],
        );
        // web.1 and web.2 get the same inputs, so the engine sees no change to them.
        for (const name of ["hello-web-1", "hello-web-2"]) {
            assert.deepEqual(after.rec.get(T.Dyno, name).inputs, before.rec.get(T.Dyno, name).inputs, name);
        }
        assert.deepEqual(dynoNames(after.rec, "worker"), ["hello-worker-1"]);
        assert.equal(after.rec.get(T.RouterConfig, "hello-router-config").inputs.upstreams.length, 4);
    });

    test("quantity 0 registers no dyno of that type", async () => {
        const { rec, app } = await build("hello", helloArgs({ formation: { web: { quantity: 1 }, worker: { quantity: 0 } } }));
        assert.deepEqual(dynoNames(rec), ["hello-web-1"]);
        assert.deepEqual(rec.childrenOf(rec.get(T.Formation, "hello-worker").urn!), []);
        assert.deepEqual(await promiseOf(app.dynos), { web: ["web.1"], worker: [] });
    });

    test("no web dynos: no routerPort needed, no router, url is empty", async () => {
        const { rec, app } = await build("hello", helloArgs({ formation: { web: { quantity: 0 }, worker: { quantity: 1 } }, routerPort: undefined }));
        assert.equal(rec.ofType(T.Router).length, 0);
        assert.equal(rec.ofType(T.RouterConfig).length, 0);
        assert.equal(await promiseOf(app.url), "");
        assert.deepEqual(dynoNames(rec), ["hello-worker-1"]);
    });

    test("the release process type never gets dynos or a formation", async () => {
        const { rec } = await build("hello", helloArgs({ formation: { web: { quantity: 1 }, release: { quantity: 0 } } }));
        assert.deepEqual(dynosOf(rec, "release"), []);
        assert.deepEqual(
            rec.ofType(T.Formation).map((f) => f.name).sort(),
            ["hello-web", "hello-worker"],
        );
        assert.equal(rec.ofType(T.ReleasePhase).length, 1);
    });

    test("without a release command there is no release phase and dyno 1 waits for the add-ons only", async () => {
        const { rec } = await build("demo", imageArgs({ procfile: "web: node index.js\n", addons: { postgres: "postgres" } }));
        assert.equal(rec.ofType(T.ReleasePhase).length, 0);
        const deps = rec.get(T.Dyno, "demo-web-1").dependencies;
        assert.ok(deps.includes(rec.get(T.Dyno, "demo-postgres-server").urn!));
    });
});

describe("App: secrets and release ids", () => {
    test("dyno and release-phase env are sent as secrets; release ids are not", async () => {
        const { rec } = await build("hello", helloArgs());
        for (const d of rec.ofType(T.Dyno).filter((d) => d.inputs.env !== undefined)) {
            assert.ok(d.secretInputs.includes("env"), `${d.name}: env is secret`);
        }
        assert.equal(dynosOf(rec).length, 3);
        for (const d of dynosOf(rec)) assert.ok(!d.secretInputs.includes("release"), `${d.name}: release id is plain`);
        const phase = rec.get(T.ReleasePhase, "hello-release-phase");
        assert.ok(phase.secretInputs.includes("env"));
        assert.ok(!phase.secretInputs.includes("release"));
        const release = rec.get(T.Release, "hello-release");
        assert.ok(!release.secretInputs.includes("releaseId"));
        assert.match(release.inputs.releaseId, /^[0-9a-f]{12}$/);
        // The snapshot holds the generated SESSION_SECRET, so it goes secret too.
        assert.ok(release.secretInputs.includes("config"));
    });

    test("the release id is the keyed hash of image, config and attachments under the salt", async () => {
        const { rec } = await build("hello", helloArgs());
        const env = { ...rec.get(T.Dyno, "hello-worker-1").inputs.env };
        delete env.DYNO;
        const salt = rec.get(T.RandomSecret, "hello-release-salt").state.value;
        const imageId = rec.get(T.Image, "hello-image").state.imageId;
        assert.equal(singleReleaseId(rec), releaseIdOf(salt, imageId, env));
    });

    test("the release id changes with a config value and stays with a formation change", async () => {
        const base = singleReleaseId((await build("hello", helloArgs())).rec);
        const config = singleReleaseId((await build("hello", helloArgs({ config: { LOG_LEVEL: "info" } }))).rec);
        const secretConfig = singleReleaseId(
            (await build("hello", helloArgs({ config: { LOG_LEVEL: pulumi.secret("info") } }))).rec,
        );
        const scaled = singleReleaseId(
            (await build("hello", helloArgs({ formation: { web: { quantity: 3 }, worker: { quantity: 0 } } }))).rec,
        );
        const resized = singleReleaseId(
            (await build("hello", helloArgs({ formation: { web: { quantity: 2, size: "performance-m" } } }))).rec,
        );
        assert.notEqual(config, base);
        assert.equal(secretConfig, config, "a secret value hashes like the same plain value");
        assert.equal(scaled, base);
        assert.equal(resized, base);
    });

    test("a secret config var stays secret in every dyno's env", async () => {
        const { rec } = await build("demo", imageArgs({ config: { API_KEY: pulumi.secret("k") }, formation: { worker: { quantity: 1 } } }));
        for (const d of dynosOf(rec)) {
            assert.equal(d.inputs.env.API_KEY, "k");
            assert.ok(d.secretInputs.includes("env"), d.name);
        }
        assert.ok(rec.get(T.Release, "demo-release").secretInputs.includes("config"));
    });

    test("the App's public outputs hold no secrets", async () => {
        const { app } = await build("hello", helloArgs());
        for (const [name, out] of Object.entries({
            url: app.url,
            releaseVersion: app.releaseVersion,
            releases: app.releases,
            imageDigest: app.imageDigest,
            dynos: app.dynos,
            addonAttachments: app.addonAttachments,
            formation: app.formation,
        })) {
            assert.equal(await isSecret(out as pulumi.Output<unknown>), false, name);
        }
    });
});

describe("App: bad input is refused before any child exists", () => {
    /** Constructs the App, expects a DynoformInputError on `field`, and checks nothing was created under it. */
    async function refused(name: string, args: AppArgs, field: string, reason?: RegExp): Promise<void> {
        const rec = installMocks();
        let caught: unknown;
        try {
            new App(name, args);
        } catch (e) {
            caught = e;
        }
        assert.ok(caught instanceof DynoformInputError, `expected a DynoformInputError, got ${String(caught)}`);
        assert.equal(caught.field, field);
        assert.ok(caught.message.includes(`\`${field}\``), caught.message);
        if (reason) assert.match(caught.reason, reason);
        await rec.settle();
        const apps = rec.ofType(T.App);
        assert.equal(apps.length, 1, "the App itself is registered by super()");
        assert.deepEqual(rec.childrenOf(apps[0].urn!), [], "no child resources");
        assert.deepEqual(rec.summary(), [`${T.App} ${name}`], "nothing else either");
    }

    test("a bad app name", async () => {
        await refused("Bad_Name", imageArgs(), "name", /2-30 lower-case/);
        await refused("res", imageArgs({ name: "x" }), "name");
    });

    test("both source and image", async () => {
        await refused("both", { ...helloArgs(), image: "some:image" }, "image", /not both/);
    });

    test("neither source nor image", async () => {
        await refused("neither", { procfile: "web: x\n", routerPort: 1, baseImages: BASE_IMAGES }, "source");
    });

    test("web dynos without routerPort", async () => {
        await refused("noport", imageArgs({ routerPort: undefined }), "routerPort", /web dynos/);
        await refused("noport", helloArgs({ routerPort: undefined }), "routerPort");
    });

    test("a routerPort out of range", async () => {
        await refused("badport", imageArgs({ routerPort: 70000 }), "routerPort");
    });

    test("a config var colliding with DATABASE_URL", async () => {
        await refused(
            "collide",
            imageArgs({ addons: { postgres: "postgres" }, config: { DATABASE_URL: "postgres://elsewhere" } }),
            "config.DATABASE_URL",
            /add-on attachment/,
        );
        // Also when the add-on comes from app.json.
        await refused("collide", helloArgs({ config: { DATABASE_URL: "x" } }), "config.DATABASE_URL");
    });

    test("a formation type not in the Procfile", async () => {
        await refused("notype", imageArgs({ formation: { clock: { quantity: 1 } } }), "formation.clock", /not in the Procfile/);
    });

    test("release dynos asked for", async () => {
        await refused("reldyno", imageArgs({ formation: { release: { quantity: 1 } } }), "formation.release.quantity");
    });

    test("a reserved config var name", async () => {
        await refused("reserved", imageArgs({ config: { PORT: "1" } }), "config.PORT", /reserved/);
    });
});

describe("App on a Swarm cluster", () => {
    const SERVICE = "pulumi-nodejs:dynamic/swarm:Service";
    const REGISTRY_IMAGE = "pulumi-nodejs:dynamic/swarm:RegistryImage";
    const clusterArgs = (): AppArgs => ({
        image: "registry.local/demo:1",
        procfile: "web: node index.js\nworker: node worker.js\n",
        formation: { web: { quantity: 6 }, worker: { quantity: 1, size: "standard-2x" } },
        config: { LOG_LEVEL: "debug" },
        routerPort: 8081,
        baseImages: BASE_IMAGES,
        cluster: { workers: ["unix:///run/w2.sock", "unix:///run/w3.sock"] },
    });

    test("one service per process type on an overlay network, the image pushed once to the cluster's registry and run by digest; no containers; the router a service on the ingress nodes", async () => {
        const { rec, app } = await build("demo", clusterArgs());
        assert.equal(rec.ofType(T.Dyno).length, 0);
        assert.equal(rec.ofType(T.Router).length, 0);
        const [net] = rec.ofType(T.Network);
        assert.equal(net.inputs.overlay, true);
        assert.doesNotMatch(net.inputs.name, /\./);
        const pushes = rec.ofType(REGISTRY_IMAGE);
        assert.equal(pushes.length, 1, "one push for every process type");
        assert.deepEqual(pushes[0].inputs.workers, ["unix:///run/w2.sock", "unix:///run/w3.sock"]);
        assert.equal(pushes[0].inputs.repository, "127.0.0.1:5000/demo");
        assert.equal(pushes[0].inputs.imageId, rec.ofType(T.Image)[0].state.imageId);
        const services = rec.ofType(SERVICE).sort((a, b) => (a.name < b.name ? -1 : 1));
        const [router, web, worker] = services;
        assert.deepEqual(services.map((s) => [s.inputs.processType, s.inputs.replicas, s.inputs.memoryMb, s.inputs.command]), [
            ["router", 1, 64, router.inputs.command],
            ["web", 6, 512, "node index.js"],
            ["worker", 1, 1024, "node worker.js"],
        ]);
        assert.deepEqual(router.inputs.ingress, { port: 8081, targetPort: 80 });
        assert.equal(router.inputs.network, net.inputs.name);
        assert.match(router.inputs.command, /base64 -d > \/etc\/nginx\/conf.d\/dynoform.tmpl/);
        assert.ok(router.dependencies.some((d: string) => d.endsWith("demo-web")), "the router follows the web service");
        assert.equal(web.inputs.env.PORT, "5000");
        assert.equal(web.inputs.env.LOG_LEVEL, "debug");
        assert.equal(worker.inputs.env.PORT, undefined);
        assert.equal(web.inputs.network, net.inputs.name);
        for (const s of [web, worker]) {
            assert.match(s.inputs.image, /^127\.0\.0\.1:5000\/demo@sha256:[0-9a-f]{64}$/, "dynos run the pushed image by digest");
            assert.ok(s.dependencies.some((d: string) => d.endsWith("demo-image-registry")), "a service waits for the push");
        }
        assert.deepEqual((await promiseOf(app.dynos)).web, ["web.1", "web.2", "web.3", "web.4", "web.5", "web.6"]);
    });

    test("add-ons are one-replica services pinned to the manager with their volume; the release phase runs on the overlay before the services", async () => {
        const { rec } = await build("demo", { ...clusterArgs(), addons: { postgres: "postgres" }, procfile: "web: node index.js\nworker: node worker.js\nrelease: node release.js\n" });
        const services = rec.ofType(SERVICE);
        const pg = services.find((s) => s.inputs.processType === "postgres")!;
        assert.ok(pg, "a postgres service");
        assert.deepEqual([pg.inputs.pinned, pg.inputs.replicas], [true, 1]);
        assert.equal(pg.inputs.mounts.length, 1);
        assert.match(pg.inputs.mounts[0].source, /postgres/);
        assert.equal(pg.inputs.mounts[0].target, "/var/lib/postgresql/data");
        assert.match(pg.inputs.healthcheck, /pg_isready/);
        // Created once it accepts connections through the overlay's DNS on the manager, where the release phase runs.
        assert.equal(pg.inputs.listening.port, 5432);
        assert.ok(pg.inputs.listening.probeImage, "a probe image with node");
        assert.equal(rec.ofType(T.Dyno).length, 0);
        const web = services.find((s) => s.inputs.processType === "web")!;
        assert.match(web.inputs.env.DATABASE_URL, /^postgres:\/\/app:.*@postgres:5432\/app$/);
        const [release] = rec.ofType(T.ReleasePhase);
        assert.equal(release.inputs.network, rec.ofType(T.Network)[0].inputs.name);
        assert.ok(web.dependencies.some((d: string) => d.endsWith("demo-release-phase")), "the web service waits for the release phase");
    });
});
