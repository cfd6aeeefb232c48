import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    forwarderCommand, gatewayScript, pushedDigest, pushNotReady, pushTag, REGISTRY, registryAnswered, registryProbeHint, registryProbeScript, registryRepository, registryServiceSpecs,
} from "../../../infra/swarm/registry";
import { promotedName } from "../../../cli/commands/promote";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("the cluster's registry", () => {
    test("an app's images go to 127.0.0.1:5000/<app>, tagged by image ID; Docker trusts 127.0.0.0/8 without TLS", () => {
        assert.equal(registryRepository("hello"), "127.0.0.1:5000/hello");
        assert.equal(registryRepository("Hello-2"), "127.0.0.1:5000/hello-2", "repository names are lower case");
        assert.equal(pushTag(`sha256:3f9a1c2b4d5e${"0".repeat(52)}`), "id-3f9a1c2b4d5e");
    });

    test("a push's digest is its last aux.Digest; an error or no digest fails with the message", () => {
        const output = [
            { status: "The push refers to repository [127.0.0.1:5000/hello]" },
            { status: "Layer already exists" },
            { status: `id-3f9a: digest: ${DIGEST} size: 1570` },
            { aux: { Tag: "id-3f9a", Digest: DIGEST, Size: 1570 } },
        ];
        assert.equal(pushedDigest(output), DIGEST);
        assert.throws(() => pushedDigest([{ status: "Preparing" }, { error: "connection refused" }]), /^Error: connection refused$/);
        assert.throws(() => pushedDigest([{ status: "Pushed" }]), /the push reported no manifest digest \(last message: \{"status":"Pushed"\}\)/);
        assert.throws(() => pushedDigest([{ aux: { Digest: "sha256:short" } }]), /no manifest digest/);
    });

    test("a push is tried again while the registry does not answer yet, not for other errors", () => {
        assert.ok(pushNotReady('Get "http://127.0.0.1:5000/v2/": EOF'), "socat closing: its registry is not listening yet");
        assert.ok(pushNotReady('Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused'));
        assert.equal(pushNotReady("name unknown: repository name not known to registry"), false);
        assert.equal(pushNotReady("denied: requested access to the resource is denied"), false);
    });

    test("the registry counts as started once it answers GET /v2/ over its network from the manager's forwarder; a name that does not resolve there says why", () => {
        assert.match(registryProbeScript(), /printf 'GET \/v2\/ HTTP\/1\.0\\r\\n\\r\\n' \| socat -T 5 - TCP:dynoform-registry:5000,connect-timeout=5 2>&1 \| head -n 1/);
        assert.ok(registryAnswered("HTTP/1.1 200 OK\r"));
        assert.ok(registryAnswered("HTTP/1.0 401 Unauthorized"));
        const unresolved = 'socat[12] E getaddrinfo("dynoform-registry", "NULL", {1,0,1,6}, {}): Name or service not known';
        assert.equal(registryAnswered(unresolved), false);
        assert.equal(registryAnswered("socat[12] E connect(5, AF=2 10.0.1.3:5000, 16): Connection refused"), false);
        assert.equal(registryAnswered(""), false);
        assert.match(registryProbeHint(unresolved), /does not resolve .* Swarm network agent is not running .*agentInit.*restart that node's Docker engine/);
        assert.equal(registryProbeHint("socat[12] E connect(5, AF=2 10.0.1.3:5000, 16): Connection refused"), "");
    });

    test("the registry is one task pinned to its node on a volume; the forwarder one task per node, publishing the port in host mode", () => {
        const { registry, forwarder } = registryServiceSpecs("dynoform/registry:abc", "node1");
        assert.equal(registry.Name, REGISTRY.service);
        assert.deepEqual(registry.Mode, { Replicated: { Replicas: 1 } });
        assert.deepEqual(registry.TaskTemplate.Placement.Constraints, ["node.id==node1"]);
        assert.deepEqual(registry.TaskTemplate.ContainerSpec.Mounts, [{ Type: "volume", Source: "dynoform-registry-data", Target: "/var/lib/docker-registry" }]);
        assert.equal(registry.UpdateConfig.Order, "stop-first");
        assert.deepEqual(registry.EndpointSpec, { Mode: "dnsrr" }, "not published: reached through the forwarders only");
        assert.deepEqual(forwarder.Mode, { Global: {} });
        assert.deepEqual(forwarder.EndpointSpec.Ports, [{ Protocol: "tcp", TargetPort: 5000, PublishedPort: 5000, PublishMode: "host" }]);
        assert.deepEqual(forwarder.TaskTemplate.ContainerSpec.Command, forwarderCommand());
        assert.match(forwarderCommand()[2], /exec socat TCP-LISTEN:5000,fork,reuseaddr,range=\$gw\/32 TCP:dynoform-registry:5000$/);
        for (const s of [registry, forwarder]) {
            assert.equal(s.TaskTemplate.ContainerSpec.Image, "dynoform/registry:abc");
            assert.deepEqual(s.TaskTemplate.Networks, [{ Target: "dynoform-registry" }]);
        }
    });

    test("the forwarder admits its default gateway only: read from /proc/net/route's little-endian hex", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "routes-"));
        const file = path.join(dir, "route");
        fs.writeFileSync(file, [
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
            "eth0\t000000FF\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
            "eth1\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0",
            "eth1\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0",
            "",
        ].join("\n"));
        try {
            const r = spawnSync("sh", ["-c", gatewayScript(file)], { encoding: "utf8" });
            assert.equal(r.stdout.trim(), "172.18.0.1", r.stderr);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a promotion names the registry digest on a cluster, the image ID elsewhere", () => {
        assert.equal(promotedName(`sha256:${"1".repeat(64)}`, `127.0.0.1:5000/hello@${DIGEST}`), "hello@sha256:abababababab");
        assert.equal(promotedName(`sha256:${"1".repeat(64)}`, ""), "111111111111");
        assert.equal(promotedName(`sha256:${"1".repeat(64)}`), "111111111111");
    });
});
