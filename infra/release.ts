import * as pulumi from "@pulumi/pulumi";
import { DynamicResource } from "./dynamic-resource";

/** One entry of an app's release history (no secret in it: config is kept as a keyed hash). */
export interface ReleaseRecord {
    /** 1, 2, 3 ... shown as v1, v2, v3. */
    version: number;
    /** Id of the code release (image + config) the dynos run; a formation-only change keeps it. */
    releaseId: string;
    imageId: string;
    /** On a cluster: the image in the cluster's registry by digest (`127.0.0.1:5000/hello@sha256:...`), what every node ran. */
    imageRef?: string;
    /** Names of the config vars in this release (values are in the secret snapshot). */
    configKeys: string[];
    formation: Record<string, { quantity: number; size: string }>;
    createdAt: string;
    /** `Deploy 3f9a1c2b`, `Set FOO, BAR config vars`, `Scale web=3`, `Rollback to v4`. */
    description: string;
    /** Who ran the deploy (`$DYNOFORM_USER`, `$USER`). */
    by: string;
    /** `failed`: this release never served; the one before it kept serving. Absent: it was deployed. */
    status?: "failed";
    /** Why it failed (`dyno web.1 failed its health check GET /health: HTTP 500 ...`). */
    reason?: string;
    /** The failing dyno's (or release command's) last log lines. */
    logLines?: string[];
}

/** A release that failed to roll out, recorded by the deploy that put the previous one back. */
export interface FailedRelease {
    /** A token new to each failure, so the same failure is recorded once. */
    id: string;
    imageId: string;
    configKeys: string[];
    description: string;
    reason: string;
    logLines: string[];
}

/** Arguments of a {@link Release}. */
export interface ReleaseArgs {
    /** The code release id the dynos are labelled with (a keyed hash of image and config). */
    releaseId: pulumi.Input<string>;
    imageId: pulumi.Input<string>;
    /** On a cluster: the registry reference the services run (recorded with each release). */
    imageRef?: pulumi.Input<string>;
    /** The config vars (secret values stay secret: the whole snapshot is a secret output). */
    config: pulumi.Input<Record<string, pulumi.Input<string>>>;
    formation: pulumi.Input<Record<string, { quantity: number; size: string }>>;
    /** Overrides the generated description (`Rollback to v4`, `Promote from staging`). */
    description?: pulumi.Input<string>;
    by?: pulumi.Input<string>;
    /** A token new to this deploy: records a release even when nothing else changed (`rollback`). */
    request?: pulumi.Input<string>;
    /** A release that failed to roll out just before this deploy put the current one back: recorded as failed. */
    failed?: pulumi.Input<FailedRelease>;
}

interface ReleaseInputs {
    releaseId: string;
    imageId: string;
    imageRef?: string;
    config: Record<string, string>;
    formation: Record<string, { quantity: number; size: string }>;
    description?: string;
    by?: string;
    request?: string;
    failed?: FailedRelease;
}

interface ReleaseOutputs extends ReleaseInputs {
    version: number;
    history: ReleaseRecord[];
    /** Config of recent releases by version, for rollback. Secret. */
    snapshots: Record<string, Record<string, string>>;
}

const HISTORY_LIMIT = 100;
const SNAPSHOT_LIMIT = 20;

/** What changed between two releases, in Heroku's words. Pure. */
export function describeRelease(olds: ReleaseInputs | undefined, news: ReleaseInputs): string {
    if (news.description) return news.description;
    if (!olds) return `Deploy ${shortId(news.imageId)}`;
    const parts: string[] = [];
    if (olds.imageId !== news.imageId) parts.push(`Deploy ${shortId(news.imageId)}`);
    const keys = new Set([...Object.keys(olds.config), ...Object.keys(news.config)]);
    const set = [...keys].filter((k) => k in news.config && olds.config[k] !== news.config[k]).sort();
    const unset = [...keys].filter((k) => !(k in news.config)).sort();
    if (set.length) parts.push(`Set ${set.join(", ")} config vars`);
    if (unset.length) parts.push(`Remove ${unset.join(", ")} config vars`);
    // Same image and config vars with a new release id: the add-on attachments changed.
    if (!parts.length && olds.releaseId !== news.releaseId) parts.push("Update add-on attachments");
    return parts.join("; ") || "No change";
}

function shortId(imageId: string): string {
    return imageId.replace(/^sha256:/, "").slice(0, 8);
}

function record(version: number, inputs: ReleaseInputs, description: string): ReleaseRecord {
    return {
        version,
        releaseId: inputs.releaseId,
        imageId: inputs.imageId,
        ...(inputs.imageRef ? { imageRef: inputs.imageRef } : {}),
        configKeys: Object.keys(inputs.config).sort(),
        formation: inputs.formation,
        createdAt: new Date().toISOString(),
        description,
        by: inputs.by ?? process.env.DYNOFORM_USER ?? process.env.USER ?? require("os").userInfo().username,
    };
}

const SELF = __filename;
const PROVIDER = require.resolve("./provider");

/** The inputs whose change makes a new release: code, config vars and add-on attachments (in the id). */
export const RELEASE_FIELDS = ["releaseId", "imageId", "config"] as const;

/**
 * True when `news` is a new release of `olds`. Pure. As on Heroku, scaling and resizing are not
 * releases: a formation-only change updates the formation kept in state, not the version.
 */
export function isNewRelease(
    olds: Pick<ReleaseInputs, (typeof RELEASE_FIELDS)[number] | "request">,
    news: Pick<ReleaseInputs, (typeof RELEASE_FIELDS)[number] | "request">,
): boolean {
    // A one-run request token (rollback) is a release even when nothing else changed.
    if (news.request !== undefined && news.request !== olds.request) return true;
    return require(PROVIDER).changedFields(olds, news, RELEASE_FIELDS).length > 0;
}

/**
 * Release bookkeeping: every change of image, config or add-ons is a new version, recorded
 * with what changed. A formation change (scale, resize) is recorded in state without a version.
 */
export const releaseProvider: pulumi.dynamic.ResourceProvider<ReleaseInputs, ReleaseOutputs> = {
    async diff(_id, olds, news) {
        // Not a plain field list: a request token that is dropped again (the deploy after a
        // rollback) is no change, and the description and author only matter for a new release.
        const { isNewRelease, isNewFailure } = require(SELF);
        const { changedFields } = require(PROVIDER);
        const changed = isNewRelease(olds, news) || isNewFailure(olds, news) || changedFields(olds, news, ["formation"]).length > 0;
        return { changes: changed, replaces: [] };
    },
    async create(inputs) {
        const { describeRelease, recordRelease } = require(SELF);
        const entry = recordRelease(1, inputs, describeRelease(undefined, inputs));
        return {
            id: `release-${inputs.releaseId}`,
            outs: { ...inputs, version: 1, history: [entry], snapshots: { "1": inputs.config } },
        };
    },
    async update(_id, olds, news) {
        const { describeRelease, recordRelease, isNewRelease, isNewFailure, failedRecord, nextVersion } = require(SELF);
        let history: ReleaseRecord[] = olds.history;
        if (isNewFailure(olds, news)) history = [...history, failedRecord(nextVersion(history, olds.version), news.failed!)];
        if (!isNewRelease(olds, news)) {
            // Same image, config and id: only the formation (or a failed attempt) is new.
            return { outs: { ...news, version: olds.version, history: history.slice(-HISTORY_LIMIT), snapshots: olds.snapshots } };
        }
        // Failed releases take a number too (as on Heroku), so the next one counts from the last recorded.
        const version = nextVersion(history, olds.version);
        const entry = recordRelease(version, news, describeRelease(olds, news));
        history = [...history, entry].slice(-HISTORY_LIMIT);
        const snapshots = Object.fromEntries(
            Object.entries({ ...olds.snapshots, [String(version)]: news.config })
                .sort(([a], [b]) => Number(a) - Number(b))
                .slice(-SNAPSHOT_LIMIT),
        );
        return { outs: { ...news, version, history, snapshots } };
    },
};

export { record as recordRelease };

/** True when `news` brings a failed release not recorded yet. Pure. */
export function isNewFailure(olds: Pick<ReleaseInputs, "failed">, news: Pick<ReleaseInputs, "failed">): boolean {
    return news.failed !== undefined && news.failed.id !== olds.failed?.id;
}

/** The number the next release (or failed attempt) takes: one past the highest recorded. Pure. */
export function nextVersion(history: Pick<ReleaseRecord, "version">[], current: number): number {
    return Math.max(current, ...history.map((r) => r.version)) + 1;
}

/** The history entry of a release that failed to roll out. Pure apart from the clock and user. */
export function failedRecord(version: number, f: FailedRelease): ReleaseRecord {
    return {
        version,
        releaseId: "",
        imageId: f.imageId,
        configKeys: f.configKeys,
        formation: {},
        createdAt: new Date().toISOString(),
        description: f.description,
        by: process.env.DYNOFORM_USER ?? process.env.USER ?? require("os").userInfo().username,
        status: "failed",
        reason: f.reason,
        logLines: f.logLines,
    };
}

/** An app's release: its version number and history, kept in the stack's state. */
export class Release extends DynamicResource {
    public readonly version!: pulumi.Output<number>;
    public readonly history!: pulumi.Output<ReleaseRecord[]>;
    /** Config of recent releases by version (secret), for rollback. */
    public readonly snapshots!: pulumi.Output<Record<string, Record<string, string>>>;

    constructor(name: string, args: ReleaseArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            releaseProvider,
            name,
            { version: undefined, history: undefined, snapshots: undefined, ...args },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["config", "snapshots"] }),
            "dynoform",
            "Release",
        );
    }
}
