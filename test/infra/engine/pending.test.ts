import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LABEL } from "../../../infra/docker/labels";
import { containersInState, describePending, ListedContainer, orphansOf, PendingOperation, unrecordedContainers } from "../../../infra/engine/pending";

const DYNO = "pulumi-nodejs:dynamic/docker:Dyno";
const urn = (name: string) => `urn:pulumi:dev::tiny::dynoform:index:App$dynoform:index:Formation$${DYNO}::${name}`;

function op(type: string, name: string, inputs: Record<string, unknown>, resourceType = DYNO): PendingOperation {
    return { type, resource: { urn: urn(name), type: resourceType, inputs } };
}

function container(name: string, id: string, labels: Record<string, string>): ListedContainer {
    return { Id: id, Names: [`/${name}`], Labels: labels };
}

const web2 = { app: "tiny", stack: "dev", processType: "web", index: 2 };
const labels = (dyno: string, extra: Record<string, string> = {}) => ({
    [LABEL.app]: "tiny",
    [LABEL.stack]: "dev",
    [LABEL.role]: "dyno",
    [LABEL.dyno]: dyno,
    ...extra,
});

describe("pending operations left by an interrupted update", () => {
    test("describePending names each operation and its resource", () => {
        assert.deepEqual(describePending([op("creating", "tiny-web-2", web2), op("deleting", "tiny-worker-1", {})]), [
            "creating tiny-web-2",
            "deleting tiny-worker-1",
        ]);
    });

    test("containersInState collects resource IDs and the containers' names and Docker IDs", () => {
        const known = containersInState([
            { id: "tiny-dev.web.1.aaaaaa", outputs: { containerId: "1111", containerName: "tiny-dev.web.1.aaaaaa" } },
            { id: "tiny-dev", outputs: {} },
            {},
        ]);
        assert.deepEqual([...known].sort(), ["1111", "tiny-dev", "tiny-dev.web.1.aaaaaa"]);
    });

    test("a pending dyno create orphans only that dyno's containers the state does not know", () => {
        const known = containersInState([{ id: "tiny-dev.web.2.aaaaaa", outputs: { containerId: "2222" } }]);
        const containers = [
            container("tiny-dev.web.2.aaaaaa", "2222", labels("web.2")), // in state: kept
            container("tiny-dev.web.2.bbbbbb", "3333", labels("web.2")), // the interrupted create: orphan
            container("tiny-dev.web.3.cccccc", "4444", labels("web.3")), // another dyno: not this op's
            container("other-dev.web.2.dddddd", "5555", { ...labels("web.2"), [LABEL.app]: "other" }), // another app
            container("tiny-dev.release.eeeeee", "6666", labels("web.2", { [LABEL.role]: "release" })), // a one-off
        ];
        assert.deepEqual(orphansOf(op("creating", "tiny-web-2", web2), containers, known).map((c) => c.Id), ["3333"]);
    });

    test("a pending release-phase create orphans that app and stack's release containers the state does not know", () => {
        const release = { app: "tiny", stack: "dev", release: "r-abc", command: "node migrate.js" };
        const releaseOp = op("creating", "tiny-release", release, "pulumi-nodejs:dynamic/docker:ReleasePhase");
        const containers = [
            container("tiny-dev.release.aaaaaa", "7777", labels("release.1", { [LABEL.role]: "release" })), // the interrupted release: orphan
            container("tiny-dev.run.bbbbbb", "8888", labels("run.1", { [LABEL.role]: "run" })), // a `dynoform run` session: not the update's
            container("tiny-dev.web.1.cccccc", "9999", labels("web.1")), // a dyno
            container("tiny-prod.release.dddddd", "1010", labels("release.1", { [LABEL.role]: "release", [LABEL.stack]: "prod" })), // another stack
        ];
        assert.deepEqual(orphansOf(releaseOp, containers, new Set()).map((c) => c.Id), ["7777"]);
        assert.deepEqual(orphansOf(releaseOp, containers, new Set(["tiny-dev.release.aaaaaa"])), [], "known to the state by name");
        assert.deepEqual(orphansOf(op("updating", "tiny-release", release, "pulumi-nodejs:dynamic/docker:ReleasePhase"), containers, new Set()), []);
    });

    test("pending updates, deletes and creates of other resource types orphan nothing", () => {
        const containers = [container("tiny-dev.web.2.bbbbbb", "3333", labels("web.2"))];
        assert.deepEqual(orphansOf(op("updating", "tiny-web-2", web2), containers, new Set()), []);
        assert.deepEqual(orphansOf(op("deleting", "tiny-web-2", web2), containers, new Set()), []);
        assert.deepEqual(orphansOf(op("creating", "tiny-net", web2, "pulumi-nodejs:dynamic/docker:Network"), containers, new Set()), []);
    });

    test("a pending create whose inputs are not known (secret or missing) orphans nothing", () => {
        const containers = [container("tiny-dev.web.2.bbbbbb", "3333", labels("web.2"))];
        assert.deepEqual(orphansOf(op("creating", "tiny-web-2", { app: "tiny", stack: "dev" }), containers, new Set()), []);
    });

    test("a failed or cut-off create: the app's dynos, add-on servers and routers the state does not record, and release one-offs left over; nothing else", () => {
        // The last release phase's container name is its resource's id: recorded, and still a leftover.
        const known = containersInState([{ id: "tiny-dev.web.1.aaaaaa", outputs: { containerId: "1111" } }, { id: "tiny-dev.release.dddddd" }]);
        const containers = [
            container("tiny-dev.web.1.aaaaaa", "1111", labels("web.1")), // in state: kept
            container("tiny-dev.web.1.bbbbbb", "2222", labels("web.1")), // its answer lost with the SSH connection: removed
            container("tiny-dev-postgres", "3333", { ...labels("postgres"), [LABEL.role]: "addon" }), // an add-on server not in state
            container("tiny-dev-router", "4444", { ...labels("router"), [LABEL.router]: "true" }), // a router labelled role=dyno before roles were split
            container("tiny-dev.run.cccccc", "5555", labels("run.1", { [LABEL.role]: "run" })), // a `dynoform run` session
            container("tiny-dev.release.dddddd", "6666", labels("release.1", { [LABEL.role]: "release" })), // a release phase whose removal failed: removed
            container("tiny-dev-backups", "7777", labels("backups", { [LABEL.role]: "pg-backups" })), // backups
            container("other-dev.web.1.eeeeee", "8888", { ...labels("web.1"), [LABEL.app]: "other" }), // another app on the same server
            container("tiny-prod.web.1.ffffff", "9999", { ...labels("web.1"), [LABEL.stack]: "prod" }), // another stack
            // A cluster stack's dyno: a Swarm task's container on the manager (the state records its service).
            container("tiny-dev-web.3.m79ttc1yuvgo", "aaaa", labels("web", { "com.docker.swarm.task.id": "m79ttc1yuvgo" })),
        ];
        assert.deepEqual(unrecordedContainers(containers, "tiny", "dev", known).map((c) => c.Id), ["2222", "3333", "4444", "6666"]);
    });
});
