import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "../dynamic-resource";

/** Arguments of a {@link RandomSecret}. */
export interface RandomSecretArgs {
    /** Bytes of randomness (the value is their URL-safe base64; 24 bytes = 32 characters). */
    bytes?: pulumi.Input<number>;
    /** Values that, when changed, make a new secret. */
    keepers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface RandomSecretInputs {
    bytes?: number;
    keepers?: Record<string, string>;
}

interface RandomSecretOutputs extends RandomSecretInputs {
    value: string;
}

const PROVIDER = require.resolve("../provider");
const SELF = __filename;

/** The byte count of a secret whose `bytes` is not set. */
export const DEFAULT_SECRET_BYTES = 24;

/** Validates secret inputs (a `bytes` not known yet is judged when it is). Pure. */
export function checkSecretInputs(news: RandomSecretInputs): pulumi.dynamic.CheckFailure[] {
    const { isUnknown } = require(PROVIDER);
    const bytes = news.bytes ?? DEFAULT_SECRET_BYTES;
    if (isUnknown(bytes) || (Number.isInteger(bytes) && bytes >= 8 && bytes <= 256)) return [];
    return [{ property: "bytes", reason: `\`bytes\` must be a whole number from 8 to 256 (got ${JSON.stringify(news.bytes)})` }];
}

/** A new byte count or new keepers make a new secret; an unset field is its default (no change). Pure. */
export function diffSecret(olds: RandomSecretInputs, news: RandomSecretInputs): pulumi.dynamic.DiffResult {
    return require(PROVIDER).diffByFields(olds, news, { replace: ["bytes", "keepers"] }, { defaults: { bytes: DEFAULT_SECRET_BYTES, keepers: {} } });
}

/** Generates once, keeps the value in state (encrypted); `@pulumi/random`'s job without a plugin download. */
export const randomSecretProvider: pulumi.dynamic.ResourceProvider<RandomSecretInputs, RandomSecretOutputs> = {
    async check(_olds, news) {
        return { inputs: news, failures: require(SELF).checkSecretInputs(news) };
    },
    async diff(_id, olds, news) {
        return require(SELF).diffSecret(olds, news);
    },
    async create(inputs) {
        const crypto = require("crypto");
        const value: string = crypto.randomBytes(inputs.bytes ?? require(SELF).DEFAULT_SECRET_BYTES).toString("base64url");
        return { id: crypto.randomBytes(8).toString("hex"), outs: { ...inputs, value } };
    },
};

/** A random secret (an add-on password), generated once and kept as a Pulumi secret. */
export class RandomSecret extends DynamicResource {
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
