import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ADDON_LABEL, containerRole, dockerName, imageRepository, legacyDockerName, LABEL, notOwned, ownerLabels, roleFilter, roleLabel } from "../../../infra/docker/labels";
import { STACK_NAME } from "../../../infra/engine/workspace";

// App names as validateAppArgs accepts them (components/app-definition.ts).
const APP_NAME = /^[a-z][a-z0-9-]{1,29}$/;
const appName = fc
    .tuple(fc.constantFrom(..."abcxyz"), fc.array(fc.constantFrom(..."ab-1"), { minLength: 1, maxLength: 6 }))
    .map(([h, t]) => h + t.join(""))
    .filter((a) => APP_NAME.test(a));
const stackName = fc
    .tuple(fc.constantFrom(..."abC1"), fc.array(fc.constantFrom(..."ab-_1."), { maxLength: 6 }))
    .map(([h, t]) => h + t.join(""))
    .filter((s) => STACK_NAME.test(s));
const addonName = fc.array(fc.constantFrom(..."ab-1"), { minLength: 1, maxLength: 6 }).map((cs) => `p${cs.join("")}`);

describe("dockerName", () => {
    test("the old scheme gave two apps one set of names; the new one does not", () => {
        assert.equal(legacyDockerName.network("a-b", "c"), legacyDockerName.network("a", "b-c"));
        assert.equal(legacyDockerName.dataVolume("a-b", "c", "postgres"), legacyDockerName.dataVolume("a", "b-c", "postgres"));
        assert.notEqual(dockerName.network("a-b", "c"), dockerName.network("a", "b-c"));
        assert.equal(dockerName.dataVolume("a-b", "c", "postgres"), "a-b.c.postgres-data");
        assert.equal(dockerName.dataVolume("a", "b-c", "postgres"), "a.b-c.postgres-data");
    });

    test("names of different (app, stack) pairs never meet, whatever the object (property)", () => {
        const build = (kind: number, app: string, stack: string, addon: string) =>
            [
                dockerName.network(app, stack),
                dockerName.dataVolume(app, stack, addon),
                dockerName.routerConf(app, stack),
                dockerName.container(app, stack, addon, 1, "abc123"),
            ][kind];
        fc.assert(
            fc.property(
                fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }),
                appName, stackName, addonName, appName, stackName, addonName,
                (k1, k2, a1, s1, x1, a2, s2, x2) => {
                    if (a1 === a2 && s1 === s2) return;
                    assert.notEqual(build(k1, a1, s1, x1), build(k2, a2, s2, x2));
                },
            ),
            { numRuns: 3000 },
        );
    });

    test("every name is one Docker accepts, and its first two dots give back app and stack (property)", () => {
        fc.assert(
            fc.property(appName, stackName, addonName, (app, stack, addon) => {
                for (const name of [dockerName.network(app, stack), dockerName.dataVolume(app, stack, addon), dockerName.container(app, stack, "web", 2, "ffffff")]) {
                    assert.match(name, /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
                    const [a, s] = name.split(".");
                    assert.deepEqual([a, s], [app, stack]);
                }
            }),
        );
    });

    test("stack names may not contain '.'", () => {
        assert.equal(STACK_NAME.test("v1.2"), false);
        assert.equal(STACK_NAME.test("review_42-x"), true);
    });
});

describe("container roles", () => {
    const owner = ownerLabels("shop", "dev");
    test("a container made now says its role", () => {
        for (const role of ["dyno", "addon", "router", "run", "release", "pg-backups"] as const) {
            assert.equal(containerRole({ ...owner, ...roleLabel(role) }), role);
        }
    });
    test("add-on servers and routers made before roles (role=dyno) are told apart by their add-on and router labels", () => {
        assert.equal(containerRole({ ...owner, [LABEL.role]: "dyno", [ADDON_LABEL]: "postgres", [LABEL.processType]: "postgres" }), "addon");
        assert.equal(containerRole({ ...owner, [LABEL.role]: "dyno", [LABEL.router]: "true", [LABEL.processType]: "router" }), "router");
        assert.equal(containerRole({ ...owner, [LABEL.role]: "dyno", [LABEL.processType]: "web" }), "dyno");
    });
    test("a container Dynoform did not make has no role", () => {
        assert.equal(containerRole({}), undefined);
        assert.equal(containerRole(undefined), undefined);
    });
    test("role filters find both forms: add-ons by their add-on label, routers by their router label", () => {
        assert.deepEqual(roleFilter("addon", "shop", "dev"), [`${LABEL.app}=shop`, `${LABEL.stack}=dev`, ADDON_LABEL]);
        assert.deepEqual(roleFilter("router"), [`${LABEL.router}=true`]);
        assert.deepEqual(roleFilter("run", "shop", "dev"), [`${LABEL.app}=shop`, `${LABEL.stack}=dev`, `${LABEL.role}=run`]);
    });
    test("every label key is Dynoform's", () => {
        for (const key of [...Object.values(LABEL), ADDON_LABEL]) assert.match(key, /^dev\.dynoform\.[a-z-]+$/);
    });
});

describe("imageRepository", () => {
    test("apps' and base images' repositories", () => {
        assert.equal(imageRepository.app("hello"), "dynoform/hello");
        assert.equal(imageRepository.base("postgres", "3f9a1c"), "dynoform/postgres:3f9a1c");
        assert.equal(imageRepository.rootfs("node", "ab12"), "dynoform/rootfs-node:ab12");
    });
});

describe("notOwned", () => {
    const want = { ...ownerLabels("a", "b-c"), "dev.dynoform.addon": "postgres" };
    test("an object with this app's and stack's labels may be adopted", () => {
        assert.equal(notOwned("volume", "v", { [LABEL.app]: "a", [LABEL.stack]: "b-c" }, want), undefined);
    });
    test("another app's or stack's object is refused in one line naming it and its owner", () => {
        assert.equal(
            notOwned("volume", "a-b-c-postgres-data", { [LABEL.app]: "a-b", [LABEL.stack]: "c" }, want),
            "volume a-b-c-postgres-data already exists and belongs to app a-b (stack c), not to app a (stack b-c): nothing was changed; remove or rename it, or choose another app or stack name",
        );
        assert.match(notOwned("network", "n", { [LABEL.app]: "a", [LABEL.stack]: "other" }, want)!, /^network n already exists and belongs to app a \(stack other\)/);
        assert.match(notOwned("volume", "v", {}, want)!, /belongs to no Dynoform app/);
        assert.match(notOwned("volume", "v", null, want)!, /belongs to no Dynoform app/);
    });
});
