import assert from "node:assert/strict";
import { test } from "node:test";

import {
    ADDON_KINDS,
    ADDON_PLAN_ALIASES,
    addonKind,
    addonService,
    checkUnsupportedPlan,
    isSupportedPlan,
    missingAddonVars,
    UNSUPPORTED_ADDON_VARS,
} from "../../components/addon-plans";
import { throwsInput } from "../support/input-error";

// The one table of add-on names: what AppArgs, the stack file, `addons:create` and app.json take.

test("every alias runs a plan Dynoform has a runtime for; no alias is also in the unsupported table", () => {
    for (const [alias, plan] of Object.entries(ADDON_PLAN_ALIASES)) {
        assert.ok(plan in ADDON_KINDS, `${alias} -> ${plan}`);
        assert.ok(!(alias in UNSUPPORTED_ADDON_VARS), alias);
    }
    assert.deepEqual(Object.keys(ADDON_PLAN_ALIASES).sort(), ["heroku-postgresql", "heroku-redis", "postgres", "postgresql", "redis"]);
});

test("isSupportedPlan and addonService: the service before the colon, any case", () => {
    assert.equal(addonService(" Heroku-Redis:mini "), "heroku-redis");
    for (const yes of ["postgres", "heroku-postgresql:essential-0", "REDIS", "heroku-redis:mini"]) assert.equal(isSupportedPlan(yes), true, yes);
    for (const no of ["mongolab", "sendgrid:starter", "", 5, undefined, "constructor", "__proto__"]) assert.equal(isSupportedPlan(no), false, String(no));
});

test("missingAddonVars: the well-known add-ons' config vars, undefined for others", () => {
    assert.deepEqual(missingAddonVars("mongolab:sandbox"), ["MONGOLAB_URI"]);
    assert.deepEqual(missingAddonVars("Papertrail"), ["PAPERTRAIL_API_TOKEN"]);
    assert.deepEqual(missingAddonVars("sendgrid:starter"), ["SENDGRID_USERNAME", "SENDGRID_PASSWORD"]);
    assert.equal(missingAddonVars("scheduler"), undefined, "Heroku Scheduler is accepted (components/scheduler.ts), not skipped");
    assert.equal(missingAddonVars("some-new-addon"), undefined);
    assert.equal(missingAddonVars("toString"), undefined);
});

test("checkUnsupportedPlan: a service name and an optional tier, else refused naming the field", () => {
    checkUnsupportedPlan("mongolab", "addons[0]");
    checkUnsupportedPlan("sendgrid:starter", "addons[0]");
    for (const bad of ["my sql", "", "mongolab:", ":free", "mongo/lab"]) {
        throwsInput(() => checkUnsupportedPlan(bad, "addons[2]", "app.json"), "addons[2]", /is not an add-on plan name; write a service and an optional tier/, "app.json");
    }
});

test("ADDON_KINDS: each kind's attachment var, URL, port and readiness check, in one table", () => {
    assert.deepEqual(
        Object.entries(ADDON_KINDS).map(([plan, k]) => [plan, k.baseImage, k.port, k.attachedAs, k.backups]),
        [
            ["postgres", "postgres", 5432, "DATABASE_URL", true],
            ["redis", "redis", 6379, "REDIS_URL", false],
        ],
    );
    assert.equal(ADDON_KINDS.postgres.url("db", "p w"), "postgres://app:p%20w@db:5432/app");
    assert.equal(ADDON_KINDS.redis.url("cache", "pw"), "redis://:pw@cache:6379");
    for (const k of Object.values(ADDON_KINDS)) {
        assert.ok(k.url("h", "pw").includes(`:${k.port}`), "the URL names the port the server listens on");
        assert.ok(Object.values(k.env("secret")).includes("secret"), "the server gets its password");
        assert.ok(k.ready.length > 0);
    }
    assert.equal(addonKind("redis"), ADDON_KINDS.redis);
    assert.equal(addonKind("mongolab"), undefined);
    assert.equal(addonKind("toString"), undefined, "not an inherited name");
});
