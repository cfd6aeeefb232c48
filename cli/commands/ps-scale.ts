import { CommandModule } from "yargs";
import type { AppDefinition } from "../../components/app-definition";
import { MAX_QUANTITY, validateQuantity } from "../../components/formation-plan";
import { resolveDynoSize } from "../../components/dyno-size";
import { UsageError } from "../errors";
import { asUsage, configPath, distinctTypes, EditOptions, editAndDeploy, withUp } from "../edit";
import { GlobalOptions } from "../options";

interface ScaleOptions extends EditOptions {
    changes: string[];
}

/** One `ps:scale` argument: a quantity (`web=3`) or a difference from the current one (`web+1`, `web-2`). */
export interface ScaleChange {
    type: string;
    quantity?: number;
    delta?: number;
    size?: string;
}

const FORM = "TYPE=QUANTITY[:SIZE] or TYPE+N / TYPE-N (e.g. web=3, worker=2:standard-2x, web+1)";

/** Parses `web=3`, `worker=2:standard-2x`, `web+1`, `web-2:standard-2x` (Heroku's syntax). Pure. */
export function parseScaleArg(arg: string): ScaleChange {
    const m = /^([A-Za-z0-9_-]+)([=+-])([^:]*)(?::(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`ps:scale: \`${arg}\` is not ${FORM}`);
    const [, type, op, q, size] = m;
    const field = `formation.${type}.quantity`;
    if (size !== undefined) asUsage(() => resolveDynoSize(size, `formation.${type}.size`));
    if (op === "=") {
        if (/^[+-]\d+$/.test(q)) throw new UsageError(`\`${field}\`: quantity "${q}" is not valid; scale by a difference with ${type}${q} (no =)`);
        return { type, quantity: asUsage(() => validateQuantity(/^\d+$/.test(q) ? Number(q) : q, field)), size };
    }
    if (!/^\d+$/.test(q)) throw new UsageError(`\`${field}\`: difference "${op}${q}" is not valid; use a whole number (e.g. ${type}+1)`);
    return { type, delta: (op === "-" ? -1 : 1) * Number(q), size };
}

/**
 * The quantity a change asks for, given the formation deployed before it: `web+1` of 2 is 3.
 * A difference past 0 or {@link MAX_QUANTITY} names the field. Pure.
 */
export function scaledQuantity(change: ScaleChange, before: Pick<AppDefinition, "plan">): number {
    if (change.delta === undefined) return change.quantity!;
    const now = before.plan.find((p) => p.type === change.type)?.quantity ?? 0;
    const wanted = now + change.delta;
    const field = `formation.${change.type}.quantity`;
    if (wanted < 0 || wanted > MAX_QUANTITY) {
        const by = `${change.delta < 0 ? "" : "+"}${change.delta}`;
        throw new UsageError(`\`${field}\`: ${change.type} runs ${now}; ${by} would make ${wanted}, outside 0 to ${MAX_QUANTITY}`);
    }
    return wanted;
}

/** The changes `ps:scale` is given, each parsed and every type once; a usage error otherwise. Pure. */
export function scaleChanges(argv: { changes: string[] }): ScaleChange[] {
    const parsed = argv.changes.map(parseScaleArg);
    distinctTypes("ps:scale", argv.changes, parsed.map((p) => p.type));
    return parsed;
}

/** `dynoform ps:scale web=3 worker=1`, `ps:scale web+1`: edits the formation and deploys; only the difference starts or stops. */
export const psScaleCommand: CommandModule<GlobalOptions, ScaleOptions> = {
    command: "ps:scale <changes..>",
    describe: "Scale process types (TYPE=QUANTITY[:SIZE], or TYPE+N / TYPE-N)",
    builder: (y) =>
        withUp(y)
            .positional("changes", { type: "string", array: true, demandOption: true })
            .example("$0 ps:scale web=3 worker=1", "three web dynos and one worker")
            .example("$0 ps:scale web+1", "one web dyno more than now")
            .example("$0 ps:scale web=2:standard-2x", "two web dynos of 1 GB"),
    handler: async (argv) => {
        const parsed = scaleChanges(argv);
        // Differences resolve against the stack file as loaded for the edit (once), and the
        // view the edit is validated on gets the same numbers.
        const resolved = new Map<string, number>();
        const quantity = (p: ScaleChange, before: AppDefinition) => {
            if (!resolved.has(p.type)) resolved.set(p.type, scaledQuantity(p, before));
            return resolved.get(p.type)!;
        };
        await editAndDeploy(argv, {
            set: parsed.flatMap((p) => [
                { path: configPath("formation", p.type, "quantity"), value: (before: AppDefinition) => String(quantity(p, before)) },
                ...(p.size ? [{ path: configPath("formation", p.type, "size"), value: p.size }] : []),
            ]),
            remove: [],
            preview: (view) => {
                const f = (view.settings.formation ??= {});
                for (const p of parsed) f[p.type] = { ...(f[p.type] ?? {}), quantity: resolved.get(p.type)!, ...(p.size ? { size: p.size } : {}) };
            },
            description: `Scale ${argv.changes.join(" ")}`,
        });
    },
};
