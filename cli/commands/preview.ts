import { CommandModule } from "yargs";
import { openValidated, say } from "../deploy";
import { interruptible } from "../interrupt";
import { GlobalOptions } from "../options";
import { formatPlan, planApp } from "../plan";
import { checkRouterPort } from "../router-port";
import { rolloutLines } from "../rollout-order";

/** `dynoform preview`: the typed formation diff, config changes, memory check, and the engine's preview. */
export const previewCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "preview",
    describe: "Show what `up` would change, without changing anything",
    builder: (y) => y.example("$0 preview --stack production", "the plan for production"),
    handler: async (argv) => {
        const { view, definition, stack } = await openValidated(argv);
        await checkRouterPort(view.settings.app, argv.stack, view.settings.routerPort, view.settings.routerHost);
        const plan = await planApp(stack, definition, view.settings.app, view.settings.image);
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
        if (argv.json) {
            process.stdout.write(JSON.stringify({ plan, changeSummary: preview.changeSummary, steps }, null, 2) + "\n");
            return;
        }
        const lines = formatPlan(plan);
        lines.push(
            ...rolloutLines(steps, {
                app: view.settings.app,
                types: definition.plan.map((p) => p.type),
                releaseCommand: definition.releaseCommand,
                healthchecks: definition.healthchecks,
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
