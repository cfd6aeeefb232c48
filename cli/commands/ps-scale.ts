import { CommandModule } from "yargs";
import { validateQuantity } from "../../components/formation-plan";
import { resolveDynoSize } from "../../components/dyno-size";
import { asUsage, configPath, distinctTypes, EditOptions, editAndDeploy, typeAssignment, withUp } from "../edit";
import { GlobalOptions } from "../options";

interface ScaleOptions extends EditOptions {
    changes: string[];
}

/** Parses `web=3`, `worker=2:standard-2x` (Heroku's syntax). Pure. */
export function parseScaleArg(arg: string): { type: string; quantity: number; size?: string } {
    const { type, value } = typeAssignment("ps:scale", arg, "TYPE=QUANTITY[:SIZE] (e.g. web=3 or worker=2:standard-2x)");
    const [q, size] = value.includes(":") ? [value.slice(0, value.indexOf(":")), value.slice(value.indexOf(":") + 1)] : [value, undefined];
    const quantity = asUsage(() => validateQuantity(/^\d+$/.test(q) ? Number(q) : q, `formation.${type}.quantity`));
    if (size !== undefined) asUsage(() => resolveDynoSize(size, `formation.${type}.size`));
    return { type, quantity, size };
}

/** `dynoform ps:scale web=3 worker=1`: edits the formation and deploys; only the difference starts or stops. */
export const psScaleCommand: CommandModule<GlobalOptions, ScaleOptions> = {
    command: "ps:scale <changes..>",
    describe: "Scale process types (TYPE=QUANTITY[:SIZE])",
    builder: (y) =>
        withUp(y)
            .positional("changes", { type: "string", array: true, demandOption: true })
            .example("$0 ps:scale web=3 worker=1", "three web dynos and one worker")
            .example("$0 ps:scale web=2:standard-2x", "two web dynos of 1 GB"),
    handler: async (argv) => {
        const parsed = argv.changes.map(parseScaleArg);
        distinctTypes("ps:scale", argv.changes, parsed.map((p) => p.type));
        await editAndDeploy(argv, {
            set: parsed.flatMap((p) => [
                { path: configPath("formation", p.type, "quantity"), value: String(p.quantity) },
                ...(p.size ? [{ path: configPath("formation", p.type, "size"), value: p.size }] : []),
            ]),
            remove: [],
            preview: (view) => {
                const f = (view.settings.formation ??= {});
                for (const p of parsed) f[p.type] = { ...(f[p.type] ?? {}), quantity: p.quantity, ...(p.size ? { size: p.size } : {}) };
            },
            description: `Scale ${argv.changes.join(" ")}`,
        });
    },
};
