import { CommandModule } from "yargs";
import { resolveDynoSize } from "../../components/dyno-size";
import { asUsage, configPath, distinctTypes, EditOptions, editAndDeploy, typeAssignment, withUp } from "../edit";
import { GlobalOptions } from "../options";

interface ResizeOptions extends EditOptions {
    changes: string[];
}

/** The sizes `ps:resize` is given (`web=standard-2x`), each a known size, every type once. Pure. */
export function resizeChanges(argv: { changes: string[] }): Array<{ type: string; size: string }> {
    const parsed = argv.changes.map((arg) => {
        const { type, value } = typeAssignment("ps:resize", arg, "TYPE=SIZE (e.g. web=standard-2x)");
        asUsage(() => resolveDynoSize(value, `formation.${type}.size`));
        return { type, size: value };
    });
    distinctTypes("ps:resize", argv.changes, parsed.map((p) => p.type));
    return parsed;
}

/** `dynoform ps:resize web=standard-2x`: memory and CPU change in place, no restart. */
export const psResizeCommand: CommandModule<GlobalOptions, ResizeOptions> = {
    command: "ps:resize <changes..>",
    describe: "Change dyno sizes (TYPE=SIZE); updated in place without a restart",
    builder: (y) =>
        withUp(y)
            .positional("changes", { type: "string", array: true, demandOption: true })
            .example("$0 ps:resize web=standard-2x", "1 GB web dynos")
            .example("$0 ps:resize worker=custom-768mb", "a custom size"),
    handler: async (argv) => {
        const parsed = resizeChanges(argv);
        await editAndDeploy(argv, {
            set: parsed.map((p) => ({ path: configPath("formation", p.type, "size"), value: p.size })),
            remove: [],
            preview: (view) => {
                const f = (view.settings.formation ??= {});
                for (const p of parsed) f[p.type] = { ...(f[p.type] ?? {}), size: p.size };
            },
            description: `Resize ${argv.changes.join(" ")}`,
        });
    },
};
