import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Formation, FormationArgs, WEB_PORT } from "../../components/formation";
import { DYNO_SIZES, resolveDynoSize } from "../../components/dyno-size";
import { RandomSecret } from "../../infra/random/secret";
import { installMocks, promiseOf, Recorder, T } from "../support/mocks";

function args(processType: string, quantity: number, extra: Partial<FormationArgs> = {}): FormationArgs {
    return {
        app: "shop",
        stack: "dev",
        processType,
        command: `run-${processType}`,
        quantity,
        size: DYNO_SIZES["standard-1x"],
        image: "sha256:feed",
        config: { GREETING: "hi" },
        attachments: pulumi.secret({ DATABASE_URL: "postgres://app:pw@postgres:5432/app" }),
        releaseId: "0123456789ab",
        network: "shop-dev",
        ...extra,
    };
}

async function build(name: string, a: FormationArgs, rec = installMocks()): Promise<{ rec: Recorder; formation: Formation }> {
    const formation = new Formation(name, a);
    await Promise.all(formation.dynos.map((d) => promiseOf(d.containerName)));
    await rec.settle();
    return { rec, formation };
}

describe("Formation: dynos", () => {
    test("quantity N registers N dynos named <name>-1..N under the formation", async () => {
        const { rec, formation } = await build("shop-web", args("web", 3));
        assert.deepEqual(rec.summary(), [
            `${T.Formation} shop-web`,
            `${T.Dyno} shop-web-1`,
            `${T.Dyno} shop-web-2`,
            `${T.Dyno} shop-web-3`,
        ]);
        const parent = rec.get(T.Formation, "shop-web").urn!;
        for (const d of rec.ofType(T.Dyno)) assert.equal(d.parent, parent, d.name);
        assert.deepEqual(formation.dynoNames, ["web.1", "web.2", "web.3"]);
        assert.equal(formation.dynos.length, 3);
        assert.deepEqual(
            rec.ofType(T.Dyno).map((d) => [d.name, d.inputs.index]),
            [
                ["shop-web-1", 1],
                ["shop-web-2", 2],
                ["shop-web-3", 3],
            ],
        );
    });

    test("quantity 0 registers no dyno", async () => {
        const { rec, formation } = await build("shop-worker", args("worker", 0));
        assert.deepEqual(rec.summary(), [`${T.Formation} shop-worker`]);
        assert.deepEqual(formation.dynoNames, []);
        assert.deepEqual(formation.dynos, []);
        assert.deepEqual(formation.upstreams, []);
    });

    test("every dyno gets the app, image, command, release, network and the size's limits", async () => {
        const size = resolveDynoSize("standard-2x", "size");
        const { rec } = await build("shop-worker", args("worker", 2, { size, bootTimeoutSeconds: 90, stopGraceSeconds: 5, dockerHost: "tcp://h:2375" }));
        for (const d of rec.ofType(T.Dyno)) {
            const i = d.inputs;
            assert.deepEqual(
                [i.app, i.stack, i.processType, i.image, i.command, i.release, i.network, i.dockerHost],
                ["shop", "dev", "worker", "sha256:feed", "run-worker", "0123456789ab", "shop-dev", "tcp://h:2375"],
                d.name,
            );
            assert.deepEqual([i.size, i.memoryMb, i.cpuShares], ["standard-2x", 1024, 2048], d.name);
            assert.deepEqual([i.bootTimeoutSeconds, i.stopGraceSeconds], [90, 5], d.name);
        }
    });

    test("a custom size is passed by its canonical name and limits", async () => {
        const { rec } = await build("shop-worker", args("worker", 1, { size: resolveDynoSize({ memoryMb: 768 }, "size") }));
        const i = rec.get(T.Dyno, "shop-worker-1").inputs;
        assert.deepEqual([i.size, i.memoryMb, i.cpuShares], ["custom-768mb", 768, 1536]);
    });
});

describe("Formation: env and port", () => {
    test("web dynos: DYNO=web.N and PORT, config vars and attachments", async () => {
        const { rec } = await build("shop-web", args("web", 2));
        for (const n of [1, 2]) {
            const d = rec.get(T.Dyno, `shop-web-${n}`);
            assert.deepEqual(d.inputs.env, {
                DATABASE_URL: "postgres://app:pw@postgres:5432/app",
                DYNO: `web.${n}`,
                GREETING: "hi",
                PORT: String(WEB_PORT),
            });
            assert.equal(d.inputs.port, WEB_PORT);
        }
    });

    test("other dynos: no PORT and no port to wait on", async () => {
        const { rec } = await build("shop-worker", args("worker", 1));
        const d = rec.get(T.Dyno, "shop-worker-1");
        assert.deepEqual(d.inputs.env, { DATABASE_URL: "postgres://app:pw@postgres:5432/app", DYNO: "worker.1", GREETING: "hi" });
        assert.equal(d.inputs.port, undefined);
    });

    test("env is sent as a secret, the release id is not", async () => {
        const { rec } = await build("shop-web", args("web", 2));
        for (const d of rec.ofType(T.Dyno)) {
            assert.ok(d.secretInputs.includes("env"), d.name);
            assert.ok(!d.secretInputs.includes("release"), d.name);
        }
    });

    test("config given as Outputs, some secret, resolves into env and keeps it secret", async () => {
        const config = { A: pulumi.output("a"), B: pulumi.secret("b") };
        const { rec } = await build("shop-web", args("web", 1, { config, attachments: {} }));
        const d = rec.get(T.Dyno, "shop-web-1");
        assert.deepEqual(d.inputs.env, { A: "a", B: "b", DYNO: "web.1", PORT: "5000" });
        assert.ok(d.secretInputs.includes("env"));
    });
});

describe("Formation: order", () => {
    test("dyno 1 waits for dependsOn; dyno i waits for dyno i-1 only", async () => {
        const rec = installMocks();
        const phase = new RandomSecret("phase", {});
        const addon = new RandomSecret("addon", {});
        await build("shop-web", args("web", 3, { dependsOn: [phase, addon] }), rec);
        const urn = (type: string, name: string) => rec.get(type, name).urn!;
        const given = [urn(T.RandomSecret, "phase"), urn(T.RandomSecret, "addon")];
        const [d1, d2, d3] = [1, 2, 3].map((n) => rec.get(T.Dyno, `shop-web-${n}`).dependencies);
        for (const u of given) assert.ok(d1.includes(u), `web.1 waits for ${u}`);
        assert.ok(d2.includes(urn(T.Dyno, "shop-web-1")));
        assert.ok(d3.includes(urn(T.Dyno, "shop-web-2")));
        assert.ok(!d3.includes(urn(T.Dyno, "shop-web-1")), "web.3 reaches web.1 through web.2");
        for (const u of given) {
            assert.ok(!d2.includes(u) && !d3.includes(u), `later dynos reach ${u} through web.1`);
        }
    });

    test("running 2 of 5: web.2 waits for web.1; web.3..5 are new and wait only for dependsOn, side by side", async () => {
        const rec = installMocks();
        const phase = new RandomSecret("phase", {});
        await build("shop-web", args("web", 5, { dependsOn: [phase], running: 2 }), rec);
        const urn = (type: string, name: string) => rec.get(type, name).urn!;
        const deps = [1, 2, 3, 4, 5].map((n) => rec.get(T.Dyno, `shop-web-${n}`).dependencies);
        assert.ok(deps[0].includes(urn(T.RandomSecret, "phase")));
        assert.ok(deps[1].includes(urn(T.Dyno, "shop-web-1")), "web.2 already runs: it rolls after web.1");
        for (const n of [3, 4, 5]) {
            assert.ok(deps[n - 1].includes(urn(T.RandomSecret, "phase")), `web.${n} waits for the release phase`);
            for (const m of [1, 2, 3, 4, 5]) assert.ok(!deps[n - 1].includes(urn(T.Dyno, `shop-web-${m}`)), `web.${n} does not wait for web.${m}`);
        }
    });

    test("running 0 (a first deploy): no dyno waits for another", async () => {
        const rec = installMocks();
        await build("shop-web", args("web", 3, { running: 0 }), rec);
        for (const n of [1, 2, 3]) {
            const deps = rec.get(T.Dyno, `shop-web-${n}`).dependencies;
            assert.ok(deps.every((u) => !u.includes("Dyno")), `web.${n}: ${deps.join(", ")}`);
        }
    });

    test("scaling from 2 to 4 keeps dynos 1 and 2 as they were and appends 3 and 4", async () => {
        const two = await build("shop-web", args("web", 2));
        const four = await build("shop-web", args("web", 4));
        assert.deepEqual(four.formation.dynoNames, ["web.1", "web.2", "web.3", "web.4"]);
        for (const name of ["shop-web-1", "shop-web-2"]) {
            assert.deepEqual(four.rec.get(T.Dyno, name).inputs, two.rec.get(T.Dyno, name).inputs, name);
        }
        assert.equal(four.rec.get(T.Dyno, "shop-web-3").inputs.env.DYNO, "web.3");
        assert.equal(four.rec.get(T.Dyno, "shop-web-4").inputs.env.DYNO, "web.4");
    });
});

describe("Formation: router upstreams", () => {
    test("web dynos become upstreams: container name, $PORT and container id", async () => {
        const { rec, formation } = await build("shop-web", args("web", 2));
        const upstreams = await Promise.all(formation.upstreams.map((u) => promiseOf(u)));
        assert.deepEqual(
            upstreams,
            ["shop-web-1", "shop-web-2"].map((n) => {
                const s = rec.get(T.Dyno, n).state;
                return { host: s.containerName, port: WEB_PORT, containerId: s.containerId };
            }),
        );
    });

    test("other process types have no upstreams", async () => {
        const { formation } = await build("shop-worker", args("worker", 2));
        assert.deepEqual(formation.upstreams, []);
    });
});
