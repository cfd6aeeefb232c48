import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type Docker = require("dockerode");
import { HostRead, roleIn, stackDrift, stackMemory } from "../../cli/host-read";
import { ADDON_LABEL, LABEL } from "../../infra/docker/labels";
import { MIB } from "../../infra/docker/memory";

const owner = { [LABEL.app]: "tiny", [LABEL.stack]: "dev" };
function container(id: string, state: string, labels: Record<string, string>): Docker.ContainerInfo {
    return { Id: id, State: state, Labels: labels, Names: [`/${id}`] } as unknown as Docker.ContainerInfo;
}
const dyno = (id: string, name: string, state = "running") => container(id, state, { ...owner, [LABEL.dyno]: name, [LABEL.processType]: name.split(".")[0] });
const addon = (id: string, name: string, state = "running") => container(id, state, { ...owner, [ADDON_LABEL]: name, [LABEL.dyno]: `${name}.1` });
const router = (id: string, state = "running") => container(id, state, { ...owner, [LABEL.router]: "true", [LABEL.dyno]: "router.1", [LABEL.processType]: "router" });
const host = (containers: Docker.ContainerInfo[], memoryBytes: Record<string, number> = {}): HostRead => ({ totalBytes: 4096 * MIB, containers, memoryBytes });
const outputs = { dynos: { web: ["web.1", "web.2"] }, addonAttachments: { postgres: "DATABASE_URL" }, url: "http://127.0.0.1:20001", imageDigest: "sha256:abc" };

describe("roleIn", () => {
    test("dynos, add-on servers and the router of this app and stack; nothing of another stack", () => {
        assert.equal(roleIn(dyno("a", "web.1").Labels, "tiny", "dev"), "dyno");
        assert.equal(roleIn(addon("b", "postgres").Labels, "tiny", "dev"), "addon");
        assert.equal(roleIn(router("c").Labels, "tiny", "dev"), "router");
        assert.equal(roleIn(dyno("a", "web.1").Labels, "tiny", "prod"), undefined);
    });
});

describe("stackMemory", () => {
    test("this stack's own dynos do not count (the formation replaces them); its add-ons, router and other apps do", () => {
        const h = host(
            [dyno("a", "web.1"), addon("b", "postgres"), router("c"), container("d", "running", { [LABEL.app]: "other", [LABEL.stack]: "dev" })],
            { a: 1024 * MIB, b: 512 * MIB, c: 64 * MIB, d: 1024 * MIB },
        );
        assert.deepEqual(stackMemory(h, "tiny", "dev", 2048), { neededMb: 2048, availableMb: 4096 - 512 - 64 - 1024, totalMb: 4096, fits: true });
        assert.equal(stackMemory(h, "tiny", "dev", 2497).fits, false);
    });
});

describe("stackDrift: what the deploy must refresh and heal, from the host read", () => {
    const all = [dyno("a", "web.1"), dyno("b", "web.2"), addon("c", "postgres"), router("d")];
    test("nothing missing or stopped: no drift, so no refresh pass", () => {
        assert.deepEqual(stackDrift({ ...host(all), imagePresent: true }, "tiny", "dev", outputs), []);
    });
    test("a removed dyno, a stopped add-on server, a missing router and a removed image are each named", () => {
        const h = { ...host([dyno("a", "web.1"), addon("c", "postgres", "exited")]), imagePresent: false };
        assert.deepEqual(stackDrift(h, "tiny", "dev", outputs), [
            "dyno web.2 is missing",
            "add-on postgres is exited",
            "the router is missing",
            "image abc is gone",
        ]);
    });
    test("a restarting dyno is not drift (Docker is restarting it); another stack's dyno does not stand in", () => {
        const h = host([dyno("a", "web.1", "restarting"), container("x", "running", { [LABEL.app]: "tiny", [LABEL.stack]: "prod", [LABEL.dyno]: "web.2" }), addon("c", "postgres"), router("d")]);
        assert.deepEqual(stackDrift(h, "tiny", "dev", outputs), ["dyno web.2 is missing"]);
    });
});
