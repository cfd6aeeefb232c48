import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { after, before, test } from "node:test";
import { PACKAGE_ROOT } from "../toolchain/paths";

// Dynoform as a library, as a new user gets it: the `npm pack` tarball installed into a fresh
// project beside `@pulumi/pulumi`, compiled by a strict `tsc` without `skipLibCheck`. Offline:
// the tarball is unpacked as npm would, and the package's production dependencies (exactly what
// `npm install dynoform` brings, no dev dependency) are linked from this repository's node_modules.

let tmp: string;
let tarball: string;
let packed: string[];

before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-pack-"));
    const out = execFileSync("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: PACKAGE_ROOT, encoding: "utf8" });
    const [info] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(tmp, info.filename);
    packed = info.files.map((f) => f.path);
});
after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("the tarball holds what runs, and no tests, benchmarks or stack files", () => {
    const stray = packed.filter((f) => /^(dist\/)?(test|bench|stacks|examples)\//.test(f) || /^Pulumi\.|tsconfig|package-lock/.test(f));
    assert.deepEqual(stray, []);
    for (const needed of [
        "package.json",
        "README.md",
        "bin/dynoform.js",
        "dist/cli/main.js",
        "dist/components/index.js",
        "dist/components/index.d.ts",
        "dist/infra/main.js",
        "dist/toolchain/language-host/server.js",
        "toolchain/language-host/pulumi-language-nodejs",
        "toolchain/dynamic-provider/pulumi-resource-pulumi-nodejs",
        "toolchain/pulumi-cli/go.mod",
        "toolchain/pulumi-cli/go.sum",
    ]) {
        assert.ok(packed.includes(needed), `${needed} is in the tarball`);
    }
    // Sources other than the runtime files above stay out.
    assert.deepEqual(packed.filter((f) => /\.ts$/.test(f) && !/\.d\.ts$/.test(f)), []);
});

test("a strict TypeScript Pulumi program compiles against the tarball without skipLibCheck", () => {
    const project = path.join(tmp, "consumer");
    const modules = path.join(project, "node_modules");
    fs.mkdirSync(path.join(modules, "dynoform"), { recursive: true });
    execFileSync("tar", ["xzf", tarball, "-C", path.join(modules, "dynoform"), "--strip-components=1"]);
    // What `npm install <tarball> @pulumi/pulumi` installs: dynoform's production dependency tree.
    const prod = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { cwd: PACKAGE_ROOT, encoding: "utf8" });
    const top = new Set<string>();
    const root = path.join(PACKAGE_ROOT, "node_modules") + path.sep;
    for (const line of prod.split("\n")) {
        if (!line.startsWith(root)) continue;
        const parts = line.slice(root.length).split(path.sep);
        top.add(parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
    }
    assert.ok(top.has("@pulumi/pulumi") && top.has("dockerode"), "the production tree has the runtime dependencies");
    assert.ok(!top.has("@types/dockerode"), "@types/dockerode is a dev dependency, as a user would not get it");
    for (const name of top) {
        fs.mkdirSync(path.dirname(path.join(modules, name)), { recursive: true });
        fs.symlinkSync(path.join(PACKAGE_ROOT, "node_modules", name), path.join(modules, name));
    }
    fs.writeFileSync(
        path.join(project, "package.json"),
        JSON.stringify({ name: "consumer", private: true, dependencies: { "@pulumi/pulumi": "3.248.0", dynoform: "file:" + tarball } }),
    );
    fs.writeFileSync(
        path.join(project, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", noEmit: true, esModuleInterop: true },
            files: ["index.ts", "bad-plan.ts"],
        }),
    );
    fs.writeFileSync(
        path.join(project, "index.ts"),
        [
            'import * as pulumi from "@pulumi/pulumi";',
            'import { AddOnRequest, App, AppArgs } from "dynoform";',
            "",
            "// The add-on names the CLI and app.json take are the names AppArgs takes.",
            'const db: AddOnRequest = "heroku-postgresql:essential-0";',
            "const args: AppArgs = {",
            '    source: "./app",',
            '    formation: { web: { quantity: 2, size: "standard-2x" } },',
            '    addons: { db, cache: { plan: "heroku-redis", as: "CACHE" }, queue: "redis" },',
            '    config: { GREETING: "hi", TOKEN: pulumi.secret("s3cret") },',
            "    routerPort: 8080,",
            "};",
            'const app = new App("shop", args);',
            "export const url: pulumi.Output<string> = app.url;",
            "export const dynos = app.dynos;",
            "",
        ].join("\n"),
    );
    // A plan name the library does not know is a type error, not a runtime surprise. One tsc run
    // checks both files (each run reads all of @pulumi/pulumi's declarations: 8 CPU-s here): the
    // program above has no error, and this one has exactly one.
    fs.writeFileSync(path.join(project, "bad-plan.ts"), 'import { AppArgs } from "dynoform";\nexport const a: AppArgs = { addons: { m: "mongolab" } };\n');
    const tsc = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", project], { encoding: "utf8" });
    const errors = tsc.stdout.split("\n").filter((l) => /error TS\d+/.test(l));
    assert.equal(tsc.status, 2, `tsc: ${tsc.stdout}${tsc.stderr}`);
    assert.equal(errors.length, 1, `one error, in bad-plan.ts only:\n${tsc.stdout}`);
    assert.match(errors[0], /bad-plan\.ts\(2,.*error TS2322: Type '"mongolab"' is not assignable/);
});
