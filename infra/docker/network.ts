import * as pulumi from "@pulumi/pulumi";

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
}

/** {@link NetworkArgs} resolved. */
export interface NetworkInputs {
    dockerHost?: string;
    name: string;
    labels?: Record<string, string>;
    formerNames?: string[];
    internal?: boolean;
}

/** Provider outputs. */
export interface NetworkOutputs extends NetworkInputs {
    networkId: string;
}

const CLIENT = require.resolve("./client");
const LABELS = require.resolve("./labels");

/** Network provider: every field is immutable (a change replaces the network). */
export const networkProvider: pulumi.dynamic.ResourceProvider<NetworkInputs, NetworkOutputs> = {
    async check(_olds, news) {
        // A name not known yet (preview) is judged when it is.
        const { runtime } = require("@pulumi/pulumi");
        const failures = news.name === runtime.unknownValue || /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(news.name ?? "")
            ? []
            : [{ property: "name", reason: `\`name\` must be letters, digits, '_', '.' or '-' (got ${JSON.stringify(news.name)})` }];
        return { inputs: news, failures };
    },
    async diff(_id, olds, news) {
        const fields = ["dockerHost", "labels", "internal"] as const;
        const replaces: string[] = fields.filter((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
        if (olds.name !== news.name && !(news.formerNames ?? []).includes(olds.name)) replaces.push("name");
        return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
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
                Driver: "bridge",
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
        const { connectDocker, isNotFound } = require(CLIENT);
        try {
            const info = await connectDocker(props?.dockerHost).getNetwork(id).inspect();
            return { id, props: { ...props!, networkId: info.Id } };
        } catch (err) {
            if (isNotFound(err)) return {};
            throw err;
        }
    },
    async delete(id, props) {
        const { connectDocker, isNotFound } = require(CLIENT);
        try {
            await connectDocker(props.dockerHost).getNetwork(id).remove();
        } catch (err) {
            if (!isNotFound(err)) throw err;
        }
    },
};

/** A user-defined bridge network: container DNS between an app's dynos, add-ons and router. */
export class Network extends pulumi.dynamic.Resource {
    declare public readonly name: pulumi.Output<string>;
    declare public readonly networkId: pulumi.Output<string>;

    constructor(name: string, args: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
        super(networkProvider, name, { networkId: undefined, ...args }, opts, "docker", "Network");
    }
}
