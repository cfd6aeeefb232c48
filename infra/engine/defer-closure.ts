// Loaded first by every Dynoform process that imports the Pulumi SDK (the CLI's entry, and the
// dynamic-provider host through NODE_OPTIONS=--require): see `deferClosureSerializer`.
import Module = require("module");

/**
 * The closure serializer's modules in @pulumi/pulumi and the functions the SDK's runtime index
 * takes from them when it is imported.
 */
const DEFERRED: Record<string, string[]> = {
    "@pulumi/pulumi/runtime/closure/serializeClosure": ["serializeFunction", "serializeFunctionAsync"],
    "@pulumi/pulumi/runtime/closure/codePaths": ["computeCodePaths", "findWorkspaceRoot"],
};

/**
 * Makes @pulumi/pulumi's closure serializer load when it is first called, not when the SDK is
 * imported. The SDK means to load it on demand (`dynamic/index.js`: "its dependencies are slow
 * to load"), but its runtime index imports it eagerly, and with it TypeScript's parser and npm's
 * arborist: 580 of the SDK's 770 modules, about 0.8 CPU-seconds of every process that imports
 * the SDK (the CLI and the dynamic-provider host, in every command). Dynoform's resources hand
 * the engine their providers already serialized (`infra/dynamic-resource.ts`), so most commands
 * never call it. Each deferred module is a stand-in whose functions load the real module on
 * their first call; anything else read from it loads it at once. Does nothing when the SDK is
 * already loaded or its files are not where 3.248.0 has them.
 */
export function deferClosureSerializer(): void {
    const cache = require.cache;
    for (const [id, functions] of Object.entries(DEFERRED)) {
        let file: string;
        try {
            file = require.resolve(id);
        } catch {
            continue;
        }
        if (cache[file]) continue;
        let real: Record<string | symbol, any> | undefined;
        const load = () => {
            if (!real) {
                delete cache[file];
                real = require(file) as Record<string | symbol, any>;
            }
            return real;
        };
        const standIn = new Module(file, module);
        standIn.filename = file;
        standIn.loaded = true;
        standIn.exports = new Proxy(
            {},
            {
                get: (_target, key) => {
                    if (key === "__esModule") return true;
                    if (typeof key === "string" && functions.includes(key) && !real) return (...args: unknown[]) => load()[key](...args);
                    return load()[key];
                },
            },
        );
        cache[file] = standIn;
    }
}

deferClosureSerializer();
