import * as pulumi from "@pulumi/pulumi";

/** Arguments of a {@link RandomSecret}. */
export interface RandomSecretArgs {
    /** Bytes of randomness (the value is their URL-safe base64; 24 bytes = 32 characters). */
    bytes?: pulumi.Input<number>;
    /** Values that, when changed, make a new secret. */
    keepers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

interface RandomSecretInputs {
    bytes?: number;
    keepers?: Record<string, string>;
}

interface RandomSecretOutputs extends RandomSecretInputs {
    value: string;
}

/** Generates once, keeps the value in state (encrypted); `@pulumi/random`'s job without a plugin download. */
export const randomSecretProvider: pulumi.dynamic.ResourceProvider<RandomSecretInputs, RandomSecretOutputs> = {
    async check(_olds, news) {
        const bytes = news.bytes ?? 24;
        const failures =
            Number.isInteger(bytes) && bytes >= 8 && bytes <= 256
                ? []
                : [{ property: "bytes", reason: `\`bytes\` must be a whole number from 8 to 256 (got ${JSON.stringify(news.bytes)})` }];
        return { inputs: news, failures };
    },
    async diff(_id, olds, news) {
        const replace =
            (olds.bytes ?? 24) !== (news.bytes ?? 24) || JSON.stringify(olds.keepers ?? {}) !== JSON.stringify(news.keepers ?? {});
        return { changes: replace, replaces: replace ? ["keepers"] : [] };
    },
    async create(inputs) {
        const crypto = require("crypto");
        const value: string = crypto.randomBytes(inputs.bytes ?? 24).toString("base64url");
        return { id: crypto.randomBytes(8).toString("hex"), outs: { ...inputs, value } };
    },
};

/** A random secret (an add-on password), generated once and kept as a Pulumi secret. */
export class RandomSecret extends pulumi.dynamic.Resource {
    public readonly value!: pulumi.Output<string>;

    constructor(name: string, args: RandomSecretArgs = {}, opts?: pulumi.CustomResourceOptions) {
        super(
            randomSecretProvider,
            name,
            { value: undefined, ...args },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["value"] }),
            "random",
            "Secret",
        );
    }
}
