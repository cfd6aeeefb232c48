import * as pulumi from "@pulumi/pulumi";

/** Arguments of a {@link Volume}: a named Docker volume, kept on delete unless asked otherwise. */
export interface VolumeArgs {
    /** Docker host; DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** Volume name, e.g. `hello-dev-postgres-data`. */
    name: pulumi.Input<string>;
    /** Labels (app, stack, add-on). */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Remove the volume (and its data) when the resource is deleted. Off by default: add-on
     * data outlives its containers and the app. Set it, run `up`, then `destroy`, to delete data.
     */
    deleteOnDestroy?: pulumi.Input<boolean>;
}

/** {@link VolumeArgs} resolved. */
export interface VolumeInputs {
    dockerHost?: string;
    name: string;
    labels?: Record<string, string>;
    deleteOnDestroy?: boolean;
}

/** Provider outputs. */
export interface VolumeOutputs extends VolumeInputs {
    mountpoint: string;
    /** True when create found the volume already there (data kept from an earlier deploy). */
    adopted: boolean;
}

const CLIENT = require.resolve("./client");

/** Volume provider: a kept volume is adopted again by the next create of the same name. */
export const volumeProvider: pulumi.dynamic.ResourceProvider<VolumeInputs, VolumeOutputs> = {
    async check(_olds, news) {
        // A name not known yet (preview) is judged when it is.
        const { runtime } = require("@pulumi/pulumi");
        const failures = news.name === runtime.unknownValue || /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(news.name ?? "")
            ? []
            : [{ property: "name", reason: `\`name\` must be letters, digits, '_', '.' or '-' (got ${JSON.stringify(news.name)})` }];
        return { inputs: news, failures };
    },
    async diff(_id, olds, news) {
        const replaces = (["dockerHost", "name"] as const).filter((k) => (olds[k] ?? null) !== (news[k] ?? null));
        const changes = replaces.length > 0 || (olds.deleteOnDestroy ?? false) !== (news.deleteOnDestroy ?? false);
        // Labels are informational: Docker cannot relabel a volume, and replacing it would risk data.
        return { changes, replaces, deleteBeforeReplace: false };
    },
    async create(inputs) {
        const { connectDocker, isNotFound } = require(CLIENT);
        const docker = connectDocker(inputs.dockerHost);
        try {
            const info = await docker.getVolume(inputs.name).inspect();
            return { id: inputs.name, outs: { ...inputs, mountpoint: info.Mountpoint, adopted: true } };
        } catch (err) {
            if (!isNotFound(err)) throw err;
        }
        await docker.createVolume({ Name: inputs.name, Labels: inputs.labels ?? {} });
        // dockerode resolves createVolume to a handle, not the engine's answer: inspect for the mountpoint.
        const info = await docker.getVolume(inputs.name).inspect();
        return { id: inputs.name, outs: { ...inputs, mountpoint: info.Mountpoint, adopted: false } };
    },
    async read(id, props) {
        const { connectDocker, isNotFound } = require(CLIENT);
        try {
            const info = await connectDocker(props?.dockerHost).getVolume(id).inspect();
            return { id, props: { ...props!, mountpoint: info.Mountpoint } };
        } catch (err) {
            if (isNotFound(err)) return {};
            throw err;
        }
    },
    async update(_id, olds, news) {
        return { outs: { ...olds, ...news } };
    },
    async delete(id, props) {
        if (!props.deleteOnDestroy) return;
        const { connectDocker, isNotFound } = require(CLIENT);
        try {
            await connectDocker(props.dockerHost).getVolume(id).remove();
        } catch (err) {
            if (!isNotFound(err)) throw err;
        }
    },
};

/** A named Docker volume. Deleting the resource keeps the data unless `deleteOnDestroy` was set. */
export class Volume extends pulumi.dynamic.Resource {
    declare public readonly name: pulumi.Output<string>;
    declare public readonly mountpoint: pulumi.Output<string>;
    declare public readonly adopted: pulumi.Output<boolean>;

    constructor(name: string, args: VolumeArgs, opts?: pulumi.CustomResourceOptions) {
        super(volumeProvider, name, { mountpoint: undefined, adopted: undefined, ...args }, opts, "docker", "Volume");
    }
}
