import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { dynoformHome } from "../toolchain/paths";

/**
 * The base of Dynoform's dynamic resources: `pulumi.dynamic.Resource` with its provider's
 * serialized text made once per build, not in every command.
 *
 * `pulumi.dynamic.Resource` serializes its provider object with the SDK's closure serializer in
 * every program run, which loads TypeScript's parser, npm's arborist and a V8 inspector session:
 * over a CPU-second of each `up`, `preview` or `ps:scale`. Dynoform's providers capture only
 * path strings (their methods `require` their modules by path), so a provider's text depends only
 * on the compiled files: it is serialized the first time a build is used, exactly as
 * `pulumi.dynamic.Resource` would, and kept in DYNOFORM_HOME/cache/providers under a hash of the
 * build's files and the SDK's version. The engine and the dynamic-provider host see the same
 * `__provider` text and resource type as before.
 */
export class DynamicResource extends pulumi.CustomResource {
    constructor(
        provider: pulumi.dynamic.ResourceProvider,
        name: string,
        props: pulumi.Inputs,
        opts?: pulumi.CustomResourceOptions,
        module?: string,
        type = "Resource",
    ) {
        if (props.__provider) throw new Error("A dynamic resource must not define the __provider key");
        props.__provider = providerText(provider);
        super(`pulumi-nodejs:dynamic${module ? `/${module}` : ""}:${type}`, name, props, opts);
    }
}

const texts = new Map<object, pulumi.Input<string>>();
let buildKey: string | undefined;

/** The serialized provider, from the cache when this build made it before. */
function providerText(provider: pulumi.dynamic.ResourceProvider): pulumi.Input<string> {
    const known = texts.get(provider);
    if (known !== undefined) return known;
    const file = path.join(dynoformHome(), "cache", "providers", `${(buildKey ??= keyOfBuild())}-${providerKey(provider)}.js`);
    let text: pulumi.Input<string>;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        text = pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true }).then((sf) => {
            if (sf.containsSecrets) throw new Error("a dynamic provider captured a secret value");
            writeAtomically(file, sf.text);
            return sf.text;
        });
    }
    texts.set(provider, text);
    return text;
}

/** A provider's methods, hashed: with the build key, what fixes its serialized text. */
function providerKey(provider: pulumi.dynamic.ResourceProvider): string {
    const methods = Object.entries(provider)
        .map(([k, v]) => `${k}:${typeof v === "function" ? v.toString() : String(v)}`)
        .join("\n");
    return crypto.createHash("sha256").update(methods).digest("hex").slice(0, 16);
}

/** A hash of every compiled file the providers can reach (this build's `dist/` outside tests) and the SDK's version. */
function keyOfBuild(): string {
    const dist = path.resolve(__dirname, "..");
    const hash = crypto.createHash("sha256");
    hash.update(`${require("@pulumi/pulumi/package.json").version}\0${dist}\0`);
    for (const folder of ["components", "infra", "toolchain", "cli"]) hashTree(path.join(dist, folder), hash);
    return hash.digest("hex").slice(0, 24);
}

function hashTree(dir: string, hash: crypto.Hash): void {
    let entries: fs.Dirent[];
    try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
        return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) hashTree(full, hash);
        else if (e.name.endsWith(".js")) hash.update(`${full}\0`).update(fs.readFileSync(full));
    }
}

function writeAtomically(file: string, text: string): void {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, text, { mode: 0o600 });
        fs.renameSync(tmp, file);
    } catch {
        // A cache that cannot be written only costs the next command the serialization.
    }
}
