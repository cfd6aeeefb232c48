import assert from "node:assert/strict";
import { test } from "node:test";
import {
    acmeDirectory,
    domainOwner,
    domainProblem,
    drainRoute,
    EdgeEntry,
    edgeCaddyConfig,
    handoverChain,
    LETS_ENCRYPT,
    LETS_ENCRYPT_STAGING,
} from "../../../infra/docker/edge-config";
import { keptConnections } from "../../../infra/docker/edge";
import { tarFiles } from "../../../infra/docker/tar";

const host = { httpPort: 80, httpsPort: 443, hostIp: "" };
const entry = (over: Partial<EdgeEntry> = {}): EdgeEntry => ({
    app: "hello",
    stack: "prod",
    domains: ["hello.example.com"],
    localNames: ["hello.localhost"],
    upstream: "127.0.0.1:5100",
    maintenance: false,
    hsts: false,
    acme: { directory: LETS_ENCRYPT },
    customCerts: [],
    activeDomains: [],
    ...over,
});
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const servers = (c: any) => c.apps.http.servers;
/** A server's routes but the first, which drains kept connections before a config load. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const appRoutes = (server: any) => {
    assert.deepEqual(server.routes[0], drainRoute());
    return server.routes.slice(1);
};

test("domainProblem: names that get a certificate pass; wildcards, IPs, bad labels and .localhost are refused with why", () => {
    for (const ok of ["hello.test", "www.example.com", "a-b.c0.example.org", "x".repeat(63) + ".io"]) assert.equal(domainProblem(ok), undefined, ok);
    assert.match(domainProblem("*.example.com")!, /DNS-01/);
    assert.match(domainProblem("Example.com")!, /lowercase/);
    assert.match(domainProblem("10.0.0.1")!, /IP address/);
    assert.match(domainProblem("localhost")!, /two labels/);
    assert.match(domainProblem("-a.example.com")!, /label `-a`/);
    assert.match(domainProblem("a..example.com")!, /label ``/);
    assert.match(domainProblem("x".repeat(64) + ".io")!, /1-63/);
    assert.match(domainProblem("hello.localhost")!, /\.localhost/);
    assert.match(domainProblem(("a".repeat(60) + ".").repeat(5) + "io")!, /253/);
});

test("acmeDirectory: Let's Encrypt by default, staging by name, any URL as given", () => {
    assert.equal(acmeDirectory(undefined), LETS_ENCRYPT);
    assert.equal(acmeDirectory("staging"), LETS_ENCRYPT_STAGING);
    assert.equal(acmeDirectory("https://ca.internal/dir"), "https://ca.internal/dir");
});

test("edgeCaddyConfig: HTTPS route per domain, plain HTTP until the certificate is active, then a redirect", () => {
    const pending = edgeCaddyConfig(host, [entry()]);
    assert.deepEqual(appRoutes(servers(pending).https)[0].match, [{ host: ["hello.example.com"] }]);
    assert.deepEqual(appRoutes(servers(pending).https)[0].handle, [{ handler: "reverse_proxy", upstreams: [{ dial: "127.0.0.1:5100" }] }]);
    assert.deepEqual(appRoutes(servers(pending).http).map((r: { match: unknown }) => r.match), [[{ host: ["hello.localhost", "hello.example.com"] }]]);
    const active = edgeCaddyConfig({ ...host, httpsPort: 8443 }, [entry({ activeDomains: ["hello.example.com"] })]);
    const redirect = appRoutes(servers(active).http)[0];
    assert.deepEqual(redirect.match, [{ host: ["hello.example.com"] }]);
    assert.equal(redirect.handle[0].status_code, 308);
    assert.deepEqual(redirect.handle[0].headers.Location, ["https://{http.request.host}:8443{http.request.uri}"]);
    assert.deepEqual(appRoutes(servers(active).http)[1].match, [{ host: ["hello.localhost"] }]);
    assert.equal(servers(active).https.automatic_https.disable_redirects, true);
});

test("edgeCaddyConfig: one ACME policy per app with its directory, email and trusted roots; HSTS only when asked", () => {
    const c = edgeCaddyConfig(host, [
        entry({ acme: { directory: "https://pebble/dir", email: "ops@example.com", caRootFile: "/edge/ca.pem" }, hsts: true }),
        entry({ app: "other", domains: ["other.example.com"], localNames: ["other.localhost"] }),
    ]);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const policies = (c as any).apps.tls.automation.policies;
    assert.deepEqual(policies[0], {
        subjects: ["hello.example.com"],
        issuers: [{ module: "acme", ca: "https://pebble/dir", email: "ops@example.com", trusted_roots_pem_files: ["/edge/ca.pem"] }],
    });
    assert.deepEqual(policies[1].subjects, ["other.example.com"]);
    const [helloRoute, otherRoute] = appRoutes(servers(c).https);
    assert.equal(helloRoute.handle[0].handler, "headers");
    assert.deepEqual(helloRoute.handle[0].response.set["Strict-Transport-Security"], ["max-age=31536000"]);
    assert.equal(otherRoute.handle[0].handler, "reverse_proxy");
});

test("edgeCaddyConfig: a forced renewal makes every certificate of the app due now, whatever its lifetime; none otherwise", () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ratio = (e: EdgeEntry) => (edgeCaddyConfig(host, [e]) as any).apps.tls.automation.policies[0].renewal_window_ratio;
    assert.equal(ratio(entry()), undefined);
    const forced = ratio(entry({ forceRenewal: true }));
    // certmagic (currentlyInRenewalWindow) renews once now is past notAfter - ratio x lifetime.
    const now = Date.now();
    for (const lifetimeSeconds of [157766400 /* Pebble's default, 5 years */, 90 * 86400 /* Let's Encrypt */, 6 * 86400]) {
        const notBefore = now - 1000;
        const notAfter = notBefore + lifetimeSeconds * 1000;
        assert.ok(notAfter - (notAfter - notBefore) * forced <= now, `a ${lifetimeSeconds} s certificate issued 1 s ago is due`);
    }
});

test("edgeCaddyConfig: maintenance answers 503 with the app's page on both servers", () => {
    const c = edgeCaddyConfig(host, [entry({ maintenance: true })]);
    for (const server of ["https", "http"]) {
        const h = appRoutes(servers(c)[server])[0].handle[0];
        assert.equal(h.status_code, 503);
        assert.match(h.body, /hello is offline for maintenance/);
    }
});

test("edgeCaddyConfig: with the app's dynos known, both servers proxy straight to their addresses (one hop), round robin", () => {
    const c = edgeCaddyConfig(host, [entry({ dynos: ["172.18.0.3:5000", "172.18.0.4:5000"] })]);
    for (const server of ["https", "http"]) {
        const h = appRoutes(servers(c)[server])[0].handle[0];
        assert.equal(h.handler, "reverse_proxy");
        assert.deepEqual(h.upstreams, [{ dial: "172.18.0.3:5000" }, { dial: "172.18.0.4:5000" }]);
        assert.equal(h.dynamic_upstreams, undefined);
        assert.equal(h.load_balancing.selection_policy.policy, "round_robin");
        assert.equal(h.load_balancing.try_duration, undefined, "no retry: Caddy 2.6 cannot resend a body it read");
    }
    // Without dynos (none resolved yet, or none running): through the app's router, as before.
    for (const dynos of [undefined, []]) {
        const h = appRoutes(servers(edgeCaddyConfig(host, [entry({ dynos })])).http)[0].handle[0];
        assert.deepEqual(h, { handler: "reverse_proxy", upstreams: [{ dial: "127.0.0.1:5100" }] });
        assert.equal(servers(edgeCaddyConfig(host, [entry({ dynos })])).http.errors, undefined);
    }
});

test("edgeCaddyConfig: another list of dynos (scale, new release) is another config: the load that hands it over returns once Caddy serves it", () => {
    const one = edgeCaddyConfig(host, [entry({ dynos: ["172.18.0.3:5000"] })]);
    const three = edgeCaddyConfig(host, [entry({ dynos: ["172.18.0.5:5000", "172.18.0.6:5000", "172.18.0.7:5000"] })]);
    assert.notDeepEqual(three, one);
    assert.deepEqual(appRoutes(servers(three).http)[0].handle[0].upstreams.map((u: { dial: string }) => u.dial), ["172.18.0.5:5000", "172.18.0.6:5000", "172.18.0.7:5000"]);
});

test("edgeCaddyConfig: a request no dyno could take (not sent) goes to the app's router, per host; none in maintenance", () => {
    const c = edgeCaddyConfig(host, [entry({ dynos: ["172.18.0.3:5000"], activeDomains: ["hello.example.com"] })]);
    const https = servers(c).https.errors.routes;
    assert.deepEqual(https.map((r: { match: Array<{ host: string[] }> }) => r.match[0].host), [["hello.example.com"]]);
    assert.deepEqual(https[0].handle, [{ handler: "reverse_proxy", upstreams: [{ dial: "127.0.0.1:5100" }] }]);
    // The redirected domain is not proxied over plain HTTP: only the local name falls back there.
    assert.deepEqual(servers(c).http.errors.routes[0].match[0].host, ["hello.localhost"]);
    const pattern = new RegExp(https[0].match[0].vars_regexp["{http.error.message}"].pattern);
    // Caddy 2.6's messages, read off a running edge: refused and all-left-out go on; a failure after sending does not.
    assert.ok(pattern.test("dial tcp 172.18.0.3:5000: connect: connection refused"));
    assert.ok(pattern.test("no upstreams available"));
    assert.ok(!pattern.test("readfrom tcp 172.17.0.3:59898->172.18.0.3:5000: http: invalid Read on closed Body"));
    assert.ok(!pattern.test("net/http: timeout awaiting response headers"));
    const off = edgeCaddyConfig(host, [entry({ dynos: ["172.18.0.3:5000"], maintenance: true })]);
    assert.equal(servers(off).http.errors, undefined);
    assert.equal(servers(off).https.errors, undefined);
});

test("edgeCaddyConfig: a user's certificate is loaded and its names are not asked of the ACME CA", () => {
    const c = edgeCaddyConfig(host, [entry({ domains: ["a.example.com", "b.example.com"], customCerts: [{ certFile: "/c.crt", keyFile: "/c.key", names: ["a.example.com"] }] })]);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const tls = (c as any).apps.tls;
    assert.deepEqual(tls.certificates.load_files, [{ certificate: "/c.crt", key: "/c.key", tags: ["hello.prod"] }]);
    assert.deepEqual(tls.automation.policies[0].subjects, ["b.example.com"]);
    assert.deepEqual(servers(c).https.automatic_https.skip_certificates, ["a.example.com"]);
});

test("edgeCaddyConfig: a handover copy of each managed certificate is loaded with the config, and the names are managed all the same", () => {
    const copy = (domain: string, n: string) => ({ domain, certFile: `/h/${n}.crt`, keyFile: `/h/${n}.key` });
    const c = edgeCaddyConfig(
        host,
        [entry({ domains: ["a.example.com", "b.example.com"], customCerts: [{ certFile: "/c.crt", keyFile: "/c.key", names: ["a.example.com"] }] })],
        // a.example.com is the user's (no copy); gone.example.com is no entry's domain any more.
        [copy("a.example.com", "1"), copy("b.example.com", "2"), copy("gone.example.com", "3")],
    );
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const tls = (c as any).apps.tls;
    assert.deepEqual(tls.certificates.load_files, [
        { certificate: "/c.crt", key: "/c.key", tags: ["hello.prod"] },
        { certificate: "/h/2.crt", key: "/h/2.key", tags: ["hello.prod", "handover"] },
    ]);
    assert.deepEqual(tls.automation.policies[0].subjects, ["b.example.com"]);
    // Without this, Caddy would leave a name with a loaded certificate unmanaged: never renewed.
    assert.equal(servers(c).https.automatic_https.ignore_loaded_certificates, true);
});

test("handoverChain: the chain with its last certificate once more (another chain hash for certmagic, the same certificates to a client)", () => {
    const block = (n: number) => `-----BEGIN CERTIFICATE-----\nQ${n}==\n-----END CERTIFICATE-----`;
    assert.equal(handoverChain(`${block(1)}\n${block(2)}\n`), `${block(1)}\n${block(2)}\n${block(2)}\n`);
    assert.equal(handoverChain(`${block(1)}\n`), `${block(1)}\n${block(1)}\n`);
    assert.throws(() => handoverChain("no pem here"), /no certificate/);
});

test("edgeCaddyConfig: the same entries in any order give the same config; no HTTPS server without domains", () => {
    const a = entry();
    const b = entry({ app: "b", domains: ["b.example.com"] });
    assert.deepEqual(edgeCaddyConfig(host, [a, b]), edgeCaddyConfig(host, [b, a]));
    assert.equal(servers(edgeCaddyConfig(host, [entry({ domains: [] })])).https, undefined);
});

test("domainOwner: another app (or stack) serving the domain, never the app itself", () => {
    const entries = [entry(), entry({ app: "shop", domains: ["shop.example.com"] })];
    assert.equal(domainOwner(entries, "hello.example.com", { app: "hello", stack: "prod" }), undefined);
    assert.equal(domainOwner(entries, "hello.example.com", { app: "hello", stack: "staging" })?.stack, "prod");
    assert.equal(domainOwner(entries, "shop.example.com", { app: "hello", stack: "prod" })?.app, "shop");
});

test("tarFiles: a ustar archive tar reads back, with modes and long paths", async () => {
    const { spawnSync } = await import("child_process");
    const long = "d/" + "x".repeat(120) + "/f.txt";
    const r = spawnSync("tar", ["-tv"], { input: tarFiles([{ path: "/a/b.json", content: "{}" }, { path: long, content: "k", mode: 0o600 }]), encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /-rw-r--r-- .* a\/b\.json/);
    assert.match(r.stdout, new RegExp(`-rw------- .* ${long}`));
});

test("drainRoute: first on both servers, not terminal, sets Connection: close while the drain file exists", () => {
    const c = edgeCaddyConfig(host, [entry()]);
    for (const server of ["http", "https"]) assert.deepEqual(servers(c)[server].routes[0], drainRoute());
    const r = drainRoute();
    assert.equal(r.terminal, undefined);
    assert.deepEqual(r.match, [{ file: { root: "/edge/config/dynoform", try_files: ["/draining"] } }]);
    assert.deepEqual(r.handle, [{ handler: "headers", response: { set: { Connection: ["close"] } } }]);
});

test("keptConnections: the server side of established connections to the edge's ports, IPv4 and IPv6; not listeners, other ports or closing ones", () => {
    const text = [
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0",
        "   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1",
        "   2: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1",
        "   3: 0100007F:01BB 0100007F:C351 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0",
        "   4: 0100007F:1F91 0100007F:C352 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0 20 4 30 10 -1",
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 00000000000000000000000001000000:01BB 00000000000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000     0        0 5 1 0 20 4 30 10 -1",
    ].join("\n");
    assert.deepEqual(keptConnections(text, [8080, 443]), [
        "0100007F:1F90-0100007F:C350",
        "00000000000000000000000001000000:01BB-00000000000000000000000001000000:D431",
    ]);
    assert.deepEqual(keptConnections("", [80]), []);
});
