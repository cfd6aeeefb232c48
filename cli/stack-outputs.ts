import { OutputMap } from "@pulumi/pulumi/automation";
import { openStack } from "../infra/engine/workspace";
import { ReleaseRecord } from "../infra/release";
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
    dynos?: Record<string, string[]>;
    formation?: Record<string, { quantity: number; size: string; memoryMb: number }>;
    /** Attachment var by add-on: `{ postgres: "DATABASE_URL" }`. */
    addonAttachments?: Record<string, string>;
    /** Attachment URLs by var (secret); absent in stacks last deployed before it was recorded. */
    attachments?: Record<string, string>;
    /** Config vars the dynos run with (secret). */
    config?: Record<string, string>;
}

/** Picks the known outputs out of an Automation API output map. Pure. */
export function appOutputs(map: OutputMap): AppOutputs {
    const v = <T>(k: string) => map[k]?.value as T | undefined;
    return {
        app: v("app"),
        url: v("url"),
        releaseVersion: v("releaseVersion"),
        releases: v("releases"),
        imageDigest: v("imageDigest"),
        dynos: v("dynos"),
        formation: v("formation"),
        addonAttachments: v("addonAttachments"),
        attachments: v("attachments"),
        config: v("config"),
    };
}

/** The outputs of a stack of the project in `--cwd` (empty before its first `up`); nothing is deployed. */
export async function readAppOutputs(argv: Pick<GlobalOptions, "cwd" | "stack">): Promise<AppOutputs> {
    const dir = projectDir(argv);
    checkStack(dir, argv.stack);
    const stack = await openStack({ projectDir: dir, stack: argv.stack, program: async () => ({}) });
    return appOutputs(await stack.outputs());
}

/** `sha256:3f9a1c2b4d5e...` -> `3f9a1c2b4d5e`: how image IDs are shown. Pure. */
export function shortDigest(imageId: string | undefined): string {
    return imageId ? imageId.replace(/^sha256:/, "").slice(0, 12) : "(none)";
}
