import * as fs from "fs";
import * as path from "path";
import { CommandModule } from "yargs";
import { releasesOf, stackOutputs } from "../app-state";
import { configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";
import { projectDir } from "../project";
import { sourceHash } from "../rollback-pin";
import { readStackFile } from "../stack-settings";
import { parseVersion } from "./releases-info";

interface RollbackOptions extends EditOptions {
    release?: string;
}

/**
 * `dynoform rollback [vN]`: deploys that release's image (by ID) and config again, as a new
 * release (always a new release, even when nothing the dynos run changes). The formation and
 * the add-ons stay as they are (as on Heroku). The image stays pinned until the source changes.
 */
export const rollbackCommand: CommandModule<GlobalOptions, RollbackOptions> = {
    command: "rollback [release]",
    describe: "Deploy an earlier release's image and config again (the previous one by default)",
    builder: (y) => withUp(y).positional("release", { type: "string", describe: "v1, v2, ..." }).example("$0 rollback v3", ""),
    handler: async (argv) => {
        const { outputs } = await stackOutputs(argv);
        // A failed release never ran: it is neither the current one nor one to go back to.
        const releases = releasesOf(outputs).filter((r) => r.status !== "failed");
        const current = releases[releases.length - 1];
        if (!current) throw new UsageError(`${argv.stack} has no releases yet`);
        const target = argv.release ? parseVersion(argv.release) : releases[releases.length - 2]?.version ?? current.version - 1;
        const release = releases.find((r) => r.version === target);
        const snapshots = outputs.configSnapshots ?? {};
        const snapshot = snapshots[String(target)];
        if (!release || !snapshot) {
            const kept = Object.keys(snapshots).map((v) => `v${v}`).join(", ");
            throw new UsageError(`cannot roll back to v${target}: its image and config are not kept (releases that can be restored: ${kept || "none"})`);
        }
        const view = readStackFile(projectDir(argv), argv.stack);
        const deployed = outputs.config ?? {};
        const plainNow = view.settings.config ?? {};
        const inStackFile = (k: string) => k in plainNow || view.secretKeys.includes(k);
        // Values the app derives itself (app.json defaults, generated secrets) stay derived when unchanged;
        // keys that are secret now, or not plain config now, are restored as secrets.
        const restored = Object.entries(snapshot).filter(([k, v]) => inStackFile(k) || deployed[k] !== v);
        const set = restored.map(([k, v]) => ({
            path: configPath(k in plainNow && !view.secretKeys.includes(k) ? "config" : "secrets", k),
            value: v,
            secret: !(k in plainNow) || view.secretKeys.includes(k),
        }));
        const remove = Object.keys(deployed)
            .filter((k) => !(k in snapshot))
            .flatMap((k) => [configPath("config", k), configPath("secrets", k)]);
        // The pin lasts until the source changes: recorded with the source's hash, dropped by the next deploy of new code.
        const dir = projectDir(argv);
        const source = view.settings.source ? path.resolve(dir, view.settings.source) : undefined;
        const hash = source && fs.existsSync(source) ? sourceHash(source) : undefined;
        const result = await editAndDeploy(argv, {
            set: [
                { path: "dynoform:image", value: release.imageId },
                ...(hash ? [{ path: "dynoform:rollbackSourceHash", value: hash }] : []),
                ...set,
            ],
            remove: hash ? remove : [...remove, "dynoform:rollbackSourceHash"],
            preview: (v) => {
                v.settings.image = release.imageId;
            },
            description: `Rollback to v${target}`,
            newRelease: true,
        });
        if (result && !argv.json) {
            process.stdout.write(
                `Add-ons are kept as they are (a rollback restores code and config vars, not add-ons or their data).\n` +
                    (hash
                        ? `v${target}'s image stays until the source changes: the next deploy of new code builds it (\`dynoform up\`).\n`
                        : `v${target}'s image is pinned as dynoform:image in stacks/Pulumi.${argv.stack}.yaml.\n`),
            );
        }
    },
};
