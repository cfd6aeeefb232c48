import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * Unit-test support for Dynoform's components: `pulumi.runtime.setMocks` with a `newResource`
 * that records every registration (as pulumi-awsx's tests do) and answers with plausible
 * outputs, so the resource graph can be checked with no Docker engine and no Pulumi CLI.
 *
 * `MockResourceArgs` carries neither the parent nor the dependencies, so the mock monitor's
 * `registerResource` is wrapped too: it reads them, and which inputs are secret, straight from
 * the RegisterResourceRequest the SDK sends, i.e. what the engine would see.
 */

/** Type tokens of the dynamic resources the components create. */
export const T = {
    App: "dynoform:index:App",
    AddOn: "dynoform:addon:AddOn",
    Formation: "dynoform:index:Formation",
    Router: "dynoform:index:Router",
    Dyno: "pulumi-nodejs:dynamic/docker:Dyno",
    Image: "pulumi-nodejs:dynamic/docker:Image",
    Network: "pulumi-nodejs:dynamic/docker:Network",
    Volume: "pulumi-nodejs:dynamic/docker:Volume",
    RouterConfig: "pulumi-nodejs:dynamic/docker:RouterConfig",
    ReleasePhase: "pulumi-nodejs:dynamic/docker:ReleasePhase",
    Release: "pulumi-nodejs:dynamic/dynoform:Release",
    RandomSecret: "pulumi-nodejs:dynamic/random:Secret",
} as const;

/** The base images every test App gets, so none reads ~/.dynoform. */
export const BASE_IMAGES = { node: "n", postgres: "p", redis: "r", nginx: "x" };

/** One registered resource, as the engine would have seen it. */
export interface Registered {
    type: string;
    name: string;
    /** Resolved inputs, secrets unwrapped; the dynamic provider's `__provider` text left out. */
    inputs: Record<string, any>;
    custom: boolean;
    /** Parent URN ("" for a root resource). */
    parent: string;
    /** URN, set once the registration has answered. */
    urn?: string;
    /** URNs of every direct dependency: explicit `dependsOn` (components expanded) and inputs. */
    dependencies: string[];
    /** Top-level input keys sent as secrets, or holding a secret somewhere inside. */
    secretInputs: string[];
    /** The outputs the mock answered with (inputs included, secrets unwrapped). */
    state: Record<string, any>;
}

/** Outputs a test wants to force for some resources; `undefined` keeps the defaults. */
export type StateOverride = (type: string, name: string, inputs: Record<string, any>) => Record<string, any> | undefined;

/** Everything registered since {@link installMocks}, with lookups. */
export class Recorder {
    readonly resources: Registered[] = [];
    private inFlight = 0;

    /** Registrations of one type, in registration order. */
    ofType(type: string): Registered[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one registration of `type` named `name`; fails the test if there is not exactly one. */
    get(type: string, name: string): Registered {
        const found = this.resources.filter((r) => r.type === type && r.name === name);
        if (found.length !== 1) {
            const seen = this.resources.map((r) => `${r.type} ${r.name}`).join("\n  ");
            throw new Error(`expected one ${type} named ${name}, found ${found.length}; registered:\n  ${seen}`);
        }
        return found[0];
    }

    /** Registrations whose parent is `urn`. */
    childrenOf(urn: string): Registered[] {
        return this.resources.filter((r) => r.parent === urn);
    }

    /** Registrations under `urn`, at any depth. */
    descendantsOf(urn: string): Registered[] {
        const out: Registered[] = [];
        const walk = (parent: string) => {
            for (const child of this.childrenOf(parent)) {
                out.push(child);
                if (child.urn) walk(child.urn);
            }
        };
        walk(urn);
        return out;
    }

    /** `type name` of `r`'s ancestors, nearest first, followed by the root's parent URN if unknown. */
    ancestors(r: Registered): string[] {
        const out: string[] = [];
        let parent = r.parent;
        while (parent) {
            const p = this.resources.find((x) => x.urn === parent);
            if (!p) {
                out.push(`? ${parent}`);
                break;
            }
            out.push(`${p.type} ${p.name}`);
            parent = p.parent;
        }
        return out;
    }

    /** `type name` of every registration, sorted, for whole-graph comparisons. */
    summary(filter: (r: Registered) => boolean = () => true): string[] {
        return this.resources.filter(filter).map((r) => `${r.type} ${r.name}`).sort();
    }

    /**
     * Waits until registration has gone quiet: nothing in flight and nothing new for a few
     * timer turns. Resources register asynchronously, after their inputs resolve.
     */
    async settle(): Promise<void> {
        let quiet = 0;
        let count = -1;
        while (quiet < 5) {
            await new Promise((resolve) => setTimeout(resolve, 5));
            if (this.inFlight === 0 && this.resources.length === count && this.resources.every((r) => r.urn)) quiet++;
            else quiet = 0;
            count = this.resources.length;
        }
    }

    /** @internal */
    begin(): void {
        this.inFlight++;
    }

    /** @internal */
    end(): void {
        this.inFlight--;
    }
}

const { specialSigKey: SECRET_SIG_KEY, specialSecretSig: SECRET_SIG } = pulumi.runtime;

function isSecretValue(v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

function containsSecret(v: unknown): boolean {
    if (isSecretValue(v)) return true;
    if (typeof v === "object" && v !== null) return Object.values(v).some(containsSecret);
    return false;
}

/** A deserialized value with every secret wrapper replaced by its value. */
function unwrapSecrets(v: unknown): unknown {
    if (isSecretValue(v)) return unwrapSecrets((v as { value: unknown }).value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

function hash(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

/** Plausible outputs of each dynamic resource, derived from its inputs (not its name where it matters). */
export function defaultState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    switch (type) {
        case T.Dyno: {
            // As containerNameFor names them, with a fixed suffix.
            const containerName = `${inputs.app}.${inputs.stack}.${inputs.processType}.${inputs.index}.abc123`;
            return {
                containerName,
                containerId: hash(containerName).slice(0, 12),
                startedAt: "2024-01-01T00:00:00.000Z",
                state: "running",
                exitCode: 0,
                restartCount: 0,
                ipAddress: "172.18.0.2",
            };
        }
        case T.Image: {
            const source = String(inputs.ref ?? inputs.context);
            return { imageId: `sha256:${hash(source)}`, imageRef: source, contentHash: hash(source), generatedDockerfile: false };
        }
        case "pulumi-nodejs:dynamic/swarm:RegistryImage":
            return { ref: `${inputs.repository}@sha256:${hash(String(inputs.imageId))}` };
        case T.Network:
            return { networkId: hash(String(inputs.name)).slice(0, 12) };
        case T.Volume:
            return { mountpoint: `/var/lib/docker/volumes/${inputs.name}/_data`, adopted: false };
        case T.RouterConfig:
            return { config: `# ${(inputs.upstreams ?? []).length} upstreams`, reloadedAt: "2024-01-01T00:00:00.000Z" };
        case T.ReleasePhase:
            return { exitCode: 0, finishedAt: "2024-01-01T00:00:00.000Z" };
        case T.Release:
            return {
                version: 1,
                history: [{ version: 1, releaseId: inputs.releaseId, imageId: inputs.imageId, description: "Deploy" }],
                snapshots: {},
            };
        case T.RandomSecret:
            return { value: `rnd-${name}` };
        default:
            return {};
    }
}

/**
 * Installs fresh mocks (a new mock monitor, so nothing from an earlier test is visible) and
 * returns the recorder. Call it before constructing the resources under test.
 */
export function installMocks(override?: StateOverride): Recorder {
    const recorder = new Recorder();
    let pending: (Pick<Registered, "parent" | "dependencies" | "secretInputs"> & { secretOutputs: string[] }) | undefined;
    let last: Registered | undefined;
    pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
                const { __provider, ...raw } = args.inputs as Record<string, any>;
                void __provider;
                const inputs = unwrapSecrets(raw) as Record<string, any>;
                const custom = args.custom ?? false;
                const outputs = custom
                    ? { ...defaultState(args.type, args.name, inputs), ...(override?.(args.type, args.name, inputs) ?? {}) }
                    : {};
                // A dynamic resource's outputs are its inputs plus what the provider adds; inputs
                // keep their secret wrapping, as the engine would keep them secret.
                const state: Record<string, any> = custom ? { ...raw, ...outputs } : {};
                // The engine, not the SDK, applies additionalSecretOutputs; the mock monitor does not.
                for (const key of pending?.secretOutputs ?? []) {
                    if (key in state && !isSecretValue(state[key])) state[key] = { [SECRET_SIG_KEY]: SECRET_SIG, value: state[key] };
                }
                const record: Registered = {
                    type: args.type,
                    name: args.name,
                    inputs,
                    custom,
                    parent: pending?.parent ?? "",
                    dependencies: pending?.dependencies ?? [],
                    secretInputs: pending?.secretInputs ?? [],
                    state: custom ? { ...inputs, ...outputs } : {},
                };
                recorder.resources.push(record);
                last = record;
                return { id: custom ? `${args.name}-id` : undefined, state };
            },
            call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
                throw new Error(`unexpected call ${args.token}`);
            },
        },
        "project",
        "stack",
        false,
    );
    // The mock monitor calls newResource synchronously inside registerResource, so the request's
    // parent, dependencies and secrets can be handed over through `pending`.
    const monitor = (pulumi.runtime as any).getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
        const object = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
        pending = {
            parent: req.getParent(),
            dependencies: req.getDependenciesList(),
            secretInputs: Object.keys(object).filter((k) => containsSecret(object[k])),
            secretOutputs: req.getAdditionalsecretoutputsList(),
        };
        last = undefined;
        let record: Registered | undefined;
        recorder.begin();
        const result = register(req, (err: unknown, resp: any) => {
            if (record && resp) record.urn = resp.getUrn();
            recorder.end();
            callback(err, resp);
        });
        record = last;
        pending = undefined;
        return result;
    };
    return recorder;
}

/** The resource's own type from a URN (the last `$`-separated part of the qualified type). */
export function urnType(urn: string): string {
    return urn.split("::")[2].split("$").pop()!;
}

/** The parent type chain of a URN, outermost first, ending with the resource's own type. */
export function urnTypeChain(urn: string): string[] {
    return urn.split("::")[2].split("$");
}

/** The value of an Output (or plain value), as pulumi-awsx's tests unwrap them. */
export function promiseOf<T>(x: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => {
        if (pulumi.Output.isInstance(x)) (x as pulumi.Output<T>).apply((v) => resolve(v as T));
        else Promise.resolve(x as T | Promise<T>).then(resolve);
    });
}

/** Whether an Output is marked secret. */
export function isSecret<T>(x: pulumi.Output<T>): Promise<boolean> {
    return pulumi.isSecret(x);
}
