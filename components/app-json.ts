import { validateAttachmentName, validateConfigVarName, attachmentVarName } from "./config-vars";
import { DynoSizeSpec, resolveDynoSize } from "./dyno-size";
import { DynoformInputError } from "./errors";
import { FormationEntry, FormationSpec, validateQuantity } from "./formation";

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

/** An add-on app.json asks for, mapped to a Dynoform add-on kind. */
export interface AddOnSpec {
    /** The add-on kind Dynoform runs. */
    plan: "postgres" | "redis";
    /** Heroku plan tier as written after the colon, e.g. `essential-0`, `mini`. */
    tier?: string;
    /** Attachment name: the add-on's URL is set as `<AS>_URL`. */
    as?: string;
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
}

/** Heroku's app.json keys; those Dynoform does not use are accepted and ignored. */
const TOP_LEVEL_KEYS = [
    "name", "description", "keywords", "website", "repository", "logo", "success_url", "scripts",
    "env", "formation", "image", "addons", "buildpacks", "environments", "stack",
];
const PROCESS_TYPE_RE = /^[A-Za-z0-9_-]+$/;
const TIER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const PLANS: Readonly<Record<string, AddOnSpec["plan"]>> = {
    "heroku-postgresql": "postgres",
    postgres: "postgres",
    postgresql: "postgres",
    "heroku-redis": "redis",
    redis: "redis",
};
const KNOWN_PLANS = "postgres (heroku-postgresql), redis (heroku-redis)";

type Path = ReadonlyArray<string | number>;
type Json = Record<string, unknown>;

const has = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);
const show = (v: unknown) => (typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v)));
const isObject = (v: unknown): v is Json =>
    typeof v === "object" && v !== null && !Array.isArray(v);

/** `["addons", 1, "plan"]` -> `addons[1].plan`. */
function fieldOf(path: Path): string {
    if (path.length === 0) return "app.json";
    return path.map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}

/**
 * Maps an add-on plan name to a Dynoform add-on: `heroku-postgresql[:tier]` and
 * `postgres`/`postgresql` to postgres, `heroku-redis[:tier]` and `redis` to redis.
 *
 * @param field Path for error messages, e.g. `addons[1].plan`.
 * @throws DynoformInputError naming `field` for unknown plans (listing the known ones) or a
 *   malformed tier.
 */
export function mapAddonPlan(name: string, field: string, file?: string): AddOnSpec {
    if (typeof name !== "string") {
        throw new DynoformInputError(
            field,
            `add-on plan ${show(name)} is not a string; known plans: ${KNOWN_PLANS}`,
            file,
        );
    }
    const colon = name.indexOf(":");
    const service = (colon < 0 ? name : name.slice(0, colon)).trim().toLowerCase();
    const plan = has(PLANS, service) ? PLANS[service] : undefined;
    if (!plan) {
        throw new DynoformInputError(
            field,
            `unknown add-on plan ${show(name)}; known plans: ${KNOWN_PLANS}, e.g. "heroku-postgresql:essential-0" or "redis"`,
            file,
        );
    }
    if (colon < 0) return { plan };
    const tier = name.slice(colon + 1).trim();
    if (!TIER_RE.test(tier)) {
        throw new DynoformInputError(
            field,
            `add-on tier ${show(tier)} in ${show(name)} is not valid; write a tier after the colon (e.g. "${service}:essential-0") or leave out the colon`,
            file,
        );
    }
    return { plan, tier };
}

/** Where the JSON scanner stopped on bad syntax. */
class JsonSyntaxAt {
    constructor(readonly at: number) {}
}

/** A key written twice in one object: JSON.parse would silently keep the last. */
class DuplicateKey {
    constructor(readonly path: Path, readonly at: number, readonly firstAt: number) {}
}

/**
 * Walks strict JSON and records the offset of every object key and array element by path
 * (`JSON.stringify(path)`). Throws JsonSyntaxAt on bad syntax, DuplicateKey if `duplicates`.
 */
function scanJson(text: string, duplicates: boolean): Map<string, number> {
    const offsets = new Map<string, number>();
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
            const keys = new Map<string, number>();
            for (;;) {
                ws();
                const at = pos;
                const child = [...path, string()];
                const key = child[child.length - 1] as string;
                if (duplicates && keys.has(key)) throw new DuplicateKey(child, at, keys.get(key)!);
                keys.set(key, at);
                offsets.set(JSON.stringify(child), at);
                ws();
                expect(":");
                value(child);
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
    return offsets;
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
            scanJson(text, false);
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

    constructor(private readonly text: string, readonly file: string) {
        try {
            this.offsets = scanJson(text, true);
        } catch (e) {
            // JSON.parse accepted the text, so only a duplicate key or a stack-deep nesting gets
            // here; for the latter, errors go without a line.
            this.offsets = new Map();
            if (!(e instanceof DuplicateKey)) return;
            const first = lineAt(text, e.firstAt).line;
            throw new DynoformInputError(
                fieldOf(e.path),
                `key ${show(e.path[e.path.length - 1])} appears twice in the same object (first on line ${first}); JSON keeps only the last, so remove one`,
                file,
                lineAt(text, e.at).line,
            );
        }
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
            doc.at(at, () => resolveDynoSize(o.size as DynoSizeSpec, fieldOf(at)));
            entry.size = o.size as DynoSizeSpec;
        }
        formation.push([type, entry]);
    }
    return Object.fromEntries(formation);
}

function parseAddons(doc: Located, raw: unknown): AddOnSpec[] {
    if (!Array.isArray(raw)) {
        doc.fail(["addons"], `expected an array of add-ons, e.g. ["heroku-postgresql"], got ${show(raw)}`);
    }
    return raw.map((item: unknown, i): AddOnSpec => {
        const path = ["addons", i];
        if (typeof item === "string") {
            return doc.at(path, () => mapAddonPlan(item, fieldOf(path), doc.file));
        }
        const o = doc.object(item, path, `a plan name or { "plan", "as"?, "options"? }`);
        doc.keys(o, path, ["plan", "as", "options"]);
        if (o.plan === undefined) doc.fail(path, `add-on has no "plan"; known plans: ${KNOWN_PLANS}`);
        const planPath = [...path, "plan"];
        const spec = doc.at(
            planPath,
            () => mapAddonPlan(o.plan as string, fieldOf(planPath), doc.file),
        );
        if (o.options !== undefined) doc.object(o.options, [...path, "options"], "an object");
        if (o.as !== undefined) {
            const asPath = [...path, "as"];
            validateAttachmentName(
                doc.string(o.as, asPath),
                fieldOf(asPath),
                doc.file,
                doc.line(asPath),
            );
            spec.as = o.as as string;
        }
        return spec;
    });
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
 * `{ plan, as?, options? }`) and `scripts.postdeploy`. Other Heroku keys are ignored; keys
 * Heroku does not define are refused, so a typo such as `formations` is not silently dropped.
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
    const app: AppJson = {
        env: top.env === undefined ? {} : parseEnv(doc, top.env),
        formation: top.formation === undefined ? {} : parseFormation(doc, top.formation),
        addons: top.addons === undefined ? [] : parseAddons(doc, top.addons),
        scripts: {},
    };
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
    checkAttachments(doc, app.addons, app.env);
    return app;
}
