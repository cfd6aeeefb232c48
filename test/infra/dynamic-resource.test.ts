import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { test } from "node:test";

// A dynamic resource hands the engine its provider's text from the per-build cache, the same text
// `pulumi.dynamic.Resource` serializes in every run, and a process that finds it cached never
// loads the SDK's closure serializer. Each case runs in its own process, as a command would.

const DIST = path.resolve(__dirname, "..", "..");

/** Runs `body` in a fresh node process with `DYNOFORM_HOME=home`; its last stdout line, as JSON. */
function inChild(home: string, body: string, preload = true): any {
    const script = `
        ${preload ? `require(${JSON.stringify(path.join(DIST, "infra/engine/defer-closure.js"))});` : ""}
        const pulumi = require("@pulumi/pulumi");
        const loaded = () => Object.keys(require.cache).filter((k) => /node_modules\\/(typescript|@npmcli\\/arborist)\\//.test(k)).map((k) => k.match(/node_modules\\/(typescript|@npmcli\\/arborist)\\//)[1]);
        (async () => { ${body} })().then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
    const r = spawnSync(process.execPath, ["-e", script], { cwd: DIST, env: { ...process.env, DYNOFORM_HOME: home }, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** Registers one Network under mocks; what the engine got as `__provider`, and which heavy modules the process loaded. */
const REGISTER = `
    let provider;
    pulumi.runtime.setMocks({
        newResource: (a) => { if (a.inputs.__provider) provider = a.inputs.__provider; return { id: a.name, state: a.inputs }; },
        call: () => ({}),
    }, "p", "s", false);
    const { Network } = require(${JSON.stringify(path.join(DIST, "infra/docker/network.js"))});
    const net = new Network("n", { name: "n", labels: {} });
    await new Promise((resolve) => net.urn.apply(resolve));
    return { provider, loaded: [...new Set(loaded())] };`;

test("importing the SDK after defer-closure loads neither TypeScript nor arborist; serializeFunction still works, with the same text", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-defer-"));
    try {
        const body = `
            const before = [...new Set(loaded())];
            const sf = await pulumi.runtime.serializeFunction(() => 42);
            return { before, text: sf.text };`;
        const deferred = inChild(home, body);
        const eager = inChild(home, body, false);
        assert.deepEqual(deferred.before, []);
        assert.deepEqual(eager.before.sort(), ["@npmcli/arborist", "typescript"], "without it the SDK loads both at import");
        assert.equal(deferred.text, eager.text);
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
});

test("a dynamic resource's __provider is what pulumi.dynamic.Resource would serialize, cached per build; the next process reads it and never serializes", () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-providers-"));
    try {
        const first = inChild(home, REGISTER);
        const expected = inChild(home, `
            const { networkProvider } = require(${JSON.stringify(path.join(DIST, "infra/docker/network.js"))});
            const provider = networkProvider;
            return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;`);
        assert.equal(first.provider, expected, "the engine gets the SDK's own serialization");
        assert.match(first.provider, /require\(SELF\)\.diffNetwork/);
        const cached = fs.readdirSync(path.join(home, "cache", "providers"));
        assert.equal(cached.length, 1, `one cached provider: ${cached}`);
        assert.equal((fs.statSync(path.join(home, "cache", "providers", cached[0])).mode & 0o777), 0o600);
        const second = inChild(home, REGISTER);
        assert.equal(second.provider, expected);
        assert.deepEqual(second.loaded, [], "the cached text spares the serializer");
    } finally {
        fs.rmSync(home, { recursive: true, force: true });
    }
});
