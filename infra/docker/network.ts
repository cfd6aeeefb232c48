import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "../dynamic-resource";

/** Arguments of a {@link Network}: the user-defined bridge network an app's containers share. */
export interface NetworkArgs {
    /** Docker host; DOCKER_HOST or the default socket when unset. */
    dockerHost?: pulumi.Input<string>;
    /** Network name, e.g. `hello.dev` (see `dockerName`). */
    name: pulumi.Input<string>;
    /** Labels (app, stack). A network found under `name` is adopted only when its app and stack labels match these. */
    labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Names of an earlier naming scheme: a network recorded in state under one of them keeps it (no replacement). */
    formerNames?: pulumi.Input<pulumi.Input<string>[]>;
    /** No route out of the network (add-on-only networks). */
    internal?: pulumi.Input<boolean>;
    /** A Swarm overlay network (attachable, so `run` containers can join it) instead of a bridge; on a manager. */
    overlay?: pulumi.Input<boolean>;
}

/** {@link NetworkArgs} resolved. */
export interface NetworkInputs {
    dockerHost?: string;
    name: string;
    labels?: Record<string, string>;
    formerNames?: string[];
    internal?: boolean;
    overlay?: boolean;
}

/** Provider outputs. */
export interface NetworkOutputs extends NetworkInputs {
    networkId: string;
}

const CLIENT = require.resolve("./client");
const LABELS = require.resolve("./labels");
const PROVIDER = require.resolve("../provider");
const SELF = __filename;

/**
 * Fields of a network by what a change does. Labels are recorded only: Docker cannot relabel a
 * network. `formerNames` is no field of its own: it only says whether `name` changed.
 */
export const NETWORK_FIELDS = {
    replace: ["dockerHost", "name", "internal", "overlay"],
    meta: ["labels"],
} as const;

/** Compares state to desired inputs: a network recorded under a former name keeps it. Pure. */
export function diffNetwork(olds: NetworkOutputs, news: NetworkInputs): pulumi.dynamic.DiffResult {
    const { diffByFields } = require(PROVIDER);
    return diffByFields(olds, news, NETWORK_FIELDS, {
        same: { name: (o: NetworkInputs, n: NetworkInputs) => o.name === n.name || (n.formerNames ?? []).includes(o.name) },
        // Docker refuses a second network of one name.
        deleteBeforeReplace: true,
    });
}

/** Network provider: host, name and `internal` replace the network; labels are recorded in state. */
export const networkProvider: pulumi.dynamic.ResourceProvider<NetworkInputs, NetworkOutputs> = {
    async check(_olds, news) {
        return { inputs: news, failures: require(PROVIDER).objectNameFailures(news.name) };
    },
    async diff(_id, olds, news) {
        return require(SELF).diffNetwork(olds, news);
    },
    async create(inputs) {
        const { connectDocker, engineMessage } = require(CLIENT);
        const { notOwned } = require(LABELS);
        const docker = connectDocker(inputs.dockerHost);
        const existing = await docker.listNetworks({ filters: { name: [inputs.name] } });
        const found = existing.find((n: { Name: string }) => n.Name === inputs.name);
        if (found) {
            // Left by an interrupted destroy of this same app: adopted; anyone else's: refused.
            const refused = notOwned("network", inputs.name, found.Labels, inputs.labels);
            if (refused) throw new Error(refused);
            return { id: inputs.name, outs: { ...inputs, networkId: found.Id } };
        }
        try {
            const net = await docker.createNetwork({
                Name: inputs.name,
                Driver: inputs.overlay ? "overlay" : "bridge",
                ...(inputs.overlay ? { Attachable: true } : {}),
                Internal: inputs.internal ?? false,
                CheckDuplicate: true,
                Labels: inputs.labels ?? {},
            });
            return { id: inputs.name, outs: { ...inputs, networkId: net.id } };
        } catch (err) {
            throw new Error(`network ${inputs.name}: ${engineMessage(err)}`);
        }
    },
    async read(id, props) {
        const { connectDocker } = require(CLIENT);
        const { unlessGone } = require(PROVIDER);
        const info = await unlessGone(() => connectDocker(props?.dockerHost).getNetwork(id).inspect());
        return info ? { id, props: { ...props!, networkId: info.Id } } : {};
    },
    async update(_id, olds, news) {
        // Only recorded fields changed; the network keeps its name (a former one stays).
        return { outs: { ...olds, ...news, name: olds.name } };
    },
    async delete(id, props) {
        const { connectDocker } = require(CLIENT);
        const { unlessGone } = require(PROVIDER);
        const network = connectDocker(props.dockerHost).getNetwork(id);
        await unlessGone(() => network.remove());
        // Swarm removes an overlay network once the last task has left it, after `remove` returned:
        // wait, so a deploy right after a destroy does not adopt a network that is going away.
        for (let waited = 0; props.overlay && (await unlessGone(() => network.inspect())); waited += 250) {
            if (waited > 60_000) throw new Error(`overlay network ${id} still there 60 s after it was removed`);
            await new Promise((r) => setTimeout(r, 250));
        }
    },
};

/** A user-defined bridge network: container DNS between an app's dynos, add-ons and router. */
export class Network extends DynamicResource {
    declare public readonly name: pulumi.Output<string>;
    declare public readonly networkId: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
        super(networkProvider, name, { networkId: undefined, ...args }, opts, "docker", "Network");
    }
}
