import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { CommandModule } from "yargs";
import { loadAppDefinition } from "../../components/app-definition";
import { KNOWN_PLANS } from "../../components/addon-plans";
import { AppJson, parseAppJson } from "../../components/app-json";
import { STACK_NAME } from "../../infra/engine/workspace";
import { asUsage } from "../edit";
import { UsageError } from "../errors";
import { pickedWhy, pickRouterPort } from "../init-port";
import { GlobalOptions } from "../options";
import { stackFile } from "../project";
import { validateSettings } from "../stack-settings";

interface InitOptions extends GlobalOptions {
    from?: string;
    force: boolean;
    app?: string;
    routerPort?: number;
    strict: boolean;
}

/**
 * Where the Pulumi program of a user's project lives: the installed package's compiled entry.
 * `dynoform` itself runs the program inline (Automation API), but the Pulumi CLI checks that
 * `main` exists, and the plain Pulumi CLI (`pulumi preview`) runs it.
 */
export const PACKAGE_PROGRAM = "node_modules/dynoform/dist/infra/main.js";

/**
 * `main` for a project in `dir`: {@link PACKAGE_PROGRAM} when dynoform is installed there
 * (`npm i -D dynoform`), else the program of the dynoform that is running (a checkout or a
 * global install), relative to the project.
 */
export function programEntry(dir: string): string {
    if (fs.existsSync(path.join(dir, PACKAGE_PROGRAM))) return PACKAGE_PROGRAM;
    return path.relative(dir, path.resolve(__dirname, "..", "..", "infra", "main.js")).split(path.sep).join("/");
}

const APP_NAME = /^[a-z][a-z0-9-]{1,29}$/;

/**
 * The `.dockerignore` init writes when the folder has none: the image builder hashes the build
 * context, so without it every edit of a stack file would rebuild the image and make a new
 * image ID (and `promote` would copy a different image than a rebuild would make).
 */
export const DOCKERIGNORE = [
    "# Written by `dynoform init`: files that never go into the app's image.",
    "node_modules",
    ".git",
    ".env",
    "npm-debug.log",
    "Pulumi.yaml",
    "Pulumi.*.yaml",
    "stacks",
    "",
].join("\n");

/** An app name from a folder or app.json name: `My_App 2` -> `my-app-2`. Pure. */
export function appNameFrom(s: string): string {
    const name = s.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+/, "").replace(/-+$/, "").slice(0, 30).replace(/-+$/, "");
    return name.length >= 2 ? name : `app-${name}`.replace(/-+$/, "");
}

/** The two files `init` writes, as text. Pure. */
export function initFiles(o: {
    app: string;
    stack: string;
    description?: string;
    appJson?: string;
    routerPort?: number;
    formation: Record<string, { quantity: number; size: string }>;
    addons: Array<{ name: string; varName: string }>;
    encryptionSalt?: string;
    /** Pulumi.yaml's `main` ({@link programEntry}). */
    main?: string;
    /** The Procfile and an app.json were read. */
    usedAppJson?: boolean;
}): { pulumiYaml: string; stackYaml: string } {
    const pulumiYaml =
        "# Written by `dynoform init`. `dynoform` runs the program inline through the Automation API;\n" +
        "# `main` is its compiled program, so the plain Pulumi CLI runs the same program.\n" +
        YAML.stringify({
            name: o.app,
            ...(o.description ? { description: o.description } : {}),
            runtime: "nodejs",
            main: o.main ?? PACKAGE_PROGRAM,
            stackConfigDir: "stacks",
        });
    const config: Record<string, unknown> = {
        "dynoform:app": o.app,
        "dynoform:source": ".",
        ...(o.appJson ? { "dynoform:appJson": o.appJson } : {}),
        ...(o.routerPort !== undefined ? { "dynoform:routerPort": String(o.routerPort) } : {}),
        "dynoform:formation": o.formation,
    };
    const addons = o.addons.length
        ? `# Add-ons stay declared in app.json, where the program reads them: ${o.addons.map((a) => `${a.name} (${a.varName})`).join(", ")}.\n`
        : "";
    const stackYaml =
        `# ${o.app} on the ${o.stack} stack, written by \`dynoform init\` from the Procfile${o.usedAppJson ? " and app.json" : ""}.\n` +
        "# Change it with `dynoform ps:scale`, `config:set`, `addons:create` (or by hand); `dynoform up` deploys it.\n" +
        addons +
        YAML.stringify({ config, ...(o.encryptionSalt ? { encryptionsalt: o.encryptionSalt } : {}) });
    return { pulumiYaml, stackYaml };
}

/**
 * `dynoform init [--from app.json]`: writes `Pulumi.yaml` and `stacks/Pulumi.<stack>.yaml` for
 * the app in `--cwd`, from its Procfile and app.json (formation; add-ons stay in app.json).
 * Refuses to overwrite the stack file, or a different Pulumi.yaml, without --force (an identical
 * Pulumi.yaml is how a second stack is added); on any refusal nothing is written.
 */
export const initCommand: CommandModule<GlobalOptions, InitOptions> = {
    command: "init",
    describe: "Write Pulumi.yaml and stacks/Pulumi.<stack>.yaml for the app in this folder",
    builder: (y) =>
        y
            .option("from", { type: "string", describe: "app.json to read (default: ./app.json when present)" })
            .option("force", { type: "boolean", default: false, describe: "Overwrite existing files" })
            .option("app", { type: "string", describe: "App name (default: app.json's name, else the folder's)" })
            .option("router-port", { type: "number", describe: "Host port of the router (default: the first free one from 5000 up, when there are web dynos)" })
            .option("strict", { type: "boolean", default: false, describe: "Refuse an app.json with add-ons Dynoform does not run (default: skip them with a warning)" })
            .example("$0 init --stack staging", "a staging stack for the app in this folder")
            .example("$0 init --from deploy/app.json --app shop --router-port 8080", ""),
    handler: async (argv) => {
        const dir = path.resolve(argv.cwd);
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`--cwd ${dir} is not a folder`);
        if (!STACK_NAME.test(argv.stack)) throw new UsageError(`--stack "${argv.stack}" is not a valid stack name (letters, digits, '-', '_'; no '.', which separates app and stack in Docker names)`);
        const appJsonPath = argv.from !== undefined ? path.resolve(dir, argv.from) : path.join(dir, "app.json");
        if (argv.from !== undefined && !fs.existsSync(appJsonPath)) throw new UsageError(`--from ${argv.from}: ${appJsonPath} does not exist`);
        const appJson = fs.existsSync(appJsonPath) ? asUsage(() => parseAppJson(fs.readFileSync(appJsonPath, "utf8"), appJsonPath)) : undefined;
        if (argv.strict && appJson?.skippedAddons.length) throw new UsageError(strictRefusal(appJson, appJsonPath));
        const envKeys = Object.keys(appJson?.env ?? {});
        const definition = asUsage(() =>
            loadAppDefinition({ source: dir, appJson: appJson ? appJsonPath : undefined, configKeys: envKeys }),
        );

        const app = argv.app ?? (appJson?.name && APP_NAME.test(appJson.name) ? appJson.name : appNameFrom(path.basename(dir)));
        if (!APP_NAME.test(app)) throw new UsageError(`--app \`${app}\` must be 2-30 lower-case letters, digits or '-', starting with a letter`);
        const hasWeb = definition.plan.some((p) => p.type === "web" && p.quantity > 0);
        if (argv.routerPort !== undefined && (!Number.isInteger(argv.routerPort) || argv.routerPort < 1 || argv.routerPort > 65535)) {
            throw new UsageError(`--router-port ${argv.routerPort} must be a port from 1 to 65535`);
        }
        const picked = argv.routerPort === undefined && hasWeb ? await pickRouterPort(dir, argv.stack) : undefined;
        const routerPort = argv.routerPort ?? picked?.port;
        const formation = Object.fromEntries(definition.plan.map((p) => [p.type, { quantity: p.quantity, size: p.size.name }]));
        const customAppJson = appJson && path.resolve(appJsonPath) !== path.join(dir, "app.json") ? path.relative(dir, appJsonPath) : undefined;
        const required = Object.entries(appJson?.env ?? {})
            .filter(([, v]) => v.value === undefined && v.generator !== "secret" && v.required !== false)
            .map(([k]) => k);
        // The same checks `preview` makes, on what is about to be written.
        validateSettings(dir, { settings: { app, source: ".", appJson: customAppJson, formation, routerPort }, secretKeys: required }, argv.stack);

        const pulumiFile = path.join(dir, "Pulumi.yaml");
        const stackPath = stackFile(dir, argv.stack);
        const oldStack = fs.existsSync(stackPath) ? fs.readFileSync(stackPath, "utf8") : undefined;
        const encryptionSalt = oldStack ? saltOf(oldStack) : undefined;
        const files = initFiles({
            app,
            stack: argv.stack,
            description: appJson?.description,
            appJson: customAppJson,
            routerPort,
            formation,
            addons: definition.addons,
            encryptionSalt,
            usedAppJson: appJson !== undefined,
            main: programEntry(dir),
        });
        const clashes = [
            [pulumiFile, files.pulumiYaml],
            [stackPath, files.stackYaml],
        ].filter(([f, text]) => fs.existsSync(f) && (f === stackPath || fs.readFileSync(f, "utf8") !== text));
        if (clashes.length && !argv.force) {
            const names = clashes.map(([f]) => path.relative(dir, f)).join(" and ");
            throw new UsageError(`${names} already exist${clashes.length === 1 ? "s" : ""} in ${dir}: pass --force to overwrite (nothing was written)`);
        }
        fs.mkdirSync(path.dirname(stackPath), { recursive: true });
        fs.writeFileSync(pulumiFile, files.pulumiYaml);
        fs.writeFileSync(stackPath, files.stackYaml);
        const ignoreFile = path.join(dir, ".dockerignore");
        const wroteIgnore = !fs.existsSync(ignoreFile);
        if (wroteIgnore) fs.writeFileSync(ignoreFile, DOCKERIGNORE);
        const ignoresStacks = /^\/?stacks\/?$/m.test(fs.readFileSync(ignoreFile, "utf8"));

        if (argv.json) {
            const warnings = [...(appJson?.notes ?? []), ...definition.skippedAddons];
            process.stdout.write(JSON.stringify({ app, stack: argv.stack, files: [pulumiFile, stackPath, ...(wroteIgnore ? [ignoreFile] : [])], formation, routerPort: routerPort ?? null, addons: definition.addons, skippedAddons: appJson?.skippedAddons ?? [], warnings, requiredConfig: required }, null, 2) + "\n");
            return;
        }
        // How app.json was read where it differs from its letter, and what was left out: said once, here.
        for (const line of [...(appJson?.notes ?? []), ...definition.skippedAddons]) process.stderr.write(`warning: ${line}\n`);
        const lines = [
            `Wrote Pulumi.yaml${wroteIgnore ? ", .dockerignore" : ""} and stacks/Pulumi.${argv.stack}.yaml for ${app} in ${dir}`,
            `  formation: ${definition.plan.map((p) => `${p.type}=${p.quantity}:${p.size.name}`).join(" ") || "(none)"}`,
            ...(definition.defaultProcess ? [`  process types: ${definition.defaultProcess}`] : []),
            ...(definition.addons.length ? [`  add-ons (from app.json): ${definition.addons.map((a) => `${a.name} as ${a.varName}`).join(", ")}`] : []),
            ...(routerPort !== undefined ? [`  router: http://127.0.0.1:${routerPort}${picked ? ` (${pickedWhy(picked.skipped)})` : ""}`] : []),
            ...(ignoresStacks ? [] : ["  note: add `stacks` and `Pulumi.yaml` to .dockerignore, or every stack file edit rebuilds the image"]),
            ...required.map((k) => `  app.json requires ${k}: set it with \`dynoform config:set ${k}=... --stack ${argv.stack}\``),
            `Next: dynoform preview --stack ${argv.stack}, then dynoform up --stack ${argv.stack}`,
        ];
        process.stdout.write(lines.join("\n") + "\n");
    },
};

/** `--strict`'s one-line refusal, naming every add-on of app.json that Dynoform does not run. Pure. */
export function strictRefusal(appJson: Pick<AppJson, "skippedAddons">, file: string): string {
    const list = appJson.skippedAddons.map((s) => `${s.field} ${JSON.stringify(s.plan)}${s.line ? ` (line ${s.line})` : ""}`);
    return `${file}: ${list.length} add-on${list.length === 1 ? " is" : "s are"} not run by Dynoform (--strict): ${list.join(", ")}; it runs ${KNOWN_PLANS}; nothing was written`;
}

/** The passphrase salt of an existing stack file: kept on --force, so its encrypted secrets stay readable. */
function saltOf(text: string): string | undefined {
    try {
        const salt = YAML.parse(text)?.encryptionsalt;
        return typeof salt === "string" ? salt : undefined;
    } catch {
        return undefined;
    }
}
