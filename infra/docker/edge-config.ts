/**
 * The edge router's configuration, as pure functions: what each app on the Docker host asks for
 * (an {@link EdgeEntry}) becomes one Caddy JSON config ({@link edgeCaddyConfig}) that the CLI
 * loads through Caddy's admin API. Caddy swaps configs without a restart: open connections and
 * in-flight requests finish on the old config.
 */

/** Where the edge router keeps everything: one volume mounted here (certificates, account keys, config). */
export const EDGE_ROOT = "/edge";
/** The admin API's unix socket inside the container (never a TCP port on the host). */
export const EDGE_ADMIN_SOCKET = `${EDGE_ROOT}/config/admin.sock`;
/** Dynoform's own files on the volume: one entry per app and stack, custom certificates, the loaded config. */
export const EDGE_DIR = `${EDGE_ROOT}/config/dynoform`;
export const EDGE_APPS_DIR = `${EDGE_DIR}/apps`;
export const EDGE_CERTS_DIR = `${EDGE_DIR}/certs`;
/**
 * While this file exists, the edge answers every request with `Connection: close`: a config load
 * closes every idle kept connection (Go's `Server.Shutdown`), and a client sending its next
 * request on one at that moment sees it reset. Before a load the CLI creates it and waits until
 * the clients' kept connections have closed (see `drained` in edge.ts); their next requests come on
 * new connections, which a load lets finish.
 */
export const EDGE_DRAIN_FILE = `${EDGE_DIR}/draining`;
/** Caddy's certificate storage (XDG_DATA_HOME/caddy). */
export const EDGE_STORAGE = `${EDGE_ROOT}/data/caddy`;
/** Handover copies of the ACME certificates in Caddy's storage (see {@link HandoverCert}). */
export const EDGE_HANDOVER_DIR = `${EDGE_DIR}/handover`;

/**
 * A copy of an ACME certificate Caddy manages, loaded with each config as a file, so that a new
 * config serves it from its first connection. Caddy 2.6 starts every config with an empty
 * certificate cache and begins serving on the new listeners before it loads its managed
 * certificates from storage: a TLS handshake in that moment (milliseconds, more on a busy host)
 * found no certificate and was refused (`tlsv1 alert internal error`). Files load before any
 * server starts. The copy's chain has its last certificate once more ({@link handoverChain}), so
 * certmagic keeps it apart from the managed one (it dedupes by the chain's hash) and still manages
 * and renews that; the https server ignores loaded certificates when it picks the names to manage.
 * A copy is served first while it is valid: the next config load copies a renewed certificate.
 */
export interface HandoverCert {
    domain: string;
    certFile: string;
    keyFile: string;
}

/** The PEM chain of a handover copy: the chain with its last certificate once more. Pure. */
export function handoverChain(chainPem: string): string {
    const blocks = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (!blocks.length) throw new Error("no certificate in the PEM chain");
    return [...blocks, blocks[blocks.length - 1]].join("\n") + "\n";
}

/** Let's Encrypt's production directory: the default ACME CA. */
export const LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory";
/** Let's Encrypt's staging directory (`acmeDirectory: staging`). */
export const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

/** The host-wide part of the edge router: set by the first stack that starts it. */
export interface EdgeHost {
    /** Port for plain HTTP (ACME HTTP-01 challenges, redirects, `<app>.localhost`). Default 80. */
    httpPort: number;
    /** Port for HTTPS. Default 443. */
    httpsPort: number;
    /** Address to listen on; empty for every interface. */
    hostIp: string;
    /**
     * Seconds between Caddy's checks of which certificates are due (its default is 600). Caddy
     * reads it once, at the edge's first config: it is part of the edge, as its ports are.
     */
    renewCheckSeconds?: number;
}

/** What one app (in one stack) asks of the edge router. Stored on the edge volume as JSON. */
export interface EdgeEntry {
    app: string;
    stack: string;
    /** The app's domains: served over HTTPS with a certificate. */
    domains: string[];
    /** Plain-HTTP names that browsers resolve without DNS: `<app>.localhost`. */
    localNames: string[];
    /** `host:port` of the app's router: where the edge proxies when it knows no dyno, or cannot reach one. */
    upstream: string;
    /**
     * `ip:port` of each web dyno, as the app's router last resolved them: the edge proxies
     * straight to these (one hop), and to {@link upstream} only when it cannot connect to any.
     */
    dynos?: string[];
    maintenance: boolean;
    hsts: boolean;
    acme: {
        directory: string;
        email?: string;
        /** Path (inside the edge) of a PEM file of roots to trust for the directory's own HTTPS. */
        caRootFile?: string;
    };
    /** Certificates the user brought (`certs:add`): paths inside the edge, and the names they cover. */
    customCerts: Array<{ certFile: string; keyFile: string; names: string[] }>;
    /** Domains with a certificate in force: their plain HTTP redirects to HTTPS. */
    activeDomains: string[];
    /** Renew every certificate of the entry on the next load (`certs:renew`). */
    forceRenewal?: boolean;
}

/** The entry's domains Caddy gets certificates for over ACME: all but those a `certs:add` certificate covers. Pure. */
export function acmeDomains(e: EdgeEntry): string[] {
    const own = new Set(e.customCerts.flatMap((c) => c.names));
    return e.domains.filter((d) => !own.has(d));
}

/** The id of an entry: `<app>.<stack>`, as Docker object names (app and stack never contain the other's '.'). Pure. */
export function entryId(e: Pick<EdgeEntry, "app" | "stack">): string {
    return `${e.app}.${e.stack}`;
}

/** The ACME directory a setting names: `staging`, `letsencrypt` (the default) or any URL. Pure. */
export function acmeDirectory(setting: string | undefined): string {
    if (setting === undefined || setting === "" || setting === "letsencrypt") return LETS_ENCRYPT;
    if (setting === "staging") return LETS_ENCRYPT_STAGING;
    return setting;
}

/**
 * Why a domain name cannot be served, or undefined when it can: lowercase DNS labels (a-z, 0-9,
 * '-', not at either end, 1-63 characters), at least two labels, 253 characters at most; no
 * wildcard (its certificate needs a DNS-01 challenge, which the edge router does not do), no IP
 * address, no `.localhost` name (those are given to every app already). Pure.
 */
export function domainProblem(name: string): string | undefined {
    if (name.startsWith("*.")) return "a wildcard needs a DNS-01 challenge, which Dynoform does not do; add each name instead";
    if (name !== name.toLowerCase()) return "write domains in lowercase";
    if (/^\d+(\.\d+){3}$/.test(name) || name.includes(":")) return "an IP address is not a domain; certificates are issued for names";
    if (name.length > 253) return "longer than 253 characters";
    const labels = name.split(".");
    if (labels.length < 2) return "needs at least two labels, such as www.example.com";
    for (const label of labels) {
        if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label)) {
            return `label \`${label}\` is not 1-63 of a-z, 0-9 and '-' (not at either end)`;
        }
    }
    if (labels[labels.length - 1] === "localhost") return "`.localhost` names are given to every app on the edge router already";
    return undefined;
}

/** The maintenance page (Heroku's maintenance mode), with the app's name. Pure. */
export function maintenancePage(app: string): string {
    return (
        `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${app}: offline for maintenance</title></head>\n` +
        `<body><h1>Offline for maintenance</h1><p>${app} is offline for maintenance. Please try again shortly.</p></body></html>\n`
    );
}

type Json = Record<string, unknown>;

/**
 * The renewal window of a forced renewal (`certs:renew`), as a share of a certificate's lifetime.
 * Caddy (certmagic) renews a certificate once now is past `notAfter - ratio × lifetime`; at 1 that
 * is its `notBefore`, so every certificate is due at once, whatever its lifetime, and Caddy renews
 * it when the config loads while the old one keeps serving. (0.999999 left the first 0.0001 % of
 * the lifetime out: 158 s of Pebble's 5-year certificates, 8 s of Let's Encrypt's 90 days.)
 */
const FORCED_RENEWAL_WINDOW_RATIO = 1;

function appHandlers(e: EdgeEntry, https: boolean): Json[] {
    const handlers: Json[] = [];
    if (https && e.hsts) {
        handlers.push({ handler: "headers", response: { set: { "Strict-Transport-Security": ["max-age=31536000"] } } });
    }
    if (e.maintenance) {
        handlers.push({
            handler: "static_response",
            status_code: 503,
            headers: { "Content-Type": ["text/html; charset=utf-8"], "Retry-After": ["60"] },
            body: maintenancePage(e.app),
        });
    } else {
        handlers.push(e.dynos?.length ? dynoProxy(e) : { handler: "reverse_proxy", upstreams: [{ dial: e.upstream }] });
    }
    return handlers;
}

/**
 * How long a dyno that refused a connection is left out. Docker may restart a crashed dyno with
 * a new address (the app's router follows it within a second, the edge at the next sync): the
 * edge stops trying the old one, and the requests meanwhile take the app's router (below).
 */
const DYNO_FAIL_SECONDS = 10;

/**
 * Straight to the web dynos, round robin, over keep-alive connections. Their addresses are in the
 * config: a new list (scale, release) is a config load, which returns once Caddy serves it (and a
 * load no longer resets kept connections: see EDGE_DRAIN_FILE). No retries inside the proxy:
 * Caddy 2.6 cannot resend a request body it has read; a request no dyno took goes to the app's
 * router ({@link fallbackRoute}). Pure.
 */
export function dynoProxy(e: EdgeEntry): Json {
    return {
        handler: "reverse_proxy",
        upstreams: e.dynos!.map((dial) => ({ dial })),
        load_balancing: { selection_policy: { policy: "round_robin" } },
        health_checks: { passive: { fail_duration: `${DYNO_FAIL_SECONDS}s`, max_fails: 1 } },
        transport: { protocol: "http", dial_timeout: "2s", keep_alive: { max_idle_conns_per_host: 64 } },
    };
}

/**
 * Caddy's error message when no connection to a dyno was made (the request was not sent):
 * `dial tcp ...: connect: connection refused`, `no upstreams available` (all left out).
 */
const NOT_SENT = "^(dial |no upstreams available)";

/**
 * For an app whose dynos the edge proxies to: when none could be connected to, the request
 * goes to the app's router instead (it follows the dynos every second). Only requests that
 * never reached a dyno: a request a dyno may have seen is not sent twice. Pure.
 */
function fallbackRoute(id: string, hosts: string[], e: EdgeEntry): Json | undefined {
    if (e.maintenance || !e.dynos?.length || !hosts.length) return undefined;
    return {
        "@id": `${id}.fallback`,
        match: [{ host: hosts, vars_regexp: { "{http.error.message}": { pattern: NOT_SENT } } }],
        handle: [{ handler: "reverse_proxy", upstreams: [{ dial: e.upstream }] }],
        terminal: true,
    };
}

const route = (id: string, hosts: string[], handle: Json[]): Json => ({ "@id": id, match: [{ host: hosts }], handle, terminal: true });

/**
 * The first route of each server: while {@link EDGE_DRAIN_FILE} exists (Caddy's `file` matcher
 * looks per request), every answer says `Connection: close`, and Go closes the connection after
 * it. Not terminal: the app's route answers. Pure.
 */
export function drainRoute(): Json {
    const slash = EDGE_DRAIN_FILE.lastIndexOf("/");
    return {
        match: [{ file: { root: EDGE_DRAIN_FILE.slice(0, slash), try_files: [EDGE_DRAIN_FILE.slice(slash)] } }],
        handle: [{ handler: "headers", response: { set: { Connection: ["close"] } } }],
    };
}

/**
 * The whole Caddy config for a host's edge router and every entry on it. Two servers: `https`
 * (every domain, certificates managed by Caddy over ACME HTTP-01 or loaded from `certs:add`) and
 * `http` (ACME challenges, which Caddy answers before any route, `<app>.localhost`, a redirect
 * to HTTPS for each domain whose certificate is in force, plain HTTP for the others until then).
 * `handover` copies of managed certificates are loaded as files (see {@link HandoverCert}).
 * Entries are sorted, so the same entries give the same config. Pure.
 */
export function edgeCaddyConfig(host: EdgeHost, entries: EdgeEntry[], handover: HandoverCert[] = []): Json {
    const listen = (port: number) => `${host.hostIp}:${port}`;
    const sorted = [...entries].sort((a, b) => entryId(a).localeCompare(entryId(b)));
    const httpsRoutes: Json[] = [];
    const httpRoutes: Json[] = [];
    const httpsErrors: Json[] = [];
    const httpErrors: Json[] = [];
    const policies: Json[] = [];
    const loadFiles: Json[] = [];
    const custom: string[] = [];
    for (const e of sorted) {
        const id = entryId(e);
        const redirected = e.domains.filter((d) => e.activeDomains.includes(d));
        const plain = [...e.localNames, ...e.domains.filter((d) => !e.activeDomains.includes(d))];
        if (e.domains.length) httpsRoutes.push(route(`${id}.https`, e.domains, appHandlers(e, true)));
        const httpsFallback = fallbackRoute(`${id}.https`, e.domains, e);
        if (httpsFallback) httpsErrors.push(httpsFallback);
        if (redirected.length) {
            const location = `https://{http.request.host}${host.httpsPort === 443 ? "" : `:${host.httpsPort}`}{http.request.uri}`;
            httpRoutes.push(route(`${id}.redirect`, redirected, [{ handler: "static_response", status_code: 308, headers: { Location: [location] } }]));
        }
        if (plain.length) httpRoutes.push(route(`${id}.http`, plain, appHandlers(e, false)));
        const httpFallback = fallbackRoute(`${id}.http`, plain, e);
        if (httpFallback) httpErrors.push(httpFallback);
        for (const c of e.customCerts) loadFiles.push({ certificate: c.certFile, key: c.keyFile, tags: [id] });
        const managed = acmeDomains(e);
        custom.push(...e.domains.filter((d) => !managed.includes(d)));
        for (const h of handover) if (managed.includes(h.domain)) loadFiles.push({ certificate: h.certFile, key: h.keyFile, tags: [id, "handover"] });
        if (managed.length) {
            const issuer: Json = { module: "acme", ca: e.acme.directory };
            if (e.acme.email) issuer.email = e.acme.email;
            if (e.acme.caRootFile) issuer.trusted_roots_pem_files = [e.acme.caRootFile];
            const policy: Json = { subjects: managed, issuers: [issuer] };
            if (e.forceRenewal) policy.renewal_window_ratio = FORCED_RENEWAL_WINDOW_RATIO;
            policies.push(policy);
        }
    }
    const automation: Json = { policies };
    if (host.renewCheckSeconds) automation.renew_interval = `${host.renewCheckSeconds}s`;
    const tls: Json = { automation };
    if (loadFiles.length) tls.certificates = { load_files: loadFiles };
    const servers: Json = {
        http: { listen: [listen(host.httpPort)], routes: [drainRoute(), ...httpRoutes], ...(httpErrors.length ? { errors: { routes: httpErrors } } : {}) },
    };
    if (httpsRoutes.length) {
        servers.https = {
            listen: [listen(host.httpsPort)],
            routes: [drainRoute(), ...httpsRoutes],
            ...(httpsErrors.length ? { errors: { routes: httpsErrors } } : {}),
            // Names with a handover copy loaded are managed all the same; certs:add names are skipped by name.
            automatic_https: { disable_redirects: true, ignore_loaded_certificates: true, ...(custom.length ? { skip_certificates: custom } : {}) },
        };
    }
    return {
        admin: { listen: `unix/${EDGE_ADMIN_SOCKET}`, origins: ["localhost"] },
        apps: { http: { http_port: host.httpPort, https_port: host.httpsPort, servers }, tls },
    };
}

/** Which other app (in which stack) already serves `domain` among `entries`, if any. Pure. */
export function domainOwner(entries: EdgeEntry[], domain: string, self: Pick<EdgeEntry, "app" | "stack">): EdgeEntry | undefined {
    return entries.find((e) => entryId(e) !== entryId(self) && e.domains.includes(domain));
}
