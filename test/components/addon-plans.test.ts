import assert from "node:assert/strict";
import { test } from "node:test";
import { PLAN_RUNTIME } from "../../components/addon";
import {
    ADDON_PLAN_ALIASES,
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
        assert.ok(plan in PLAN_RUNTIME, `${alias} -> ${plan}`);
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
