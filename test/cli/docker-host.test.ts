import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { test } from "node:test";
import { stackCluster, stackDockerHost } from "../../cli/docker-host";

function project(...lines: string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynoform-docker-host-"));
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
