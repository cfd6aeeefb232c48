import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { after, mock, test } from "node:test";
import nodeFs = require("fs");
import { stackCluster, stackDockerHost, useStackDockerHost } from "../../cli/docker-host";
import { loadApp } from "../../cli/stack-settings";
import { removeAfter } from "../support/tmp-folders";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-docker-host-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the stack's Docker host and the command's load come from one read of the stack file", () => {
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.mkdirSync(path.join(dir, "app"));
    fs.writeFileSync(path.join(dir, "app", "Procfile"), "web: node server.js\n");
    const file = path.join(dir, "stacks", "Pulumi.prod.yaml");
    fs.writeFileSync(file, 'config:\n  dynoform:app: tiny\n  dynoform:source: app\n  dynoform:routerPort: \"20001\"\n  dynoform:dockerHost: ssh://deploy@server.example\n');
    const saved = { host: process.env.DOCKER_HOST, from: process.env.DYNOFORM_DOCKER_HOST_FROM };
    // The module object itself (an `import *` is a copy of getters): what the loader's calls reach.
    const read = mock.method(nodeFs, "readFileSync");
    const reads = () => read.mock.calls.filter((c) => c.arguments[0] === file).length;
    try {
        useStackDockerHost(dir, "prod");
        assert.equal(process.env.DOCKER_HOST, "ssh://deploy@server.example");
        assert.equal(loadApp(dir, "prod").view.settings.app, "tiny");
        assert.equal(reads(), 1, "read once for both");
        // The held text is handed over once: a later load (after the command wrote the file) reads the disk.
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("tiny", "small"));
        assert.equal(loadApp(dir, "prod").view.settings.app, "small");
    } finally {
        read.mock.restore();
        for (const [k, v] of [["DOCKER_HOST", saved.host], ["DYNOFORM_DOCKER_HOST_FROM", saved.from]] as const) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
    }
});

function project(...lines: string[]): string {
    const dir = removeAfter(fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-docker-host-")));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.prod.yaml"), ["config:", "  dynoform:app: tiny", ...lines, ""].join("\n"));
    return dir;
}

test("on a cluster the stack's Docker host is its manager; `local` is this machine's engine", () => {
    assert.equal(stackDockerHost(project("  dynoform:cluster:", "    manager: unix:///run/m.sock"), "prod"), "unix:///run/m.sock");
    assert.equal(stackDockerHost(project("  dynoform:cluster:", "    manager: local"), "prod"), undefined);
});

test("a manager's bad option is a usage error naming dynoform:cluster.manager", () => {
    const dir = project("  dynoform:cluster:", "    manager: ssh://root@10.0.0.5?port=2", "    workers: []");
    assert.throws(() => stackDockerHost(dir, "prod"), /`dynoform:cluster\.manager`: unknown option "port"/);
});

test("stackCluster: the workers' identity files resolved against the project folder", () => {
    const dir = project("  dynoform:cluster:", "    manager: ssh://root@10.0.0.5", "    workers: [ssh://root@10.0.0.6?identityFile=keys/id]");
    assert.deepEqual(stackCluster(dir, "prod"), {
        manager: "ssh://root@10.0.0.5",
        workers: [`ssh://root@10.0.0.6?identityFile=${path.join(dir, "keys", "id")}`],
    });
    assert.equal(stackCluster(project(), "prod"), undefined);
});
