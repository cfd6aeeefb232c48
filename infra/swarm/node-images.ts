import * as pulumi from "@pulumi/pulumi";

// Without a registry, every node of a cluster must hold the app's image before a service can
// run a task there. The image is built once, on the manager, and copied by ID to each worker
// (`docker save | docker load` over the two APIs, toolchain/base-images.ts copyImages): the
// same bytes everywhere, which building on each node would not give (a rebuild is a new ID).

/** Arguments of {@link NodeImages}. */
export interface NodeImagesArgs {
    /** The manager, which holds the image; DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** The workers' Docker hosts. */
    workers: pulumi.Input<string[]>;
    /** The image ID to copy. */
    imageId: pulumi.Input<string>;
}

/** {@link NodeImagesArgs} resolved. */
export interface NodeImagesInputs {
    dockerHost?: string;
    workers: string[];
    imageId: string;
}

const BASE_IMAGES = require.resolve("../../toolchain/base-images");
const CLIENT = require.resolve("../docker/client");
const PROVIDER = require.resolve("../provider");

async function copyToWorkers(inputs: NodeImagesInputs): Promise<void> {
    const { connectDocker } = require(CLIENT);
    const { copyImages } = require(BASE_IMAGES);
    const manager = connectDocker(inputs.dockerHost);
    for (const worker of inputs.workers) {
        try {
            await copyImages(manager, connectDocker(worker), [inputs.imageId]);
        } catch (err) {
            throw new Error(`copying image ${inputs.imageId.slice(7, 19)} to ${worker}: ${(err as Error).message}`);
        }
    }
}

/** Copies the image to every worker on create and on any change; a worker already holding the ID is skipped. */
export const nodeImagesProvider: pulumi.dynamic.ResourceProvider<NodeImagesInputs, NodeImagesInputs> = {
    async diff(_id, olds, news) {
        return require(PROVIDER).diffByFields(olds, news, { replace: [], update: ["dockerHost", "workers", "imageId"] });
    },
    async create(inputs) {
        await copyToWorkers(inputs);
        return { id: inputs.imageId, outs: inputs };
    },
    async update(_id, _olds, news) {
        await copyToWorkers(news);
        return { outs: news };
    },
    async delete() {
        // The image stays on the workers, as built images stay on a single host (`destroy` keeps images).
    },
};

/** The app's image on every worker of the cluster. */
export class NodeImages extends pulumi.dynamic.Resource {
    declare public readonly imageId: pulumi.Output<string>;

    constructor(name: string, args: NodeImagesArgs, opts?: pulumi.CustomResourceOptions) {
        super(nodeImagesProvider, name, args, opts, "swarm", "NodeImages");
    }
}
