import * as pulumi from "@pulumi/pulumi";

// The app's image in the cluster's registry (registry.ts): pushed once from the manager, where
// it was built, and named by digest, `127.0.0.1:5000/hello@sha256:...`, which every node pulls
// through its own 127.0.0.1. No image is copied to a node any more (only the registry's own,
// once per node: it is what serves 127.0.0.1:5000 there).

/** Arguments of {@link RegistryImage}. */
export interface RegistryImageArgs {
    /** The manager, which holds the image; DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** The workers' Docker hosts (they get the registry's image, to serve 127.0.0.1:5000). */
    workers: pulumi.Input<string[]>;
    /** The image ID to push. */
    imageId: pulumi.Input<string>;
    /** `registryRepository(app)`. */
    repository: pulumi.Input<string>;
}

/** {@link RegistryImageArgs} resolved. */
export interface RegistryImageInputs {
    dockerHost?: string;
    workers: string[];
    imageId: string;
    repository: string;
}

export interface RegistryImageOutputs extends RegistryImageInputs {
    /** What services run: `127.0.0.1:5000/hello@sha256:<manifest digest>`. */
    ref: string;
}

const CLIENT = require.resolve("../docker/client");
const PROVIDER = require.resolve("../provider");
const REGISTRY = require.resolve("./registry");

async function push(inputs: RegistryImageInputs): Promise<RegistryImageOutputs> {
    const { connectDocker } = require(CLIENT);
    const { startClusterRegistry, pushImage } = require(REGISTRY);
    await startClusterRegistry(inputs.dockerHost, inputs.workers);
    return { ...inputs, ref: await pushImage(connectDocker(inputs.dockerHost), inputs.imageId, inputs.repository) };
}

/** Pushes on create and on any change; the registry keeps what was pushed (a rollback runs it again). */
export const registryImageProvider: pulumi.dynamic.ResourceProvider<RegistryImageInputs, RegistryImageOutputs> = {
    async diff(_id, olds, news) {
        return require(PROVIDER).diffByFields(olds, news, { replace: [], update: ["dockerHost", "workers", "imageId", "repository"] });
    },
    async create(inputs) {
        const outs = await push(inputs);
        return { id: outs.ref, outs };
    },
    async update(_id, _olds, news) {
        return { outs: await push(news) };
    },
    async delete() {
        // Pushed images stay in the registry, as built images stay on a single host (`destroy` keeps images).
    },
};

/** The app's image in the cluster's registry, by digest. */
export class RegistryImage extends pulumi.dynamic.Resource {
    declare public readonly ref: pulumi.Output<string>;

    constructor(name: string, args: RegistryImageArgs, opts?: pulumi.CustomResourceOptions) {
        super(registryImageProvider, name, { ref: undefined, ...args }, opts, "swarm", "RegistryImage");
    }
}
