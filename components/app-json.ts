import {
    AddOnPlan,
    addonService,
    checkUnsupportedPlan,
    isSupportedPlan,
    KNOWN_PLANS,
    mapAddonPlan,
    missingAddonVars,
} from "./addon-plans";
import { validateAttachmentName, validateConfigVarName, attachmentVarName } from "./config-vars";
import { DynoSizeSpec, legacyDynoSize, resolveDynoSize } from "./dyno-size";
import { DynoformInputError } from "./errors";
import { FormationEntry, FormationSpec, validateQuantity } from "./formation-plan";
import { HealthChecks, parseHealthchecks } from "./healthchecks";

/** One `env` entry of app.json. A plain string in the file is shorthand for `{ value }`. */
export interface AppJsonEnvVar {
    /** Default value, used when the user has not set the var. */
    value?: string;
    /** Whether the user must set the var (Heroku's default is required when there is no value). */
    required?: boolean;
    /** What the var is for, shown to the user. */
    description?: string;
    /** `secret`: a random secret generated once and kept. */
    generator?: "secret";
}

// The plan table lives in addon-plans.ts; mapAddonPlan stays importable from here.
export { mapAddonPlan };

/** An add-on app.json asks for, mapped to a Dynoform add-on kind. */
export interface AddOnSpec {
    /** The add-on kind Dynoform runs. */
    plan: AddOnPlan;
    /** Heroku plan tier as written after the colon, e.g. `essential-0`, `mini`. */
    tier?: string;
    /** Attachment name: the add-on's URL is set as `<AS>_URL`. */
    as?: string;
}

/** An add-on of app.json that Dynoform does not run (`mongolab`, `papertrail`): skipped, never silently. */
export interface SkippedAddOn {
    /** Its place in app.json: `addons[2]`. */
    field: string;
    /** The plan as written: `sendgrid:starter`. */
    plan: string;
    /** Attachment name, when app.json gave one. */
    as?: string;
    /** Line of the entry in the file. */
    line?: number;
    /** The config vars the app will lack, when the add-on is a well-known one. */
    vars?: string[];
}

/** The parts of Heroku's app.json Dynoform uses, checked and with defaults filled in. */
export interface AppJson {
    /** App name. */
    name?: string;
    /** App description. */
    description?: string;
    /** Config vars the app expects, by name. */
    env: Record<string, AppJsonEnvVar>;
    /** Default formation per process type. */
    formation: FormationSpec;
    /** Add-ons to provision and attach. */
    addons: AddOnSpec[];
    /** Lifecycle scripts. */
    scripts: { postdeploy?: string };
    /** Startup checks per process type (Dokku's `healthchecks`), see components/healthchecks.ts. */
    healthchecks?: HealthChecks;
    /** Add-ons Dynoform does not run, skipped (see {@link skippedAddonMessage}). */
    skippedAddons: SkippedAddOn[];
    /**
     * What was read differently from the letter of the file, one line each with file and line:
     * a key written twice (the last is used), a retired dyno size name, keys Dynoform ignores.
     */
    notes: string[];
}

/** Heroku's app.json keys; those Dynoform does not use are accepted and ignored. */
const TOP_LEVEL_KEYS = [
    "name", "description", "keywords", "website", "repository", "logo", "success_url", "scripts",
    "env", "formation", "image", "addons", "buildpacks", "environments", "stack",
    // Dokku's app.json key, read by Dynoform too.
    "healthchecks",
];
/** Heroku keys about how Heroku builds the app: Dynoform builds from the Dockerfile or package.json. */
const BUILD_KEYS = ["buildpacks", "stack", "image"];
const PROCESS_TYPE_RE = /^[A-Za-z0-9_-]+$/;

type Path = ReadonlyArray<string | number>;
type Json = Record<string, unknown>;

const show = (v: unknown) => (typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v)));
const isObject = (v: unknown): v is Json =>
    typeof v === "object" && v !== null && !Array.isArray(v);

/** `["addons", 1, "plan"]` -> `addons[1].plan`. */
function fieldOf(path: Path): string {
    if (path.length === 0) return "app.json";
    return path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

/** Where the JSON scanner stopped on bad syntax. */
class JsonSyntaxAt {
    constructor(readonly at: number) {}
}

/** A key written twice in one object: JSON.parse keeps the last, as every JSON parser does. */
interface DuplicateKey {
    path: Path;
    at: number;
    firstAt: number;
    /** The two values differ (compared as parsed JSON). */
    differs: boolean;
}

/**
 * Walks strict JSON and records the offset of every object key and array element by path
 * (`JSON.stringify(path)`; a key written twice has its last offset) and every duplicate key.
 * Throws JsonSyntaxAt on bad syntax.
 */
function scanJson(text: string): { offsets: Map<string, number>; duplicates: DuplicateKey[] } {
    const offsets = new Map<string, number>();
    const duplicates: DuplicateKey[] = [];
    const canonical = (from: number, to: number) => JSON.stringify(JSON.parse(text.slice(from, to)));
    let pos = 0;
    const fail = (): never => {
        throw new JsonSyntaxAt(pos);
    };
    const ws = () => {
        while (pos < text.length && " \t\n\r".includes(text[pos])) pos++;
    };
    const expect = (word: string) => {
        for (const ch of word) {
            if (text[pos] !== ch) fail();
            pos++;
        }
    };
    const string = (): string => {
        const start = pos;
        expect('"');
        for (;;) {
            if (pos >= text.length) fail();
            const c = text.charCodeAt(pos);
            if (c === 0x22) break;
            if (c < 0x20) fail();
            pos++;
            if (c !== 0x5c) continue;
            if (text[pos] === "u") {
                if (!/^[0-9A-Fa-f]{4}$/.test(text.slice(pos + 1, pos + 5))) fail();
                pos += 5;
            } else if (pos < text.length && '"\\/bfnrt'.includes(text[pos])) pos++;
            else fail();
        }
        pos++;
        return JSON.parse(text.slice(start, pos)) as string;
    };
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    const value = (path: Path): void => {
        ws();
        const c = text[pos];
        if (c === "{") {
            pos++;
            ws();
            if (text[pos] === "}") return void pos++;
            const keys = new Map<string, { at: number; value: [number, number] }>();
            for (;;) {
                ws();
                const at = pos;
                const child = [...path, string()];
                const key = child[child.length - 1] as string;
                offsets.set(JSON.stringify(child), at);
                ws();
                expect(":");
                ws();
                const from = pos;
                value(child);
                const first = keys.get(key);
                if (first) {
                    const differs = canonical(...first.value) !== canonical(from, pos);
                    duplicates.push({ path: child, at, firstAt: first.at, differs });
                }
                keys.set(key, { at, value: [from, pos] });
                ws();
                if (text[pos] === "}") return void pos++;
                expect(",");
            }
        }
        if (c === "[") {
            pos++;
            ws();
            if (text[pos] === "]") return void pos++;
            for (let i = 0; ; i++) {
                ws();
                offsets.set(JSON.stringify([...path, i]), pos);
                value([...path, i]);
                ws();
                if (text[pos] === "]") return void pos++;
                expect(",");
            }
        }
        if (c === '"') return void string();
        if (c === "t") return expect("true");
        if (c === "f") return expect("false");
        if (c === "n") return expect("null");
        number.lastIndex = pos;
        if (!number.test(text)) fail();
        pos = number.lastIndex;
    };
    value([]);
    ws();
    if (pos < text.length) fail();
    return { offsets, duplicates };
}

function lineAt(text: string, at: number): { line: number; column: number } {
    const before = text.slice(0, at);
    const lastBreak = before.lastIndexOf("\n");
    return { line: before.split("\n").length, column: at - lastBreak };
}

function syntaxError(text: string, err: Error, file: string): DynoformInputError {
    const given = /at position (\d+)/.exec(err.message);
    let at = given ? Number(given[1]) : undefined;
    if (at === undefined) {
        try {
            scanJson(text);
        } catch (e) {
            if (e instanceof JsonSyntaxAt) at = e.at;
        }
    }
    const what = err.message
        .replace(/ in JSON at position \d+[\s\S]*$/, "")
        .replace(/, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, "")
        .replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
    const where = at === undefined ? undefined : lineAt(text, Math.min(at, text.length));
    return new DynoformInputError(
        "app.json",
        `not valid JSON: ${what}${where ? ` (column ${where.column})` : ""}; app.json is strict JSON: ` +
            `double-quoted keys and strings, no trailing commas, no comments`,
        file,
        where?.line,
    );
}

/** Reports errors at the line of the offending key, found by path. */
class Located {
    private readonly offsets: Map<string, number>;
    /** Notes for the user, in the form of an error message: `app.json:4: \`field\`: what`. */
    readonly notes: string[] = [];

    constructor(private readonly text: string, readonly file: string) {
        let scanned: ReturnType<typeof scanJson>;
        try {
            scanned = scanJson(text);
        } catch {
            // JSON.parse accepted the text, so only a stack-deep nesting gets here: errors go
            // without a line.
            this.offsets = new Map();
            return;
        }
        this.offsets = scanned.offsets;
        for (const d of scanned.duplicates.filter((d) => d.differs)) {
            const first = lineAt(text, d.firstAt).line;
            this.notes.push(
                new DynoformInputError(
                    fieldOf(d.path),
                    `key ${show(d.path[d.path.length - 1])} appears twice with different values (first on line ${first}); the last is used, as in every JSON parser`,
                    file,
                    lineAt(text, d.at).line,
                ).message,
            );
        }
    }

    /** Adds a note about `path`, with its line. */
    note(path: Path, what: string): void {
        this.notes.push(new DynoformInputError(fieldOf(path), what, this.file, this.line(path)).message);
    }

    /** Line of `path`, or of its nearest located parent. */
    line(path: Path): number | undefined {
        if (path.length === 0) return lineAt(this.text, this.text.search(/\S|$/)).line;
        for (let n = path.length; n > 0; n--) {
            const at = this.offsets.get(JSON.stringify(path.slice(0, n)));
            if (at !== undefined) return lineAt(this.text, at).line;
        }
        return undefined;
    }

    fail(path: Path, reason: string): never {
        throw new DynoformInputError(fieldOf(path), reason, this.file, this.line(path));
    }

    /** Runs a check that throws DynoformInputError without a location, and adds file and line. */
    at<T>(path: Path, check: () => T): T {
        try {
            return check();
        } catch (e) {
            if (!(e instanceof DynoformInputError)) throw e;
            throw new DynoformInputError(e.field, e.reason, this.file, this.line(path));
        }
    }

    object(value: unknown, path: Path, expected: string): Json {
        if (!isObject(value)) this.fail(path, `expected ${expected}, got ${show(value)}`);
        return value;
    }

    string(value: unknown, path: Path): string {
        if (typeof value !== "string") {
            const scalar = typeof value === "number" || typeof value === "boolean";
            const hint = scalar ? `; quote it: "${value}"` : "";
            this.fail(path, `expected a string, got ${show(value)}${hint}`);
        }
        return value;
    }

    keys(value: Json, path: Path, allowed: string[]): void {
        for (const key of Object.keys(value)) {
            if (!allowed.includes(key)) {
                this.fail(
                    [...path, key],
                    `unknown key ${show(key)}; the keys here are ${allowed.join(", ")}`,
                );
            }
        }
    }
}

function parseEnv(doc: Located, raw: unknown): Record<string, AppJsonEnvVar> {
    const env: [string, AppJsonEnvVar][] = [];
    const vars = doc.object(
        raw,
        ["env"],
        `an object of config vars, e.g. { "SECRET_KEY": { "generator": "secret" } }`,
    );
    for (const [name, spec] of Object.entries(vars)) {
        const path = ["env", name];
        validateConfigVarName(name, fieldOf(path), doc.file, doc.line(path));
        if (typeof spec === "string") {
            env.push([name, { value: spec }]);
            continue;
        }
        const o = doc.object(
            spec,
            path,
            `a string value or { value?, required?, description?, generator? }`,
        );
        doc.keys(o, path, ["value", "required", "description", "generator"]);
        const out: AppJsonEnvVar = {};
        if (o.value !== undefined) out.value = doc.string(o.value, [...path, "value"]);
        if (o.description !== undefined) {
            out.description = doc.string(o.description, [...path, "description"]);
        }
        if (o.required !== undefined) {
            if (typeof o.required !== "boolean") {
                doc.fail([...path, "required"], `expected true or false, got ${show(o.required)}`);
            }
            out.required = o.required;
        }
        if (o.generator !== undefined) {
            if (o.generator !== "secret") {
                doc.fail(
                    [...path, "generator"],
                    `unknown generator ${show(o.generator)}; the only generator is "secret"`,
                );
            }
            out.generator = "secret";
        }
        env.push([name, out]);
    }
    return Object.fromEntries(env);
}

function parseFormation(doc: Located, raw: unknown): FormationSpec {
    const formation: [string, Partial<FormationEntry>][] = [];
    const types = doc.object(
        raw,
        ["formation"],
        `an object keyed by process type, e.g. { "web": { "quantity": 1 } }`,
    );
    for (const [type, spec] of Object.entries(types)) {
        const path = ["formation", type];
        if (!PROCESS_TYPE_RE.test(type)) {
            doc.fail(
                path,
                `process type ${show(type)} is not valid; use letters, digits, "_" and "-", as in the Procfile`,
            );
        }
        const o = doc.object(spec, path, `{ "quantity"?, "size"? }`);
        doc.keys(o, path, ["quantity", "size"]);
        const entry: Partial<FormationEntry> = {};
        if (o.quantity !== undefined) {
            const at = [...path, "quantity"];
            entry.quantity = validateQuantity(o.quantity, fieldOf(at), doc.file, doc.line(at));
        }
        if (o.size !== undefined) {
            const at = [...path, "size"];
            const current = legacyDynoSize(o.size);
            if (current) {
                doc.note(at, `${show(o.size)} is Heroku's retired name of the ${current} size; using ${current}`);
            }
            doc.at(at, () => resolveDynoSize(o.size as DynoSizeSpec, fieldOf(at)));
            entry.size = current ?? (o.size as DynoSizeSpec);
        }
        formation.push([type, entry]);
    }
    return Object.fromEntries(formation);
}

function parseAddons(doc: Located, raw: unknown): { addons: AddOnSpec[]; skipped: SkippedAddOn[] } {
    if (!Array.isArray(raw)) {
        doc.fail(["addons"], `expected an array of add-ons, e.g. ["heroku-postgresql"], got ${show(raw)}`);
    }
    const addons: AddOnSpec[] = [];
    const skipped: SkippedAddOn[] = [];
    raw.forEach((item: unknown, i) => {
        const path = ["addons", i];
        let planPath: Path = path;
        let plan = item;
        let as: string | undefined;
        if (typeof item !== "string") {
            const o = doc.object(item, path, `a plan name or { "plan", "as"?, "options"? }`);
            doc.keys(o, path, ["plan", "as", "options"]);
            if (o.plan === undefined) doc.fail(path, `add-on has no "plan"; known plans: ${KNOWN_PLANS}`);
            planPath = [...path, "plan"];
            plan = doc.string(o.plan, planPath);
            if (o.options !== undefined) doc.object(o.options, [...path, "options"], "an object");
            if (o.as !== undefined) {
                const asPath = [...path, "as"];
                as = doc.string(o.as, asPath);
                validateAttachmentName(as, fieldOf(asPath), doc.file, doc.line(asPath));
            }
        }
        const name = plan as string;
        // Heroku Scheduler is accepted: Dynoform's own scheduler runs the jobs of `dynoform:scheduler`.
        if (addonService(name) === "scheduler") return;
        if (!isSupportedPlan(name)) {
            doc.at(planPath, () => checkUnsupportedPlan(name, fieldOf(planPath), doc.file));
            const vars = missingAddonVars(name);
            skipped.push({ field: fieldOf(path), plan: name, line: doc.line(path), ...(as ? { as } : {}), ...(vars ? { vars } : {}) });
            return;
        }
        const spec: AddOnSpec = doc.at(planPath, () => mapAddonPlan(name, fieldOf(planPath), doc.file));
        if (as !== undefined) spec.as = as;
        addons.push(spec);
    });
    return { addons, skipped };
}

/**
 * One line about an add-on app.json names that Dynoform does not run, saying what the app will
 * lack: `app.json:12: \`addons[0]\`: add-on "mongolab" is not one Dynoform runs (only postgres and redis): skipped;
 * the app will not have MONGOLAB_URI`. Pure.
 */
export function skippedAddonMessage(s: SkippedAddOn, file = "app.json"): string {
    const lacks =
        s.vars === undefined
            ? `its config vars${s.as ? ` (${s.as}_...)` : ""}`
            : s.vars.length === 0
              ? undefined
              : s.as
                ? `its config vars ${s.as}_... (${s.vars.join(", ")} without "as")`
                : s.vars.join(", ");
    return new DynoformInputError(
        s.field,
        `add-on ${show(s.plan)} is not one Dynoform runs (only postgres and redis): skipped; ` +
            (lacks ? `the app will not have ${lacks}` : "it sets no config vars, but its jobs will not run"),
        file,
        s.line,
    ).message;
}

/** Two add-ons on one var, or an env var an add-on sets: attachments never fight config. */
function checkAttachments(
    doc: Located,
    addons: AddOnSpec[],
    env: Record<string, AppJsonEnvVar>,
): void {
    const attached = new Map<string, number>();
    addons.forEach((a, i) => {
        const name = attachmentVarName(a.plan, a.as);
        const first = attached.get(name);
        if (first !== undefined) {
            doc.fail(
                ["addons", i],
                `attaches as ${name}, like addons[${first}]; give one of them another name with "as", e.g. { "plan": "${a.plan}", "as": "SECOND_${a.plan.toUpperCase()}" }`,
            );
        }
        attached.set(name, i);
    });
    for (const name of Object.keys(env)) {
        const i = attached.get(name);
        if (i !== undefined) {
            doc.fail(
                ["env", name],
                `${name} is set by the add-on attachment addons[${i}] (${addons[i].plan}); remove it from env, or attach the add-on under another name with "as"`,
            );
        }
    }
}

/**
 * Parses and checks Heroku's app.json: `env` (strings as shorthand for `{ value }`, names checked
 * with validateConfigVarName, generator `secret` only), `formation` (`{ quantity, size }` per
 * process type), `addons` (plan strings such as `heroku-postgresql:essential-0` or objects
 * `{ plan, as?, options? }`) and `scripts.postdeploy`. Read as Heroku reads it: a key written
 * twice takes its last value; the retired sizes `Free` and `Hobby` are `eco` and `basic`; add-ons
 * Dynoform does not run are skipped and listed in `skippedAddons`; the rest is said in `notes`,
 * as are `buildpacks`, `stack` and `image`, which Dynoform does not use. Other Heroku
 * keys are ignored; keys Heroku does not define are refused, so a typo such as `formations` is
 * not silently dropped.
 *
 * @param file Path shown in error messages.
 * @throws DynoformInputError with the field path (`addons[1].plan`, `env.SECRET_KEY.generator`,
 *   `formation.web.quantity`), `file`, and the line of the offending key; for bad JSON syntax,
 *   field `app.json` with the line and column of the error.
 */
export function parseAppJson(text: string, file = "app.json"): AppJson {
    const body = text.replace(/^\uFEFF/, "");
    let data: unknown;
    try {
        data = JSON.parse(body);
    } catch (e) {
        throw syntaxError(body, e as Error, file);
    }
    const doc: Located = new Located(body, file);
    const top = doc.object(
        data,
        [],
        `a JSON object, e.g. { "name": "my-app", "formation": { "web": { "quantity": 1 } } }`,
    );
    doc.keys(top, [], TOP_LEVEL_KEYS);
    const addons = top.addons === undefined ? { addons: [], skipped: [] } : parseAddons(doc, top.addons);
    const app: AppJson = {
        env: top.env === undefined ? {} : parseEnv(doc, top.env),
        formation: top.formation === undefined ? {} : parseFormation(doc, top.formation),
        addons: addons.addons,
        scripts: {},
        skippedAddons: addons.skipped,
        notes: doc.notes,
    };
    for (const key of Object.keys(top).filter((k) => BUILD_KEYS.includes(k))) {
        doc.note(
            [key],
            `not used: Dynoform builds the image from the app's Dockerfile, or from package.json on its Node.js base image`,
        );
    }
    if (top.name !== undefined) app.name = doc.string(top.name, ["name"]);
    if (top.description !== undefined) {
        app.description = doc.string(top.description, ["description"]);
    }
    if (top.scripts !== undefined) {
        const scripts = doc.object(
            top.scripts,
            ["scripts"],
            `an object, e.g. { "postdeploy": "npm run seed" }`,
        );
        if (scripts.postdeploy !== undefined) {
            app.scripts.postdeploy = doc.string(scripts.postdeploy, ["scripts", "postdeploy"]);
        }
    }
    if (top.healthchecks !== undefined) app.healthchecks = parseHealthchecks(top.healthchecks, doc);
    checkAttachments(doc, app.addons, app.env);
    return app;
}
