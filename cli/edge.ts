import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import type Docker = require("dockerode");
import { acmeDirectory, domainProblem, EdgeEntry, EdgeHost, entryId } from "../infra/docker/edge-config";
import { applyEntry, EdgeListenMismatch, enableRequestMigration, ensureEdge, findEdge, readCerts, readEntries, runningHost, storeCaRoot, StoredCert } from "../infra/docker/edge";
import { connectDocker } from "../infra/docker/client";
import { execIn } from "../infra/docker/exec";
import { roleFilter } from "../infra/docker/labels";
import { liveDynos, ROUTER_CONF_FILE } from "../infra/docker/router-files";
import type { StackSettings } from "../infra/settings";
import { ensureOnDemandImage } from "../toolchain/base-images";
import { consoleReporter } from "../toolchain/report";
import { UsageError } from "./errors";
import { stackFile } from "./project";

/** `dynoform:edge` as read from a stack file: the host's edge ports and this app's ACME settings. */
export interface EdgeSettings {
    host: EdgeHost;
    /** ACME directory URL (`letsencrypt`, the default; `staging`; or any CA's URL). */
    acmeDirectory: string;
    acmeEmail?: string;
    /** A PEM file (relative to the project) of roots that the ACME directory's own HTTPS is signed by. */
    acmeCaRoot?: string;
    hsts: boolean;
}

const EDGE_KEYS = ["httpPort", "httpsPort", "hostIp", "renewCheckSeconds", "acmeDirectory", "acmeEmail", "acmeCaRoot", "hsts"];

/** True when the stack is served by the host's edge router: it lists domains or has edge settings. Pure. */
export function onEdge(s: Pick<StackSettings, "domains" | "edge">): boolean {
    return s.domains !== undefined || s.edge !== undefined;
}

/** Reads and checks `dynoform:edge`; a bad value is one line naming the key. Pure. */
export function edgeSettings(raw: Record<string, unknown> | undefined, shownFile: string): EdgeSettings {
    const e = raw ?? {};
    const bad = (key: string, what: string) => new UsageError(`${shownFile}: \`dynoform:edge.${key}\`: ${what}`);
    for (const k of Object.keys(e)) if (!EDGE_KEYS.includes(k)) throw bad(k, `unknown key; the keys are ${EDGE_KEYS.join(", ")}`);
    const port = (key: string, dflt: number) => {
        const v = e[key];
        if (v === undefined) return dflt;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw bad(key, `expected a port from 1 to 65535, got ${JSON.stringify(v)}`);
        return n;
    };
    const text = (key: string) => {
        const v = e[key];
        if (v !== undefined && typeof v !== "string") throw bad(key, `expected a string, got ${JSON.stringify(v)}`);
        return v as string | undefined;
    };
    const host: EdgeHost = { httpPort: port("httpPort", 80), httpsPort: port("httpsPort", 443), hostIp: text("hostIp") ?? "" };
    if (e.renewCheckSeconds !== undefined) {
        const n = Number(e.renewCheckSeconds);
        if (!Number.isInteger(n) || n < 1) throw bad("renewCheckSeconds", `expected a whole number of seconds, got ${JSON.stringify(e.renewCheckSeconds)}`);
        host.renewCheckSeconds = n;
    }
    if (host.httpPort === host.httpsPort) throw bad("httpsPort", `must differ from httpPort (${host.httpPort})`);
    const dir = acmeDirectory(text("acmeDirectory"));
    if (!/^https:\/\/\S+$/.test(dir)) throw bad("acmeDirectory", `expected letsencrypt, staging or an https:// URL, got ${JSON.stringify(dir)}`);
    const hsts = e.hsts === undefined ? false : [true, "true"].includes(e.hsts as string) ? true : [false, "false"].includes(e.hsts as string) ? false : undefined;
    if (hsts === undefined) throw bad("hsts", `expected true or false, got ${JSON.stringify(e.hsts)}`);
    return { host, acmeDirectory: dir, acmeEmail: text("acmeEmail"), acmeCaRoot: text("acmeCaRoot"), hsts };
}

/**
 * Checks what the stack asks of the edge router (its settings, each domain, the router port it
 * is reached on) before anything is deployed: one line naming the file and key. Pure.
 */
export function checkEdge(dir: string, stack: string, s: StackSettings): void {
    if (!onEdge(s)) return;
    const shown = shownStackFile(dir, stack);
    edgeSettings(s.edge, shown);
    upstreamOf(s, shown);
    for (const d of s.domains ?? []) {
        const problem = domainProblem(d);
        if (problem) throw new UsageError(`${shown}: \`dynoform:domains\`: \`${d}\`: ${problem}`);
    }
}

/** The stack file's name as shown in messages. */
export function shownStackFile(dir: string, stack: string): string {
    return path.relative(process.cwd(), stackFile(dir, stack)) || stackFile(dir, stack);
}

/** The edge router, started if needed; the host settings it runs with must be the stack's. */
export async function openEdge(settings: EdgeSettings): Promise<Docker.Container> {
    const image = await ensureOnDemandImage("caddy", consoleReporter);
    const advice = enableRequestMigration();
    if (advice) consoleReporter(advice);
    try {
        return await ensureEdge(settings.host, image);
    } catch (err) {
        if (err instanceof EdgeListenMismatch) throw new UsageError(err.message);
        throw err;
    }
}

/** One domain's certificate, as `certs` lists it. */
export interface CertStatus {
    domain: string;
    issuer: string;
    /** ISO date; empty while none is issued. */
    expires: string;
    status: "active" | "expired" | "pending";
    source: "acme" | "custom" | "";
    serial: string;
}

/** The certificate serving each domain among those stored: the one expiring last that names it. Pure but for the clock. */
export function certStatuses(domains: string[], certs: StoredCert[], now = new Date()): CertStatus[] {
    const parsed = certs.flatMap((c) => {
        try {
            return [{ x509: new crypto.X509Certificate(c.pem), custom: c.file.includes("/dynoform/certs/") }];
        } catch {
            return [];
        }
    });
    return domains.map((domain) => {
        // A user's certificate is served before one over ACME (Caddy prefers manually loaded ones).
        const covering = parsed
            .filter((p) => p.x509.checkHost(domain) !== undefined)
            .sort((a, b) => Number(b.custom) - Number(a.custom) || Date.parse(b.x509.validTo) - Date.parse(a.x509.validTo));
        const best = covering[0];
        if (!best) return { domain, issuer: "", expires: "", status: "pending", source: "", serial: "" };
        const expires = new Date(Date.parse(best.x509.validTo));
        const cn = /CN=([^\n]+)/.exec(best.x509.issuer)?.[1] ?? best.x509.issuer.replace(/\n/g, ", ");
        return {
            domain,
            issuer: cn,
            expires: expires.toISOString(),
            status: expires > now && Date.parse(best.x509.validFrom) <= now.getTime() ? "active" : "expired",
            source: best.custom ? "custom" : "acme",
            serial: best.x509.serialNumber,
        };
    });
}

/** Where the edge reaches the app when no dyno can take a request: its router's published port (the edge runs on the host's network). Pure. */
export function upstreamOf(s: Pick<StackSettings, "routerPort" | "routerHost">, shownFile: string): string {
    if (s.routerPort === undefined) throw new UsageError(`${shownFile} has no dynoform:routerPort: the edge router reaches the app through its router`);
    const host = !s.routerHost || s.routerHost === "0.0.0.0" ? "127.0.0.1" : s.routerHost;
    return `${host}:${s.routerPort}`;
}

/**
 * The app's web dynos as its running router resolved them (`ip:port`), which the edge proxies
 * to straight; undefined when no router runs (the edge then goes through the router's port).
 */
export async function routerDynos(app: string, stack: string): Promise<string[] | undefined> {
    const docker = connectDocker();
    const running = await docker.listContainers({ filters: { label: roleFilter("router", app, stack), status: ["running"] } });
    if (running.length !== 1) return undefined;
    const r = await execIn(docker.getContainer(running[0].Id), ["cat", ROUTER_CONF_FILE]);
    return r.exitCode === 0 ? liveDynos(r.output) : undefined;
}

/** What {@link syncEdge} changes beyond the stack file. */
export interface SyncOptions {
    forceRenewal?: boolean;
    addCert?: EdgeEntry["customCerts"][number];
}

/**
 * Brings the app's entry on the edge router in line with its stack file (domains, maintenance,
 * ACME settings) and loads the new config. Domains with a certificate in force get their plain
 * HTTP redirected to HTTPS. Returns the entry as loaded and each domain's certificate.
 */
export async function syncEdge(dir: string, stack: string, s: StackSettings, opts: SyncOptions = {}): Promise<{ entry: EdgeEntry; certs: CertStatus[] }> {
    const shown = shownStackFile(dir, stack);
    checkEdge(dir, stack, s);
    const settings = edgeSettings(s.edge, shown);
    const upstream = upstreamOf(s, shown);
    const c = await openEdge(settings);
    const previous = (await readEntries(c)).find((e) => entryId(e) === entryId({ app: s.app, stack }));
    let caRootFile: string | undefined;
    if (settings.acmeCaRoot) {
        const file = path.resolve(dir, settings.acmeCaRoot);
        if (!fs.existsSync(file)) throw new UsageError(`${shown}: \`dynoform:edge.acmeCaRoot\`: no file ${file}`);
        caRootFile = await storeCaRoot(c, fs.readFileSync(file, "utf8"));
    }
    const domains = s.domains ?? [];
    const customCerts = [...(previous?.customCerts ?? [])].filter((x) => x.certFile !== opts.addCert?.certFile);
    if (opts.addCert) customCerts.push(opts.addCert);
    const certs = certStatuses(domains, await readCerts(c));
    const entry: EdgeEntry = {
        app: s.app,
        stack,
        domains,
        localNames: [`${s.app}.localhost`],
        upstream,
        dynos: (await routerDynos(s.app, stack)) ?? previous?.dynos,
        maintenance: s.maintenance === true,
        hsts: settings.hsts,
        acme: { directory: settings.acmeDirectory, email: settings.acmeEmail, caRootFile },
        customCerts: customCerts.map((x) => ({ ...x, names: x.names.filter((n) => domains.includes(n)) })).filter((x) => x.names.length),
        activeDomains: certs.filter((x) => x.status === "active").map((x) => x.domain),
        forceRenewal: opts.forceRenewal,
    };
    await applyEntry(c, settings.host, entry);
    return { entry, certs };
}

/** The app's certificates now, from the edge volume. */
export async function appCerts(domains: string[]): Promise<CertStatus[]> {
    const found = await findEdge();
    if (!found?.State.Running) return certStatuses(domains, []);
    return certStatuses(domains, await readCerts(connectDocker().getContainer(found.Id)));
}

/** Takes the app off the edge router (after `destroy`); nothing to do when no edge runs. */
export async function leaveEdge(app: string, stack: string): Promise<void> {
    const found = await findEdge();
    if (!found?.State.Running) return;
    const c = connectDocker().getContainer(found.Id);
    const entry = (await readEntries(c)).find((e) => entryId(e) === entryId({ app, stack }));
    if (!entry) return;
    const host = runningHost(found);
    if (host) await applyEntry(c, host, entry, true);
}

/**
 * Sets (or, with `undefined`, removes) one `dynoform:<key>` of a stack file's text with the
 * `yaml` Document API: comments and order stay. Lists are written as block sequences. Pure.
 */
export function setSettingText(text: string, key: string, value: unknown): string {
    const doc = YAML.parseDocument(text);
    if (doc.errors.length) throw new Error(`cannot edit the stack file: ${doc.errors[0].message}`);
    if (value === undefined) doc.deleteIn(["config", `dynoform:${key}`]);
    else doc.setIn(["config", `dynoform:${key}`], doc.createNode(value));
    return doc.toString();
}

/**
 * Writes one setting into the stack file and brings the edge in line with it; when the edge
 * cannot take it, the stack file is put back, so it says what is served.
 */
export async function setAndSync(dir: string, stack: string, s: StackSettings, key: "domains" | "maintenance", value: unknown): Promise<{ entry: EdgeEntry; certs: CertStatus[] }> {
    const file = stackFile(dir, stack);
    const original = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, setSettingText(original, key, value));
    try {
        return await syncEdge(dir, stack, s);
    } catch (err) {
        fs.writeFileSync(file, original);
        throw err;
    }
}
