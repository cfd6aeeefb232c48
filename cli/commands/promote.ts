import { CommandModule } from "yargs";
import { say } from "../deploy";
import { configPath, EditOptions, editAndDeploy, StackEdit, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { checkStack, projectDir } from "../project";
import { readAppOutputs, shortDigest } from "../stack-outputs";
import { readStackFile } from "../stack-settings";
import { dockerHostOf } from "../docker-host";
import { connectDocker, resolveDockerEndpoint } from "../../infra/docker/client";
import { copyImages } from "../../toolchain/base-images";

/**
 * Stacks on different Docker hosts: the image is streamed from the source's engine to the
 * target's (save | load, no registry) unless the target has that ID already; the ID is checked.
 */
async function copyToTargetEngine(imageId: string, fromHost: string, toHost: string, to: string): Promise<void> {
    if (fromHost === toHost) return;
    const [copy] = await copyImages(connectDocker(fromHost), connectDocker(toHost), [imageId]);
    if (copy.bytes === 0) return;
    const mb = copy.bytes / 1e6;
    say(`Copied image ${shortDigest(imageId)} to ${to}'s engine (${toHost.replace(/\?.*$/, "")}): ${mb.toFixed(0)} MB in ${(copy.ms / 1000).toFixed(1)} s (${(mb / (copy.ms / 1000)).toFixed(1)} MB/s), same ID`);
}

/**
 * How a promotion names what it moves: on a cluster the registry digest every node runs
 * (`hello@sha256:9c1e0f2a7b3d`, the same reference the target's services get), else the image ID. Pure.
 */
export function promotedName(imageId: string, imageRef?: string): string {
    const m = imageRef ? /([^/]+)@sha256:([0-9a-f]{12})[0-9a-f]*$/.exec(imageRef) : null;
    return m ? `${m[1]}@sha256:${m[2]}` : shortDigest(imageId);
}

interface PromoteOptions extends EditOptions {
    from: string;
    to: string;
}

/**
 * The stack edit that makes `target` run `imageId`: `dynoform:image`, which the program prefers
 * to `source` (nothing is built; the Procfile and app.json are still read from the source folder,
 * see appSources). Config, add-ons and formation stay the target's. Pure.
 */
export function promotionEdit(imageId: string, description: string): StackEdit {
    return {
        set: [{ path: configPath("image"), value: imageId }],
        // A promoted image stays until the next promotion: it is no rollback that new code ends.
        remove: [configPath("rollbackSourceHash")],
        preview: (view) => {
            view.settings.image = imageId;
        },
        description,
    };
}

/**
 * `dynoform promote --from staging --to production`: deploys the image the source stack's dynos
 * run (its `imageDigest`, an image ID) to the target stack, which keeps its own config vars,
 * add-ons and formation, as Heroku pipelines do. Both stacks belong to the project in `--cwd`.
 */
export const promoteCommand: CommandModule<GlobalOptions, PromoteOptions> = {
    command: "promote",
    describe: "Deploy the image one stack runs to another (config and add-ons stay the target's)",
    builder: (y) =>
        withUp(y)
            .option("from", { type: "string", demandOption: true, describe: "Stack whose current image is promoted" })
            .option("to", { type: "string", demandOption: true, describe: "Stack that gets it" })
            .example("$0 promote --from staging --to production", "ship what staging runs"),
    handler: async (argv) => {
        const dir = projectDir(argv);
        checkStack(dir, argv.from);
        checkStack(dir, argv.to);
        if (argv.from === argv.to) throw new UsageError(`--from and --to are both ${argv.from}: promote goes from one stack to another`);
        const target = readStackFile(dir, argv.to);
        const app = target.settings.app;

        const source = await readAppOutputs({ cwd: dir, stack: argv.from });
        const digest = source.imageDigest;
        if (!digest) throw new Error(`${argv.from} has not been deployed: there is no image to promote (run \`dynoform up --stack ${argv.from}\`)`);
        const before = (await readAppOutputs({ cwd: dir, stack: argv.to })).imageDigest;
        if (before === digest && target.settings.image === digest) {
            if (argv.json) process.stdout.write(JSON.stringify({ from: argv.from, to: argv.to, imageDigest: digest, changed: false }) + "\n");
            else process.stdout.write(`${argv.to} already runs ${shortDigest(digest)} from ${argv.from}: nothing to promote\n`);
            return;
        }
        const moved = promotedName(digest, source.imageRef);
        say(`Promoting ${app}: ${argv.from} (${moved}) -> ${argv.to} (${shortDigest(before)})`);
        await copyToTargetEngine(digest, dockerHostOf(dir, argv.from), resolveDockerEndpoint().host, argv.to);
        const result = await editAndDeploy(
            { ...argv, stack: argv.to },
            promotionEdit(digest, `Promote from ${argv.from} (${moved})`),
        );
        if (argv.json) return;
        process.stdout.write(
            `${argv.to}: image ${shortDigest(before)} -> ${shortDigest(digest)} (${digest}, from ${argv.from})` +
                `${result ? `, release v${result.release}` : ""}; ${argv.to}'s config vars and add-ons kept\n`,
        );
    },
};
