import assert from "node:assert/strict";
import { test } from "node:test";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { certStatuses, checkEdge, edgeSettings, onEdge, setSettingText, upstreamOf } from "../../cli/edge";
import { checkUserCert } from "../../cli/commands/certs-add";
import { UsageError } from "../../cli/errors";
import { LETS_ENCRYPT_STAGING } from "../../infra/docker/edge-config";

/** A self-signed certificate for `cn` (openssl), PEM cert and key. */
function selfSigned(cn: string): { cert: string; key: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edge-cert-"));
    const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", `/CN=${cn}`,
        "-addext", `subjectAltName=DNS:${cn}`, "-days", "2", "-keyout", path.join(dir, "k"), "-out", path.join(dir, "c")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const out = { cert: fs.readFileSync(path.join(dir, "c"), "utf8"), key: fs.readFileSync(path.join(dir, "k"), "utf8") };
    fs.rmSync(dir, { recursive: true });
    return out;
}

test("edgeSettings: defaults 80/443 and Let's Encrypt; each bad key refused in one line naming it", () => {
    const d = edgeSettings(undefined, "stacks/Pulumi.dev.yaml");
    assert.deepEqual(d.host, { httpPort: 80, httpsPort: 443, hostIp: "" });
    assert.match(d.acmeDirectory, /acme-v02\.api\.letsencrypt\.org/);
    assert.equal(d.hsts, false);
    assert.equal(edgeSettings({ acmeDirectory: "staging", hsts: "true", httpPort: "8080" }, "f").acmeDirectory, LETS_ENCRYPT_STAGING);
    const refused = (raw: Record<string, unknown>, re: RegExp) => assert.throws(() => edgeSettings(raw, "stacks/Pulumi.dev.yaml"), (e: Error) => e instanceof UsageError && re.test(e.message));
    refused({ httpPort: 70000 }, /`dynoform:edge\.httpPort`: expected a port/);
    refused({ httpPort: 8443, httpsPort: 8443 }, /httpsPort`: must differ/);
    refused({ acmeDirectory: "http://insecure/dir" }, /acmeDirectory`: expected letsencrypt, staging or an https:\/\/ URL/);
    refused({ hsts: "maybe" }, /hsts`: expected true or false/);
    refused({ colour: "blue" }, /colour`: unknown key/);
    refused({ renewCheckSeconds: 0 }, /renewCheckSeconds`: expected a whole number/);
});

test("onEdge and upstreamOf: on the edge with domains or edge settings; the router's port on loopback", () => {
    assert.equal(onEdge({}), false);
    assert.equal(onEdge({ domains: [] }), true);
    assert.equal(onEdge({ edge: {} }), true);
    assert.equal(upstreamOf({ routerPort: 5100 }, "f"), "127.0.0.1:5100");
    assert.equal(upstreamOf({ routerPort: 5100, routerHost: "0.0.0.0" }, "f"), "127.0.0.1:5100");
    assert.equal(upstreamOf({ routerPort: 5100, routerHost: "10.0.0.5" }, "f"), "10.0.0.5:5100");
    assert.throws(() => upstreamOf({}, "f"), /no dynoform:routerPort/);
});

test("setSettingText: sets a list or a boolean, removes a key; comments and other keys stay", () => {
    const text = "# mine\nconfig:\n  dynoform:app: hello # the app\n  dynoform:routerPort: \"5100\"\n";
    const added = setSettingText(text, "domains", ["a.example.com", "b.example.com"]);
    assert.match(added, /# mine/);
    assert.match(added, /dynoform:app: hello # the app/);
    assert.match(added, /dynoform:domains:\n\s+- a\.example\.com\n\s+- b\.example\.com/);
    const on = setSettingText(added, "maintenance", true);
    assert.match(on, /dynoform:maintenance: true/);
    assert.equal(setSettingText(on, "maintenance", undefined), added);
});

test("certStatuses: active, expired and pending; a user's certificate before an ACME one", () => {
    const a = selfSigned("a.example.com");
    const statuses = certStatuses(["a.example.com", "b.example.com"], [{ file: "/edge/data/caddy/certificates/x/a.example.com/a.example.com.crt", pem: a.cert }]);
    assert.equal(statuses[0].status, "active");
    assert.equal(statuses[0].issuer, "a.example.com");
    assert.equal(statuses[0].source, "acme");
    assert.deepEqual(statuses[1], { domain: "b.example.com", issuer: "", expires: "", status: "pending", source: "", serial: "" });
    const later = new Date(Date.now() + 3 * 24 * 3600 * 1000);
    assert.equal(certStatuses(["a.example.com"], [{ file: "x.crt", pem: a.cert }], later)[0].status, "expired");
    const own = selfSigned("a.example.com");
    const both = certStatuses(["a.example.com"], [
        { file: "/edge/data/caddy/certificates/x/a.crt", pem: a.cert },
        { file: "/edge/config/dynoform/certs/1.crt", pem: own.cert },
    ]);
    assert.equal(both[0].source, "custom");
});

test("checkUserCert: a matching, current certificate naming a domain passes; mismatch, expiry, wrong names, not PEM refused", () => {
    const a = selfSigned("a.example.com");
    const other = selfSigned("a.example.com");
    assert.deepEqual(checkUserCert(a.cert, a.key, ["a.example.com", "b.example.com"]), { names: ["a.example.com"] });
    assert.match(checkUserCert(a.cert, other.key, ["a.example.com"]).problem!, /key does not match/);
    assert.match(checkUserCert(a.cert, a.key, ["a.example.com"], new Date(Date.now() + 3 * 24 * 3600 * 1000)).problem!, /expired on/);
    assert.match(checkUserCert(a.cert, a.key, ["b.example.com"]).problem!, /names none of the app's domains/);
    assert.match(checkUserCert("not a cert", a.key, ["a.example.com"]).problem!, /not a PEM certificate/);
    assert.match(checkUserCert(a.cert, "not a key", ["a.example.com"]).problem!, /not a PEM private key/);
});

test("checkEdge: a hand-written bad domain or edge setting is refused before a deploy, naming the file", () => {
    assert.doesNotThrow(() => checkEdge("/p", "dev", { app: "a", routerPort: 5100 }));
    assert.doesNotThrow(() => checkEdge("/p", "dev", { app: "a", routerPort: 5100, domains: ["a.example.com"] }));
    assert.throws(() => checkEdge("/p", "dev", { app: "a", routerPort: 5100, domains: ["*.example.com"] }), /Pulumi\.dev\.yaml: `dynoform:domains`: `\*\.example\.com`: a wildcard/);
    assert.throws(() => checkEdge("/p", "dev", { app: "a", routerPort: 5100, edge: { httpPort: "x" } }), /`dynoform:edge\.httpPort`/);
});

test("stack file: dynoform:domains must be a list of strings, dynoform:maintenance true or false (file and line named)", async () => {
    const { readStackFile } = await import("../../cli/stack-settings");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edge-settings-"));
    fs.mkdirSync(path.join(dir, "stacks"));
    const problem = (yaml: string) => {
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.dev.yaml"), `config:\n  dynoform:app: hello\n${yaml}`);
        return readStackFile(dir, "dev").problem;
    };
    assert.equal(problem("  dynoform:domains:\n    - a.example.com\n  dynoform:maintenance: true\n  dynoform:edge:\n    httpPort: 8080\n"), undefined);
    assert.match(problem("  dynoform:domains: a.example.com\n")!, /Pulumi\.dev\.yaml:3: `dynoform:domains`: expected a list, got "a\.example\.com"/);
    assert.match(problem("  dynoform:domains:\n    - {a: 1}\n")!, /`dynoform:domains\.0`: expected a string, got a map/);
    assert.match(problem("  dynoform:maintenance: sometimes\n")!, /`dynoform:maintenance`: expected true or false/);
    fs.rmSync(dir, { recursive: true });
});
