import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { validateAppArgs } from "../components/app";
import { AppDefinition } from "../components/app-definition";
import { DynoformInputError } from "../components/errors";
import { appSources, configVars, normalizeFormation, StackSettings } from "../infra/program";
import { UsageError } from "./errors";
import { stackFile } from "./project";

/** A stack file as written on disk: plain settings, and the names (not values) of secret config vars. */
export interface StackFileView {
    settings: StackSettings;
    secretKeys: string[];
}

/** Reads `stacks/Pulumi.<stack>.yaml` without decrypting anything. */
export function readStackFile(dir: string, stack: string): StackFileView {
    const file = stackFile(dir, stack);
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) ?? {};
    const config: Record<string, unknown> = doc.config ?? {};
    const get = (k: string) => config[`dynoform:${k}`];
    const secrets = get("secrets");
    const secretKeys =
        secrets && typeof secrets === "object" && !("secure" in (secrets as object))
            ? Object.keys(secrets as object)
            : [];
    const port = get("routerPort");
    const settings: StackSettings = {
        app: String(get("app") ?? ""),
        source: get("source") as string | undefined,
        image: get("image") as string | undefined,
        procfile: get("procfile") as string | undefined,
        appJson: get("appJson") as string | undefined,
        formation: normalizeFormation(get("formation") as StackSettings["formation"]),
        addons: get("addons") as StackSettings["addons"],
        config: configVars(get("config") as Record<string, unknown> | undefined),
        routerPort: port === undefined ? undefined : Number(port),
        routerHost: get("routerHost") as string | undefined,
    };
    return { settings, secretKeys };
}

/**
 * Checks what the stack would deploy, with every check the program makes before creating
 * anything (Procfile, app.json, formation, sizes, add-ons, config names), so a bad change is
 * refused before the stack file or any container is touched.
 */
export function validateSettings(dir: string, view: StackFileView, stack: string): AppDefinition {
    const s = view.settings;
    if (!s.app) {
        throw new UsageError(`${path.relative(process.cwd(), stackFile(dir, stack)) || stackFile(dir, stack)} has no dynoform:app`);
    }
    try {
        const config: Record<string, string> = { ...(s.config ?? {}) };
        for (const k of view.secretKeys) config[k] = "";
        return validateAppArgs(s.app, {
            ...appSources(s, dir),
            formation: s.formation,
            addons: s.addons,
            config,
            routerPort: s.routerPort,
        }).definition;
    } catch (err) {
        if (err instanceof DynoformInputError) throw new UsageError(err.message);
        throw err;
    }
}
