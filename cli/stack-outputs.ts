import { readStackOutputs } from "../infra/engine/stack-read";
import type { ReleaseRecord } from "../infra/release";
import { GlobalOptions } from "./options";
import { checkStack, projectDir } from "./project";

/** The stack outputs the CLI reads after an `up` (see infra/program.ts). Secret ones are decrypted in memory only. */
export interface AppOutputs {
    app?: string;
    url?: string;
    releaseVersion?: number;
    releases?: ReleaseRecord[];
    /** The image ID the dynos run (`sha256:...`). */
    imageDigest?: string;
    /** On a cluster: that image in the cluster's registry, `127.0.0.1:5000/hello@sha256:...` ("" on one host). */
    imageRef?: string;
    dynos?: Record<string, string[]>;
    formation?: Record<string, { quantity: number; size: string; memoryMb: number }>;
    /** Attachment var by add-on: `{ postgres: "DATABASE_URL" }`. */
    addonAttachments?: Record<string, string>;
    /** Attachment URLs by var (secret); absent in stacks last deployed before it was recorded. */
    attachments?: Record<string, string>;
    /** Config vars the dynos run with (secret). */
    config?: Record<string, string>;
    /** Config vars of each kept release, by version (secret): what `rollback` restores. */
    configSnapshots?: Record<string, Record<string, string>>;
    /** Scheduled jobs the last deployment runs; absent in stacks last deployed before it was recorded. */
    schedulerJobs?: Array<{ name: string; schedule: string; what: string }>;
}

/** Picks the known outputs out of a stack's output values. Pure. */
export function appOutputs(values: Record<string, unknown>): AppOutputs {
    const v = <T>(k: string) => values[k] as T | undefined;
    return {
        app: v("app"),
        url: v("url"),
        releaseVersion: v("releaseVersion"),
        releases: v("releases"),
        imageDigest: v("imageDigest"),
        imageRef: v("imageRef"),
        dynos: v("dynos"),
        formation: v("formation"),
        addonAttachments: v("addonAttachments"),
        attachments: v("attachments"),
        config: v("config"),
        configSnapshots: v("configSnapshots"),
        schedulerJobs: v("schedulerJobs"),
    };
}

/** The outputs of a stack of the project in `--cwd` (empty before its first `up`); nothing is deployed. */
export async function readAppOutputs(argv: Pick<GlobalOptions, "cwd" | "stack">): Promise<AppOutputs> {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    return appOutputs(await readStackOutputs({ projectDir: dir, stack: argv.stack }));
}

/** `sha256:3f9a1c2b4d5e...` -> `3f9a1c2b4d5e`: how image IDs are shown. Pure. */
export function shortDigest(imageId: string | undefined): string {
    return imageId ? imageId.replace(/^sha256:/, "").slice(0, 12) : "(none)";
}
