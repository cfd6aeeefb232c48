import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { before, test } from "node:test";
import YAML from "yaml";
import { freePort } from "../support/harness";
import { CliProject, cliProject, TINY_APP, usageLine } from "../support/cli";
import { afterLive, beforeLive, testLive } from "../support/engines";

// `dynoform init` in an app folder without Pulumi files: writes Pulumi.yaml and the stack file
// from the Procfile and app.json, refuses to overwrite without --force, and `preview` accepts
// what it wrote.
let project: CliProject;
let stack: string;
let port: number;

beforeLive(async () => {
    project = await cliProject("init", {
        appDir: ".",
        pulumiYaml: false,
        files: {
            ...TINY_APP,
            Procfile: "web: node server.js\nworker: node -e 'setInterval(() => {}, 1000)'\n",
            "app.json": JSON.stringify({
                name: "tiny-init",
                description: "init test",
                formation: { web: { quantity: 2, size: "standard-2x" } },
                addons: ["heroku-postgresql"],
            }),
        },
    });
    stack = project.stackName("s");
    port = await freePort();
});
afterLive(async () => {
    await project?.cleanup();
});

const read = (f: string) => fs.readFileSync(path.join(project.dir, f), "utf8");

testLive("init: writes Pulumi.yaml, .dockerignore and the stack file from Procfile and app.json", async (t) => {
    const r = await project.cli(["init", "--stack", stack, "--router-port", String(port)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /formation: web=2:standard-2x worker=0:standard-1x/);
    assert.match(r.stdout, /add-ons \(from app\.json\): postgres as DATABASE_URL/);

    const pulumi = YAML.parse(read("Pulumi.yaml"));
    assert.equal(pulumi.name, "tiny-init");
    assert.equal(pulumi.runtime, "nodejs");
    assert.equal(pulumi.stackConfigDir, "stacks");
    assert.ok(fs.existsSync(path.resolve(project.dir, pulumi.main)), `main ${pulumi.main} exists`);
    assert.match(read(".dockerignore"), /^stacks$/m);

    const config = YAML.parse(read(`stacks/Pulumi.${stack}.yaml`)).config;
    assert.deepEqual(config, {
        "dynoform:app": "tiny-init",
        "dynoform:source": ".",
        "dynoform:routerPort": String(port),
        "dynoform:formation": { web: { quantity: 2, size: "standard-2x" }, worker: { quantity: 0, size: "standard-1x" } },
    });
    assert.match(read(`stacks/Pulumi.${stack}.yaml`), /# Add-ons stay declared in app\.json.*postgres \(DATABASE_URL\)/);
});

testLive("init: refuses to overwrite without --force (exit 2, nothing written); --force overwrites", async (t) => {
    const stackFile = `stacks/Pulumi.${stack}.yaml`;
    fs.writeFileSync(path.join(project.dir, stackFile), read(stackFile).replace("quantity: 2", "quantity: 1"));
    const before = { pulumi: read("Pulumi.yaml"), stack: read(stackFile) };

    assert.match(usageLine(await project.cli(["init", "--stack", stack])), new RegExp(`${stackFile.replace(/\./g, "\\.")} already exists.*--force`));
    assert.deepEqual({ pulumi: read("Pulumi.yaml"), stack: read(stackFile) }, before);

    // An identical Pulumi.yaml is how a second stack is added; a different one is not overwritten.
    const second = project.stackName("second");
    fs.appendFileSync(path.join(project.dir, "Pulumi.yaml"), "# edited by hand\n");
    assert.match(usageLine(await project.cli(["init", "--stack", second])), /Pulumi\.yaml already exists/);
    assert.equal(fs.existsSync(path.join(project.dir, `stacks/Pulumi.${second}.yaml`)), false, "nothing written");

    const forced = await project.cli(["init", "--stack", stack, "--router-port", String(port), "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(read(stackFile), /quantity: 2/);
    assert.doesNotMatch(read("Pulumi.yaml"), /edited by hand/);
});

testLive("init: a bad app name or a missing --from file exits 2 and writes nothing", async (t) => {
    const other = project.stackName("bad");
    assert.match(usageLine(await project.cli(["init", "--stack", other, "--app", "Bad_Name"])), /--app `Bad_Name`/);
    assert.match(usageLine(await project.cli(["init", "--stack", other, "--from", "missing.json"])), /missing\.json/);
    assert.equal(fs.existsSync(path.join(project.dir, `stacks/Pulumi.${other}.yaml`)), false);
});

testLive("init: `preview` accepts the stack file it wrote", async (t) => {
    // Without the app.json add-on: previewing a fresh PostgreSQL add-on hits a Dyno check()
    // bug with unknown env during preview that is not the CLI's.
    const plain = await cliProject("init-plain", { appDir: ".", pulumiYaml: false, files: TINY_APP });
    try {
        const s = plain.stackName("p");
        const init = await plain.cli(["init", "--stack", s, "--router-port", String(await freePort())]);
        assert.equal(init.code, 0, init.stderr);
        const preview = await plain.cli(["preview", "--stack", s]);
        assert.equal(preview.code, 0, preview.stderr);
        assert.match(preview.stdout, /web: new \(1 x standard-1x\)/);
        assert.match(preview.stdout, /Resources: .*\d+ create/);
    } finally {
        await plain.cleanup();
    }
});

testLive("init: no Procfile with a Dockerfile, or a comment-only one in a Node.js app, gets Heroku's default web; nothing to run is exit 2", async () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
        ["docker", { Dockerfile: "FROM scratch\nCMD [\"/server\"]\n" }, /process types: web runs the image's CMD/],
        ["comments", { ...TINY_APP, Procfile: "# web: to come\n" }, /process types: web: npm start \(Node\.js default: package\.json's start script/],
    ];
    for (const [name, files, expected] of cases) {
        const p = await cliProject(`init-${name}`, { appDir: ".", pulumiYaml: false, files });
        try {
            const r = await p.cli(["init", "--stack", p.stackName("s")]);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, /formation: web=1:standard-1x/);
            assert.match(r.stdout, expected);
            assert.match(r.stdout, /router: http:\/\/127\.0\.0\.1:\d+ \(the first free port from 5000/);
        } finally {
            await p.cleanup();
        }
    }
    const bare = await cliProject("init-bare", { appDir: ".", pulumiYaml: false, files: { "index.js": "" } });
    try {
        assert.match(usageLine(await bare.cli(["init", "--stack", bare.stackName("s")])), /Procfile does not exist and .* has no default web process .*: add a Procfile/);
        assert.equal(fs.existsSync(path.join(bare.dir, "Pulumi.yaml")), false, "nothing written");
    } finally {
        await bare.cleanup();
    }
});

/** An app.json as public Heroku samples write them: a key twice, retired sizes, add-ons Dynoform does not run. */
const HEROKU_SAMPLE_APP_JSON = [
    "{",
    '  "name": "node-sample",',
    '  "description": "A barebones Node.js app",',
    '  "repository": "https://github.com/heroku/node-js-sample",',
    '  "keywords": ["node", "express"],',
    '  "image": "heroku/nodejs",',
    '  "stack": "heroku-22",',
    '  "buildpacks": [{ "url": "heroku/nodejs" }],',
    '  "env": { "NODE_ENV": "production", "NODE_ENV": "production" },',
    '  "formation": {',
    '    "web": { "quantity": 1, "size": "Free" },',
    '    "worker": { "quantity": 1, "size": "hobby" },',
    '    "clock": { "quantity": 0 },',
    '    "worker": { "quantity": 0, "size": "hobby" }',
    "  },",
    '  "addons": ["heroku-postgresql", "mongolab", "papertrail", "sendgrid:starter"]',
    "}",
    "",
].join("\n");

testLive("init: a Heroku sample app.json is read as Heroku reads it, with one warning per thing left out; --strict refuses it", async (t) => {
    const sample = await cliProject("init-heroku", {
        appDir: ".",
        pulumiYaml: false,
        files: { ...TINY_APP, Procfile: "web: node server.js\nworker: node server.js\n", "app.json": HEROKU_SAMPLE_APP_JSON },
    });
    try {
        // --strict: exit 2, one line naming every skipped add-on, nothing written.
        const strictStack = sample.stackName("strict");
        const strict = usageLine(await sample.cli(["init", "--stack", strictStack, "--strict"]));
        assert.match(strict, /app\.json: 3 add-ons are not run by Dynoform \(--strict\): addons\[1\] "mongolab" \(line 16\), addons\[2\] "papertrail" \(line 16\), addons\[3\] "sendgrid:starter" \(line 16\); it runs postgres/);
        assert.equal(fs.existsSync(path.join(sample.dir, "Pulumi.yaml")), false, "nothing written");
        assert.equal(fs.existsSync(path.join(sample.dir, `stacks/Pulumi.${strictStack}.yaml`)), false, "nothing written");

        const s = sample.stackName("s");
        const r = await sample.cli(["init", "--stack", s, "--router-port", String(await freePort())]);
        assert.equal(r.code, 0, r.stderr);
        const warnings = r.stderr.trimEnd().split("\n");
        const file = path.join(sample.dir, "app.json");
        assert.deepEqual(warnings, [
            `warning: ${file}:14: \`formation.worker\`: key "worker" appears twice with different values (first on line 12); the last is used, as in every JSON parser`,
            `warning: ${file}:11: \`formation.web.size\`: "Free" is Heroku's retired name of the eco size; using eco`,
            `warning: ${file}:14: \`formation.worker.size\`: "hobby" is Heroku's retired name of the basic size; using basic`,
            `warning: ${file}:6: \`image\`: not used: Dynoform builds the image from the app's Dockerfile, or from package.json on its Node.js base image`,
            `warning: ${file}:7: \`stack\`: not used: Dynoform builds the image from the app's Dockerfile, or from package.json on its Node.js base image`,
            `warning: ${file}:8: \`buildpacks\`: not used: Dynoform builds the image from the app's Dockerfile, or from package.json on its Node.js base image`,
            `warning: ${file}:16: \`addons[1]\`: add-on "mongolab" is not one Dynoform runs (only postgres and redis): skipped; the app will not have MONGOLAB_URI`,
            `warning: ${file}:16: \`addons[2]\`: add-on "papertrail" is not one Dynoform runs (only postgres and redis): skipped; the app will not have PAPERTRAIL_API_TOKEN`,
            `warning: ${file}:16: \`addons[3]\`: add-on "sendgrid:starter" is not one Dynoform runs (only postgres and redis): skipped; the app will not have SENDGRID_USERNAME, SENDGRID_PASSWORD`,
        ]);
        assert.match(r.stdout, /formation: web=1:eco worker=0:basic/);
        assert.match(r.stdout, /add-ons \(from app\.json\): postgres as DATABASE_URL/);
        const config = YAML.parse(fs.readFileSync(path.join(sample.dir, `stacks/Pulumi.${s}.yaml`), "utf8")).config;
        assert.deepEqual(config["dynoform:formation"], { web: { quantity: 1, size: "eco" }, worker: { quantity: 0, size: "basic" } });

        // preview says which of app.json's add-ons are skipped, every time.
        const preview = await sample.cli(["preview", "--stack", s]);
        assert.equal(preview.code, 0, preview.stderr);
        for (const addon of ["mongolab", "papertrail", "sendgrid:starter"]) {
            assert.match(preview.stdout, new RegExp(`^warning: .*app\\.json:16: \`addons\\[\\d\\]\`: add-on "${addon}" is not one Dynoform runs`, "m"));
        }
    } finally {
        await sample.cleanup();
    }
});

