import { CommandModule } from "yargs";
import { AddOnPlanName } from "../../components/addon-plans";
import { AddOnRequest } from "../../components/app-definition";
import { mapAddonPlan } from "../../components/app-json";
import { attachmentVarName } from "../../components/config-vars";
import { listAddons } from "../addons";
import { asUsage, configPath, EditOptions, editAndDeploy, withUp } from "../edit";
import { UsageError } from "../errors";
import { GlobalOptions } from "../options";

interface CreateOptions extends EditOptions {
    plan: string;
    as?: string;
    name?: string;
}

/** The add-on name `addons:create` uses: `--name`, else from `--as` (CACHE -> cache), else the plan. Pure. */
export function defaultAddonName(plan: string, as?: string): string {
    if (as) return as.toLowerCase().replace(/_/g, "-");
    try {
        return mapAddonPlan(plan, "plan").plan;
    } catch {
        return plan.toLowerCase();
    }
}

/** `--as` and `--name`, when given, are one non-empty value each (the plan is checked with the stack file). Pure. */
export function addonFlags(argv: { as?: unknown; name?: unknown }): void {
    for (const flag of ["as", "name"] as const) {
        const v: unknown = argv[flag];
        if (v !== undefined && (typeof v !== "string" || v === "")) {
            throw new UsageError(`--${flag} takes one non-empty value, got ${JSON.stringify(v)}`);
        }
    }
}

/**
 * `dynoform addons:create postgres|redis [--as NAME] [--name N]`: adds the add-on to
 * `dynoform:addons` in the stack file and deploys (the dynos get its URL as `<AS>_URL`).
 * A bad plan, name or attachment is refused before the stack file is touched.
 */
export const addonsCreateCommand: CommandModule<GlobalOptions, CreateOptions> = {
    command: "addons:create <plan>",
    describe: "Add an add-on (postgres or redis) and attach it to the dynos",
    builder: (y) =>
        withUp(y)
            .positional("plan", { type: "string", demandOption: true, describe: "postgres or redis (heroku-postgresql, heroku-redis[:tier] work too)" })
            .option("as", { type: "string", requiresArg: true, describe: "Attachment name: the URL is set as <AS>_URL (default DATABASE_URL / REDIS_URL)" })
            .option("name", { type: "string", requiresArg: true, describe: "Add-on name, its host name on the app network (default: from --as, else the plan)" })
            .example("$0 addons:create postgres", "PostgreSQL as DATABASE_URL")
            .example("$0 addons:create redis --as CACHE", "a Redis named cache, as CACHE_URL"),
    handler: async (argv) => {
        addonFlags(argv);
        const name = argv.name ?? defaultAddonName(argv.plan, argv.as);
        const { app, addons } = await listAddons(argv);
        const existing = addons.find((a) => a.name === name);
        if (existing) {
            throw new UsageError(
                `add-on \`${name}\` already exists on ${argv.stack} (${existing.plan}, from ${existing.from === "stack" ? "the stack file" : "app.json"}): give another --name`,
            );
        }
        // Checked with the rest of the stack (mapAddonPlan) before the stack file is touched.
        const plan = argv.plan as AddOnPlanName;
        const request: AddOnRequest = argv.as ? { plan, as: argv.as } : plan;
        const result = await editAndDeploy(argv, {
            set: argv.as
                ? [
                      { path: configPath("addons", name, "plan"), value: argv.plan },
                      { path: configPath("addons", name, "as"), value: argv.as },
                  ]
                : [{ path: configPath("addons", name), value: argv.plan }],
            remove: [],
            preview: (view) => {
                view.settings.addons = { ...(view.settings.addons ?? {}), [name]: request };
            },
            description: `Attach ${name} (${argv.plan})`,
        });
        const varName = asUsage(() => attachmentVarName(mapAddonPlan(argv.plan, `addons.${name}`).plan, argv.as));
        if (!argv.json) {
            process.stdout.write(`${name} (${argv.plan}) ${result ? "created on" : "added to the stack file of"} ${app} (${argv.stack}), attached as ${varName}\n`);
        }
    },
};
