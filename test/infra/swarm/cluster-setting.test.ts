import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseStackSettings } from "../../../infra/stack-file";
import { clusterSettingProblem, managerDockerHost, resolveHostFiles } from "../../../infra/swarm/cluster-setting";
import { formatNodes } from "../../../infra/swarm/cluster";

const FILE = "stacks/Pulumi.prod.yaml";
const stack = (...lines: string[]) => ["config:", "  dynoform:app: tiny", ...lines, ""].join("\n");

describe("dynoform:cluster in a stack file", () => {
    test("a manager and workers are read as given", () => {
        const view = parseStackSettings(FILE, stack(
            "  dynoform:cluster:",
            "    manager: ssh://root@10.0.0.5",
            "    workers: [ssh://root@10.0.0.6, tcp://10.0.0.7:2376]",
        ));
        assert.equal(view.problem, undefined);
        assert.deepEqual(view.settings.cluster, { manager: "ssh://root@10.0.0.5", workers: ["ssh://root@10.0.0.6", "tcp://10.0.0.7:2376"] });
        assert.equal(managerDockerHost(view.settings.cluster!), "ssh://root@10.0.0.5");
        assert.equal(managerDockerHost({ manager: "local" }), undefined);
    });

    const refused: Array<[string, string[], string]> = [
        ["no manager", ["  dynoform:cluster:", "    workers: [ssh://root@b]"], "stacks/Pulumi.prod.yaml:4: `dynoform:cluster`: names no `manager` (a Swarm manager's Docker host, ssh://user@host[:port], tcp://host:port or unix:///path, or local)"],
        ["a manager that is no address", ["  dynoform:cluster:", "    manager: 10.0.0.5"], "stacks/Pulumi.prod.yaml:4: `dynoform:cluster.manager`: expected local or ssh://user@host[:port], tcp://host:port or unix:///path, got \"10.0.0.5\""],
        ["a worker that is no address", ["  dynoform:cluster:", "    manager: local", "    workers:", "      - ssh://root@b", "      - b"], "stacks/Pulumi.prod.yaml:7: `dynoform:cluster.workers.1`: expected ssh://user@host[:port], tcp://host:port or unix:///path, got \"b\""],
        ["workers not a list", ["  dynoform:cluster:", "    manager: local", "    workers: ssh://root@b"], "stacks/Pulumi.prod.yaml:5: `dynoform:cluster.workers`: expected a list of Docker hosts, got \"ssh://root@b\""],
        ["the manager named as a worker", ["  dynoform:cluster:", "    manager: ssh://root@a", "    workers: [ssh://root@a]"], "stacks/Pulumi.prod.yaml:5: `dynoform:cluster.workers.0`: ssh://root@a is named twice (as the manager or another worker)"],
        ["an unknown field", ["  dynoform:cluster:", "    manager: local", "    nodes: 3"], "stacks/Pulumi.prod.yaml:5: `dynoform:cluster.nodes`: unknown field; a cluster has manager and workers"],
        ["not a map", ["  dynoform:cluster: ssh://root@a"], "stacks/Pulumi.prod.yaml:3: `dynoform:cluster`: expected a map, got \"ssh://root@a\""],
        ["both a Docker host and a cluster", ["  dynoform:dockerHost: ssh://root@a", "  dynoform:cluster:", "    manager: ssh://root@a"], "stacks/Pulumi.prod.yaml:5: `dynoform:cluster`: a stack runs on one Docker host or on a cluster: drop `dynoform:dockerHost` (the cluster's manager is its host)"],
    ];
    for (const [what, lines, message] of refused) {
        test(`refused, naming the field, file and line: ${what}`, () => {
            assert.equal(parseStackSettings(FILE, stack(...lines)).problem, message);
        });
    }

    test("clusterSettingProblem accepts a manager alone", () => {
        assert.equal(clusterSettingProblem({ manager: "unix:///run/docker-m.sock" }), undefined);
    });
});

test("formatNodes: one line per node, the leader named", () => {
    assert.deepEqual(formatNodes([
        { id: "a", hostname: "n1", role: "manager", state: "ready", availability: "active", address: "10.0.0.5", leader: true },
        { id: "b", hostname: "n2", role: "worker", state: "down", availability: "drain", address: "10.0.0.6", leader: false },
    ]), ["n1 10.0.0.5 manager (leader) ready active", "n2 10.0.0.6 worker down drain"]);
});

test("resolveHostFiles: a worker's key and known_hosts files made absolute against the project; unix and ~ paths kept", () => {
    assert.equal(resolveHostFiles("ssh://root@10.0.0.6?identityFile=keys/id&knownHostsFile=/etc/kh", "/p"), "ssh://root@10.0.0.6?identityFile=/p/keys/id&knownHostsFile=/etc/kh");
    assert.equal(resolveHostFiles("ssh://root@10.0.0.6?identityFile=~/.ssh/id", "/p"), "ssh://root@10.0.0.6?identityFile=~/.ssh/id");
    assert.equal(resolveHostFiles("unix:///run/w.sock", "/p"), "unix:///run/w.sock");
});
