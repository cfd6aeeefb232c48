import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "../dynamic-resource";

/** Arguments of an {@link Image}: a prebuilt reference, or a build from a source folder. */
export interface ImageArgs {
    /** Docker host; DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** A prebuilt image (`registry/name:tag` or `name@sha256:...`): pulled where a registry answers, else it must exist locally. */
    ref?: pulumi.Input<string>;
    /** Source folder to build (absolute). Its Dockerfile is used; without one, a Node.js app is built on `nodeBaseImage`. */
    context?: pulumi.Input<string>;
    /** Dockerfile path inside `context` (default `Dockerfile` when present). */
    dockerfile?: pulumi.Input<string>;
    /** Image the generated Dockerfile builds on (a Node.js 20 runtime). */
    nodeBaseImage?: pulumi.Input<string>;
    /** Repository name for built images; the tag is the source content hash. */
    repository?: pulumi.Input<string>;
    /** Labels put on built images. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** {@link ImageArgs} resolved, plus the content hash `check` computes. */
export interface ImageInputs {
    dockerHost?: string;
    ref?: string;
    context?: string;
    dockerfile?: string;
    nodeBaseImage?: string;
    repository?: string;
    labels?: Record<string, string>;
    /** sha256 of the build context (honouring .dockerignore) and build recipe; set by check. */
    contentHash?: string;
}

/** Provider outputs. */
export interface ImageOutputs extends ImageInputs {
    /** The image ID (`sha256:...`): the digest releases pin and promotion copies. */
    imageId: string;
    /** The reference dynos are created from: `repository:<hash>` for builds, `ref` otherwise. */
    imageRef: string;
    /** True when the Dockerfile was generated for a Node.js app. */
    generatedDockerfile: boolean;
}

const OPS = require.resolve("./image-ops");
const PROVIDER = require.resolve("../provider");

/** Fields of an image by what a change does: each rebuilds (or re-resolves) in place, none replaces. */
export const IMAGE_FIELDS = {
    replace: [],
    update: ["dockerHost", "ref", "context", "dockerfile", "nodeBaseImage", "repository", "labels", "contentHash"],
} as const;

/** Image provider: a changed content hash or ref rebuilds (or re-resolves) in place, keeping old images for rollback. */
export const imageProvider: pulumi.dynamic.ResourceProvider<ImageInputs, ImageOutputs> = {
    async check(_olds, news) {
        return require(OPS).checkImage(news);
    },
    async diff(_id, olds, news) {
        return require(PROVIDER).diffByFields(olds, news, IMAGE_FIELDS);
    },
    async create(inputs) {
        return require(OPS).createImage(inputs);
    },
    async read(id, props) {
        return require(OPS).readImage(id, props);
    },
    async update(_id, _olds, news) {
        const { outs } = await require(OPS).createImage(news);
        return { outs };
    },
    async delete() {
        // Images are kept: earlier releases (rollback) and other stacks (promotion) may run them.
    },
};

/**
 * A Docker image for an app: a prebuilt reference, or built from a source folder. Rebuilt only
 * when the source's content hash changes; `imageId` is the digest a release pins.
 */
export class Image extends DynamicResource {
    declare public readonly imageId: pulumi.Output<string>;
    declare public readonly imageRef: pulumi.Output<string>;
    declare public readonly contentHash: pulumi.Output<string>;
    declare public readonly generatedDockerfile: pulumi.Output<boolean>;

    constructor(name: string, args: ImageArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            imageProvider,
            name,
            { imageId: undefined, imageRef: undefined, generatedDockerfile: undefined, contentHash: undefined, ...args },
            opts,
            "docker",
            "Image",
        );
    }
}
