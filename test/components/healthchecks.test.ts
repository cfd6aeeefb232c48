import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseAppJson } from "../../components/app-json";
import { DynoformInputError } from "../../components/errors";
import { validateAppArgs } from "../../components/app-definition";
import { CHECK_DEFAULTS, checkHealthchecksAgainst, healthchecksProblem, parseHealthchecks, plainLocator } from "../../components/healthchecks";

const appJson = (healthchecks: unknown) => JSON.stringify({ name: "x", healthchecks }, null, 2);

/** The one-line error parseAppJson gives for `healthchecks`, or "" when it parses. */
function errorOf(healthchecks: unknown): string {
    try {
        parseAppJson(appJson(healthchecks), "app/app.json");
        return "";
    } catch (e) {
        assert.ok(e instanceof DynoformInputError, String(e));
        return e.message;
    }
}

describe("app.json healthchecks (Dokku's format)", () => {
    test("an HTTP check with Dokku's keys, and the defaults Dokku uses", () => {
        const parsed = parseAppJson(appJson({ web: [{ type: "startup", name: "web check", path: "/health/ready", attempts: 3, wait: 1, timeout: 2, status: 204, content: "ok" }] }));
        assert.deepEqual(parsed.healthchecks!.byType.web, [
            { kind: "http", name: "web check", path: "/health/ready", status: 204, content: "ok", attempts: 3, timeoutSeconds: 2, waitSeconds: 1, initialDelaySeconds: 0 },
        ]);
        const plain = parseAppJson(appJson({ web: [{ path: "/" }] })).healthchecks!.byType.web[0];
        assert.equal(plain.name, "GET /");
        assert.equal(plain.attempts, CHECK_DEFAULTS.attempts);
        assert.equal(plain.waitSeconds, CHECK_DEFAULTS.waitSeconds);
    });

    test("command (a list as Dokku takes it, or one shell line), uptime and listening checks for any process type", () => {
        const hc = parseAppJson(appJson({ worker: [{ command: ["node", "check.js"] }, { command: "test -f /tmp/ready", attempts: 1 }, { uptime: 5 }] })).healthchecks!;
        assert.deepEqual(hc.byType.worker.map((c) => [c.kind, c.command, c.uptimeSeconds]), [
            ["command", ["node", "check.js"], undefined],
            ["command", ["/bin/sh", "-c", "test -f /tmp/ready"], undefined],
            ["uptime", undefined, 5],
        ]);
        assert.equal(parseAppJson(appJson({ web: [{ listening: true }] })).healthchecks!.byType.web[0].kind, "listening");
    });

    test("liveness and readiness checks (Dokku's Kubernetes ones) are noted, not run", () => {
        const parsed = parseAppJson(appJson({ web: [{ type: "liveness", path: "/live" }] }));
        assert.deepEqual(parsed.healthchecks!.byType.web, []);
        assert.match(parsed.notes.join("\n"), /app\.json:\d+: `healthchecks\.web\[0\]\.type`: "liveness" checks are not run/);
    });

    test("bad values: one line naming the field, with file and line", () => {
        const cases: Array<[unknown, RegExp]> = [
            [{ web: [{ path: "/", attempts: 0 }] }, /^app\/app\.json:\d+: `healthchecks\.web\[0\]\.attempts`: expected a whole number from 1 to 100, got 0$/],
            [{ web: [{ path: "/", timeout: "5" }] }, /`healthchecks\.web\[0\]\.timeout`: expected a whole number from 1 to 3600 \(seconds\), got "5"/],
            [{ web: [{ path: "health" }] }, /`healthchecks\.web\[0\]\.path`: must start with '\/'/],
            [{ web: [{ path: "/", status: 700 }] }, /`healthchecks\.web\[0\]\.status`: expected a whole number from 100 to 599/],
            [{ web: [{ path: "/", command: ["x"] }] }, /`healthchecks\.web\[0\]`: give one of "path", "command" per check/],
            [{ web: [{ attempts: 3 }] }, /`healthchecks\.web\[0\]`: a check needs one of "path"/],
            [{ web: [{ path: "/", atempts: 3 }] }, /`healthchecks\.web\[0\]\.atempts`: unknown key "atempts"/],
            [{ web: [{ path: "/", warn: true }] }, /`healthchecks\.web\[0\]\.warn`: "warn" is not supported/],
            [{ web: [{ path: "/", type: "boot" }] }, /`healthchecks\.web\[0\]\.type`: must be "startup", "liveness" or "readiness"/],
            [{ web: { path: "/" } }, /`healthchecks\.web`: expected a list of checks/],
            [{ web: [{ command: [] }] }, /`healthchecks\.web\[0\]\.command`: expected a list of strings/],
            [{ web: [{ uptime: 5, content: "x" }] }, /`healthchecks\.web\[0\]\.content`: "content" applies to an HTTP check/],
            [{ release: [{ command: "true" }] }, /`healthchecks\.release`: the release phase is a one-off/],
            [["web"], /`healthchecks`: expected an object of process type to a list of checks/],
        ];
        for (const [value, expected] of cases) {
            const message = errorOf(value);
            assert.match(message, expected, JSON.stringify(value));
            assert.equal(message.split("\n").length, 1);
        }
    });

    test("the line is the offending key's", () => {
        const text = appJson({ web: [{ path: "/", attempts: 0 }] });
        const line = text.split("\n").findIndex((l) => l.includes('"attempts"')) + 1;
        assert.match(errorOf({ web: [{ path: "/", attempts: 0 }] }), new RegExp(`^app/app\\.json:${line}: `));
    });

    test("against the Procfile: an unknown process type, and an HTTP check on a type without $PORT", () => {
        const hc = parseAppJson(appJson({ wrker: [{ command: "true" }] }), "app.json").healthchecks!;
        assert.throws(() => checkHealthchecksAgainst(hc, ["web", "worker"], "app.json"), /^DynoformInputError: app\.json:4: `healthchecks\.wrker`: process type "wrker" is not in the Procfile; Procfile types are web, worker$/);
        const http = parseAppJson(appJson({ worker: [{ path: "/" }] }), "app.json").healthchecks!;
        assert.throws(() => checkHealthchecksAgainst(http, ["web", "worker"], "app.json"), /`healthchecks\.worker\[0\]`: only web dynos get \$PORT/);
        const withPort = parseAppJson(appJson({ worker: [{ path: "/", port: 9000 }] }), "app.json").healthchecks!;
        checkHealthchecksAgainst(withPort, ["web", "worker"], "app.json");
    });

    test("a plain locator (the stack file) names the field and file", () => {
        assert.throws(() => parseHealthchecks({ web: [{ path: "/", wait: -1 }] }, plainLocator("stacks/Pulumi.dev.yaml"), ["dynoform:healthchecks"]),
            /^DynoformInputError: stacks\/Pulumi\.dev\.yaml: `dynoform:healthchecks\.web\[0\]\.wait`: expected a whole number from 0 to 3600/);
    });
});

describe("healthchecks from the stack file (or an App program)", () => {
    test("healthchecksProblem gives the path below dynoform:healthchecks and the reason", () => {
        assert.equal(healthchecksProblem({ web: [{ path: "/" }] }), undefined);
        assert.deepEqual(healthchecksProblem({ web: [{ path: "/", attempts: 0 }] }), { at: ["web", "0", "attempts"], reason: "expected a whole number from 1 to 100, got 0" });
        assert.deepEqual(healthchecksProblem({ web: "x" }), { at: ["web"], reason: 'expected a list of checks, e.g. [{ "path": "/health" }], got "x"' });
    });

    test("they replace app.json's for the types they name, and are checked against the Procfile", () => {
        const procfile = "web: node server.js\nworker: node worker.js\n";
        const { definition } = validateAppArgs("demo", { image: "x", procfile, routerPort: 5000, healthchecks: { worker: [{ command: "true", attempts: 2 }] } });
        assert.deepEqual(definition.healthchecks.worker.map((c) => [c.kind, c.attempts]), [["command", 2]]);
        assert.equal(definition.healthchecks.web, undefined, "web keeps Heroku's default");
        assert.throws(() => validateAppArgs("demo", { image: "x", procfile, routerPort: 5000, healthchecks: { clock: [{ uptime: 3 }] } }), /`healthchecks\.clock`: process type "clock" is not in the Procfile/);
    });
});
