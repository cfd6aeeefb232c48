import { DynoformInputError } from "./errors";

// The one table of add-on names: what the library's `AppArgs.addons`, the stack file, the CLI
// (`addons:create`) and app.json accept, and what app.json may name that Dynoform does not run.

/** The add-on plans Dynoform runs. */
export type AddOnPlan = "postgres" | "redis";

/** What Dynoform needs to know to run one kind of add-on, and to attach it to an app. */
export interface AddOnKind {
    /** The base image it runs (built by `dynoform doctor`). */
    baseImage: "postgres" | "redis";
    /** The port it listens on, on the app network. */
    port: number;
    /** Where its data volume is mounted. */
    dataPath: string;
    /** User the server runs as; the image's user when unset. */
    user?: string;
    /** The config var it is attached as when no `as` is given. */
    attachedAs: string;
    /** The server's environment, from its generated password. */
    env<P>(password: P): Record<string, P | string>;
    /** The server's shell command; the image's when unset. */
    command?: string;
    /** A shell command that exits 0 once the server answers (Docker's health check). */
    ready: string;
    /** The attachment URL an app sees: `postgres://app:<password>@postgres:5432/app`. */
    url(host: string, password: string): string;
    /** `pg:backups` works on it. */
    backups: boolean;
}

/** The one table of add-on kinds: every difference between postgres and redis lives here. */
export const ADDON_KINDS: Readonly<Record<AddOnPlan, AddOnKind>> = {
    postgres: {
        baseImage: "postgres",
        port: 5432,
        dataPath: "/var/lib/postgresql/data",
        attachedAs: "DATABASE_URL",
        env: (password) => ({ POSTGRES_USER: "app", POSTGRES_DB: "app", POSTGRES_PASSWORD: password, PGDATA: "/var/lib/postgresql/data/pgdata" }),
        ready: "pg_isready -q -h 127.0.0.1 -U app -d app",
        url: (host, password) => `postgres://app:${encodeURIComponent(password)}@${host}:5432/app`,
        backups: true,
    },
    redis: {
        baseImage: "redis",
        port: 6379,
        dataPath: "/data",
        user: "redis",
        attachedAs: "REDIS_URL",
        env: (password) => ({ REDIS_PASSWORD: password }),
        command: 'exec redis-server --requirepass "$REDIS_PASSWORD" --appendonly yes --dir /data --bind 0.0.0.0 --protected-mode no',
        ready: 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli ping | grep -q PONG',
        url: (host, password) => `redis://:${encodeURIComponent(password)}@${host}:6379`,
        backups: false,
    },
};

/** The kind of add-on `plan` names, or undefined for a plan Dynoform does not run. Pure. */
export function addonKind(plan: string): AddOnKind | undefined {
    return Object.prototype.hasOwnProperty.call(ADDON_KINDS, plan) ? ADDON_KINDS[plan as AddOnPlan] : undefined;
}

/** Every name an add-on plan may be given by, lower-case, and the plan it runs. */
export const ADDON_PLAN_ALIASES = {
    postgres: "postgres",
    postgresql: "postgres",
    "heroku-postgresql": "postgres",
    redis: "redis",
    "heroku-redis": "redis",
} as const satisfies Readonly<Record<string, AddOnPlan>>;

/** A name of an add-on plan: `postgres`, `heroku-postgresql`, `redis`, `heroku-redis`, ... */
export type AddOnPlanAlias = keyof typeof ADDON_PLAN_ALIASES;

/**
 * An add-on plan as written: a name from {@link ADDON_PLAN_ALIASES}, optionally with a Heroku
 * tier after a colon (`heroku-postgresql:essential-0`). Names are case-insensitive at run time.
 */
export type AddOnPlanName = AddOnPlanAlias | `${AddOnPlanAlias}:${string}`;

/** An add-on plan resolved from its name. */
export interface ResolvedPlan {
    /** The add-on kind Dynoform runs. */
    plan: AddOnPlan;
    /** Heroku plan tier as written after the colon, e.g. `essential-0`, `mini`. */
    tier?: string;
}

/** The known plans, for messages. */
export const KNOWN_PLANS = "postgres (heroku-postgresql), redis (heroku-redis)";

/**
 * Config vars that well-known Heroku add-ons Dynoform does not run would have set: what an app
 * lacks when such an add-on is skipped. Service names as in app.json, before the colon.
 */
export const UNSUPPORTED_ADDON_VARS: Readonly<Record<string, readonly string[]>> = Object.freeze({
    mongolab: ["MONGOLAB_URI"],
    mongohq: ["MONGOHQ_URL"],
    papertrail: ["PAPERTRAIL_API_TOKEN"],
    sendgrid: ["SENDGRID_USERNAME", "SENDGRID_PASSWORD"],
    mailgun: ["MAILGUN_API_KEY", "MAILGUN_DOMAIN", "MAILGUN_SMTP_SERVER", "MAILGUN_SMTP_LOGIN", "MAILGUN_SMTP_PASSWORD"],
    rediscloud: ["REDISCLOUD_URL"],
    redistogo: ["REDISTOGO_URL"],
    "heroku-kafka": ["KAFKA_URL", "KAFKA_TRUSTED_CERT", "KAFKA_CLIENT_CERT", "KAFKA_CLIENT_CERT_KEY"],
    cloudamqp: ["CLOUDAMQP_URL"],
    cleardb: ["CLEARDB_DATABASE_URL"],
    jawsdb: ["JAWSDB_URL"],
    memcachier: ["MEMCACHIER_SERVERS", "MEMCACHIER_USERNAME", "MEMCACHIER_PASSWORD"],
    newrelic: ["NEW_RELIC_LICENSE_KEY", "NEW_RELIC_APP_NAME"],
    bonsai: ["BONSAI_URL"],
    searchbox: ["SEARCHBOX_URL"],
    sentry: ["SENTRY_DSN"],
    rollbar: ["ROLLBAR_ACCESS_TOKEN"],
    logentries: ["LOGENTRIES_TOKEN"],
});

const TIER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Heroku add-on service names: lower-case letters, digits and '-'. */
const SERVICE_RE = /^[a-z0-9][a-z0-9-]*$/;

const has = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);
const show = (v: unknown) => (typeof v === "number" ? String(v) : (JSON.stringify(v) ?? String(v)));

/** `heroku-postgresql:essential-0` -> `heroku-postgresql` (lower-case, trimmed). Pure. */
export function addonService(name: string): string {
    const colon = name.indexOf(":");
    return (colon < 0 ? name : name.slice(0, colon)).trim().toLowerCase();
}

/** Whether Dynoform runs the add-on named (`heroku-redis:mini` yes, `mongolab` no). Pure. */
export function isSupportedPlan(name: unknown): boolean {
    return typeof name === "string" && has(ADDON_PLAN_ALIASES, addonService(name));
}

/**
 * The config vars an app would lack without the add-on `name`: `["MONGOLAB_URI"]` for
 * `mongolab:sandbox`, or undefined when the add-on is not in {@link UNSUPPORTED_ADDON_VARS}. Pure.
 */
export function missingAddonVars(name: string): string[] | undefined {
    const service = addonService(name);
    return has(UNSUPPORTED_ADDON_VARS, service) ? [...UNSUPPORTED_ADDON_VARS[service]] : undefined;
}

/**
 * Maps an add-on plan name to a Dynoform add-on: `heroku-postgresql[:tier]` and
 * `postgres`/`postgresql` to postgres, `heroku-redis[:tier]` and `redis` to redis.
 *
 * @param field Path for error messages, e.g. `addons[1].plan`.
 * @throws DynoformInputError naming `field` for unknown plans (listing the known ones) or a
 *   malformed tier.
 */
export function mapAddonPlan(name: string, field: string, file?: string): ResolvedPlan {
    if (typeof name !== "string") {
        throw new DynoformInputError(field, `add-on plan ${show(name)} is not a string; known plans: ${KNOWN_PLANS}`, file);
    }
    const service = addonService(name);
    const plan = has(ADDON_PLAN_ALIASES, service) ? ADDON_PLAN_ALIASES[service as AddOnPlanAlias] : undefined;
    if (!plan) {
        throw new DynoformInputError(
            field,
            `unknown add-on plan ${show(name)}; known plans: ${KNOWN_PLANS}, e.g. "heroku-postgresql:essential-0" or "redis"`,
            file,
        );
    }
    const colon = name.indexOf(":");
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

/**
 * Checks the name of an add-on Dynoform does not run, so that it can be skipped: a service name
 * (lower-case letters, digits, '-') and an optional tier. Pure.
 *
 * @throws DynoformInputError naming `field` when the name could not be an add-on's.
 */
export function checkUnsupportedPlan(name: string, field: string, file?: string): void {
    const service = addonService(name);
    const colon = name.indexOf(":");
    const tier = colon < 0 ? undefined : name.slice(colon + 1).trim();
    if (!SERVICE_RE.test(service) || (tier !== undefined && !TIER_RE.test(tier))) {
        throw new DynoformInputError(
            field,
            `${show(name)} is not an add-on plan name; write a service and an optional tier, e.g. "heroku-postgresql:essential-0"; known plans: ${KNOWN_PLANS}`,
            file,
        );
    }
}
