import { CommandModule } from "yargs";
import { prepareDeploy, say } from "../deploy";
import { interruptible } from "../interrupt";
import { GlobalOptions } from "../options";
import { formatPlan } from "../plan";
import { deployedJobs, schedulerChanges } from "../scheduler";
import { rolloutLines } from "../rollout-order";

/** `dynoform preview`: the typed formation diff, config changes, memory check, and the engine's preview. */
export const previewCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "preview",
    describe: "Show what `up` would change, without changing anything",
    builder: (y) => y.example("$0 preview --stack production", "the plan for production"),
    handler: async (argv) => {
        const { stack, plan, loaded } = await prepareDeploy(argv, { changesNothing: true });
        const steps: Array<{ op: string; type: string; name: string; diffs: string[] }> = [];
        const preview = await interruptible("preview", (i) =>
            stack.preview({
                color: "never",
                signal: i.signal,
                onEvent: i.onEvent((e) => {
                    const m = e.resourcePreEvent?.metadata;
                    if (m && m.op !== "same" && m.type !== "pulumi:pulumi:Stack") {
                        steps.push({ op: m.op, type: m.type.replace(/^pulumi-nodejs:dynamic\//, ""), name: m.urn.split("::").pop()!, diffs: m.diffs ?? [] });
                    }
                }),
            }),
        );
        const scheduler = schedulerChanges(plan.deployedJobs ?? (await deployedJobs(argv)), loaded.definition.scheduler ?? []);
        if (argv.json) {
            process.stdout.write(JSON.stringify({ plan, scheduler, changeSummary: preview.changeSummary, steps }, null, 2) + "\n");
            return;
        }
        const lines = [...formatPlan(plan), ...scheduler];
        lines.push(
            ...rolloutLines(steps, {
                app: loaded.view.settings.app,
                types: loaded.definition.plan.map((p) => p.type),
                releaseCommand: loaded.definition.releaseCommand,
                healthchecks: loaded.definition.healthchecks,
                stopGraceSeconds: loaded.definition.stopGraceSeconds,
                currentRelease: plan.currentRelease,
            }),
        );
        for (const s of steps) lines.push(`  ${s.op.padEnd(18)} ${s.type} ${s.name}${s.diffs.length ? ` [${s.diffs.join(", ")}]` : ""}`);
        const summary = Object.entries(preview.changeSummary).map(([k, v]) => `${v} ${k}`).join(", ");
        lines.push(`Resources: ${summary}`);
        process.stdout.write(lines.join("\n") + "\n");
        if (!plan.memory.fits) say("warning: the Docker host does not have the memory this formation needs; `up` will refuse it");
    },
};
