import { CommandModule } from "yargs";
import { openValidated, say } from "../deploy";
import { interruptible } from "../interrupt";
import { GlobalOptions } from "../options";
import { progressPrinter } from "../progress";

/** `dynoform refresh`: reads every container into state; crashed, exited or missing dynos show up as drift. */
export const refreshCommand: CommandModule<GlobalOptions, GlobalOptions> = {
    command: "refresh",
    describe: "Read the actual containers into the stack's state (drift shows here; `up` heals it)",
    builder: (y) => y.example("$0 refresh --stack production", "report crashed, exited or removed dynos"),
    handler: async (argv) => {
        const { stack } = await openValidated(argv);
        const drift: Array<{ name: string; state: string }> = [];
        const result = await interruptible("refresh", (i) =>
            stack.refresh({
                color: "never",
                signal: i.signal,
                onEvent: i.onEvent((e) => {
                    const m = e.resOutputsEvent?.metadata;
                    const state = m?.new?.outputs?.state;
                    if (m && m.type.endsWith("docker:Dyno") && state && state !== "running") {
                        drift.push({ name: m.urn.split("::").pop()!, state });
                    }
                    if (!argv.json) progressPrinter(say)(e);
                }),
            }),
        );
        if (argv.json) {
            process.stdout.write(JSON.stringify({ result: result.summary.result, changes: result.summary.resourceChanges, drift }, null, 2) + "\n");
            return;
        }
        for (const d of drift) process.stdout.write(`drift: ${d.name} is ${d.state} (\`dynoform up\` brings it back)\n`);
        process.stdout.write(`refreshed: ${drift.length} dyno(s) drifted\n`);
    },
};
