// Loaded first by every Dynoform process that imports the Pulumi SDK (the CLI's entry, and the
// dynamic-provider host through NODE_OPTIONS=--require): see `deferClosureSerializer`.
import Module = require("module");

/**
 * The closure serializer's modules as the SDK's runtime index requires them, and the functions
 * it takes from each when it is imported.
 */
const DEFERRED: Record<string, string[]> = {
    "./closure/serializeClosure": ["serializeFunction", "serializeFunctionAsync"],
    "./closure/codePaths": ["computeCodePaths"],
};

type Load = (request: string, parent: NodeJS.Module | undefined, isMain: boolean) => unknown;

/**
 * Makes @pulumi/pulumi's closure serializer load when it is first called, not when the SDK is
 * imported. The SDK means to load it on demand (`dynamic/index.js`: "its dependencies are slow
 * to load"), but its runtime index imports it eagerly, and with it TypeScript's parser and npm's
 * arborist: 580 of the SDK's 770 modules, about 0.8 CPU-seconds of every process that imports
 * the SDK (the CLI and the dynamic-provider host, in every command). Dynoform's resources hand
 * the engine their providers already serialized (`infra/dynamic-resource.ts`), so most commands
 * never call it.
 *
 * Only the runtime index's two requires are answered with a stand-in whose functions load the
 * real module on their first call (anything else read from it loads it at once); every other
 * require, and the real module's own, go to Node as usual.
 */
export function deferClosureSerializer(): void {
    const loader = Module as unknown as { _load: Load & { deferred?: true } };
    if (loader._load.deferred) return;
    const original = loader._load;
    const deferred: Load & { deferred?: true } = function (this: unknown, request, parent, isMain) {
        const functions = DEFERRED[request];
        if (functions && parent?.filename && /[\\/]@pulumi[\\/]pulumi[\\/]runtime[\\/]index\.js$/.test(parent.filename)) {
            return standIn(() => original.call(loader, request, parent, isMain) as Record<string | symbol, any>, functions);
        }
        return original.call(this, request, parent, isMain);
    };
    deferred.deferred = true;
    loader._load = deferred;
}

/** Exports that load the real module (`load`) on first use; `functions` are wrappers until then. */
function standIn(load: () => Record<string | symbol, any>, functions: string[]): object {
    let real: Record<string | symbol, any> | undefined;
    const module = () => (real ??= load());
    return new Proxy(
        {},
        {
            get: (_target, key) => {
                if (key === "__esModule") return true;
                if (typeof key === "string" && functions.includes(key) && !real) return (...args: unknown[]) => module()[key](...args);
                return module()[key];
            },
        },
    );
}

deferClosureSerializer();
