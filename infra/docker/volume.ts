import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "../dynamic-resource";

/** Arguments of a {@link Volume}: a named Docker volume, kept on delete unless asked otherwise. */
export interface VolumeArgs {
    /** Docker host; DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** Volume name, e.g. `hello.dev.postgres-data` (see `dockerName`). */
    name: pulumi.Input<string>;
    /** Labels (app, stack, add-on). A volume found under `name` is adopted only when its app and stack labels match these. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * Names the volume had under an earlier naming scheme: a volume recorded in state under one
     * of them keeps it (no replacement, the data stays), and when `name` does not exist, one of
     * them whose owner labels match is adopted instead of creating an empty volume.
     */
    formerNames?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Remove the volume (and its data) when the resource is deleted. Off by default: add-on
     * data outlives its containers and the app. The `dynoform` CLI sets it only for the router's
     * config volume; `destroy --delete-addon-data` deletes data volumes itself (cli/addon-data.ts).
     */
    deleteOnDestroy?: pulumi.Input<boolean>;
}

/** {@link VolumeArgs} resolved. */
export interface VolumeInputs {
    dockerHost?: string;
    name: string;
    labels?: Record<string, string>;
    formerNames?: string[];
    deleteOnDestroy?: boolean;
}

/** Provider outputs. `name` is the volume's actual name: `inputs.name`, or the former name it kept. */
export interface VolumeOutputs extends VolumeInputs {
    mountpoint: string;
    /** True when create found the volume already there (data kept from an earlier deploy). */
    adopted: boolean;
}

const CLIENT = require.resolve("./client");
const LABELS = require.resolve("./labels");
const PROVIDER = require.resolve("../provider");
const SELF = __filename;

/** Whether a volume named `current` in state is the one `news` asks for (same name, or a former one). Pure. */
export function sameVolumeName(current: string, news: Pick<VolumeInputs, "name" | "formerNames">): boolean {
    return current === news.name || (news.formerNames ?? []).includes(current);
}

/**
 * Fields of a volume by what a change does. Labels are recorded only: Docker cannot relabel a
 * volume, and replacing it would risk the data. `formerNames` is no field of its own: it only
 * says whether `name` changed.
 */
export const VOLUME_FIELDS = {
    replace: ["dockerHost", "name"],
    meta: ["deleteOnDestroy", "labels"],
} as const;

/** Compares state to desired inputs: a volume recorded under a former name keeps it. Pure. */
export function diffVolume(olds: VolumeOutputs, news: VolumeInputs): pulumi.dynamic.DiffResult {
    const { diffByFields } = require(PROVIDER);
    return diffByFields(olds, news, VOLUME_FIELDS, {
        defaults: { deleteOnDestroy: false },
        same: { name: (o: VolumeInputs, n: VolumeInputs) => require(SELF).sameVolumeName(o.name, n) },
    });
}

/** Volume provider: a kept volume is adopted again by the next create of the same name. */
export const volumeProvider: pulumi.dynamic.ResourceProvider<VolumeInputs, VolumeOutputs> = {
    async check(_olds, news) {
        return { inputs: news, failures: require(PROVIDER).objectNameFailures(news.name) };
    },
    async diff(_id, olds, news) {
        return require(SELF).diffVolume(olds, news);
    },
    async create(inputs) {
        const { connectDocker } = require(CLIENT);
        const { notOwned } = require(LABELS);
        const docker = connectDocker(inputs.dockerHost);
        const inspect = (name: string) => require(PROVIDER).unlessGone(() => docker.getVolume(name).inspect());
        const found = await inspect(inputs.name);
        if (found) {
            // Never adopt another app's data: the owner labels must be this app's and stack's.
            const refused = notOwned("volume", inputs.name, found.Labels, inputs.labels);
            if (refused) throw new Error(refused);
            return { id: inputs.name, outs: { ...inputs, mountpoint: found.Mountpoint, adopted: true } };
        }
        for (const former of inputs.formerNames ?? []) {
            const old = await inspect(former);
            if (old && !notOwned("volume", former, old.Labels, inputs.labels)) {
                return { id: former, outs: { ...inputs, name: former, mountpoint: old.Mountpoint, adopted: true } };
            }
        }
        await docker.createVolume({ Name: inputs.name, Labels: inputs.labels ?? {} });
        // dockerode resolves createVolume to a handle, not the engine's answer: inspect for the mountpoint.
        const info = await docker.getVolume(inputs.name).inspect();
        return { id: inputs.name, outs: { ...inputs, mountpoint: info.Mountpoint, adopted: false } };
    },
    async read(id, props) {
        const { connectDocker } = require(CLIENT);
        const info = await require(PROVIDER).unlessGone(() => connectDocker(props?.dockerHost).getVolume(id).inspect());
        return info ? { id, props: { ...props!, mountpoint: info.Mountpoint } } : {};
    },
    async update(_id, olds, news) {
        // The volume keeps its name (a former one stays: renaming would need moving the data).
        return { outs: { ...olds, ...news, name: olds.name } };
    },
    async delete(id, props) {
        if (!props.deleteOnDestroy) return;
        const { connectDocker } = require(CLIENT);
        await require(PROVIDER).unlessGone(() => connectDocker(props.dockerHost).getVolume(id).remove());
    },
};

/** A named Docker volume. Deleting the resource keeps the data unless `deleteOnDestroy` was set. */
export class Volume extends DynamicResource {
    declare public readonly name: pulumi.Output<string>;
    declare public readonly mountpoint: pulumi.Output<string>;
    declare public readonly adopted: pulumi.Output<boolean>;

    constructor(name: string, args: VolumeArgs, opts?: pulumi.CustomResourceOptions) {
        super(volumeProvider, name, { mountpoint: undefined, adopted: undefined, ...args }, opts, "docker", "Volume");
    }
}
