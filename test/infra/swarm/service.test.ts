import assert from "node:assert/strict";
import { test } from "node:test";
import { diffService, listenHealthCheck, rollsTasks, ServiceInputs, ServiceOutputs, serviceResources, serviceSpec, settleTimeoutSeconds } from "../../../infra/swarm/service";
import { ServiceTask, stoppingTasks } from "../../../infra/swarm/tasks";
import { clusterUnsupported } from "../../../infra/swarm/cluster-setting";
import { swarmName } from "../../../infra/docker/labels";

const INPUTS: ServiceInputs = {
    name: "hello-prod-web",
    image: "sha256:abc",
    command: "node index.js",
    env: { PORT: "5000", DYNO: "web.1", B: "2" },
    processType: "web",
    replicas: 6,
    memoryMb: 512,
    cpuShares: 1024,
    network: "hello-prod",
    labels: { "dev.dynoform.app": "hello" },
};
const TWO_CORES = 2e9;

test("serviceSpec: replicas, dnsrr, start-first updates that roll back, restart with a delay, DYNO per task slot", () => {
    const spec = serviceSpec(INPUTS, TWO_CORES);
    assert.deepEqual(spec.Mode, { Replicated: { Replicas: 6 } });
    assert.deepEqual(spec.EndpointSpec, { Mode: "dnsrr" });
    assert.equal(spec.UpdateConfig.Order, "start-first");
    assert.equal(spec.UpdateConfig.FailureAction, "rollback");
    assert.deepEqual(spec.TaskTemplate.RestartPolicy, { Condition: "any", Delay: 5e9, MaxAttempts: 0, Window: 0 });
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.Command, ["sh", "-c", "exec node index.js"]);
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.Env, ["B=2", "DYNO=web.{{.Task.Slot}}", "PORT=5000"]);
    assert.equal(spec.TaskTemplate.ContainerSpec.StopGracePeriod, 30e9);
    assert.deepEqual(spec.TaskTemplate.Networks, [{ Target: "hello-prod", Aliases: ["web"] }]);
});

test("serviceSpec: a dyno service with a port is healthy once it accepts connections (Swarm's start-first waits for it); others have no such check", () => {
    const web = serviceSpec({ ...INPUTS, listening: { port: 5000, probeImage: "node" }, bootTimeoutSeconds: 60 }, TWO_CORES).TaskTemplate.ContainerSpec;
    assert.deepEqual(web.HealthCheck, listenHealthCheck(5000, 60));
    assert.equal(web.HealthCheck!.Test[0], "CMD-SHELL");
    assert.match(web.HealthCheck!.Test[1], /^bash -c ': <\/dev\/tcp\/127\.0\.0\.1\/5000' 2>\/dev\/null \|\| node -e '.*connect\(5000, "127\.0\.0\.1"\)/);
    assert.deepEqual([web.HealthCheck!.Interval, web.HealthCheck!.Retries, web.HealthCheck!.StartPeriod], [3e9, 10, 60e9], "booting does not count against it");
    assert.equal(serviceSpec(INPUTS, TWO_CORES).TaskTemplate.ContainerSpec.HealthCheck, undefined, "no port, no check");
    const router = serviceSpec({ ...INPUTS, listening: { port: 8080, probeImage: "node" }, ingress: { port: 5000, targetPort: 8080 } }, TWO_CORES);
    assert.equal(router.TaskTemplate.ContainerSpec.HealthCheck, undefined, "the router (stop-first, host port) has none");
    const addon = serviceSpec({ ...INPUTS, listening: { port: 5432, probeImage: "node" }, healthcheck: "pg_isready -q" }, TWO_CORES);
    assert.deepEqual(addon.TaskTemplate.ContainerSpec.HealthCheck!.Test, ["CMD-SHELL", "pg_isready -q"], "an add-on keeps its own");
});

test("serviceSpec: a change of replicas alone leaves the task template equal (Swarm restarts no task)", () => {
    const a = serviceSpec(INPUTS, TWO_CORES);
    const b = serviceSpec({ ...INPUTS, replicas: 7, env: { B: "2", PORT: "5000", DYNO: "web.1" } }, TWO_CORES);
    assert.deepEqual(b.TaskTemplate, a.TaskTemplate);
    assert.deepEqual(b.Mode, { Replicated: { Replicas: 7 } });
    assert.notDeepEqual(serviceSpec({ ...INPUTS, memoryMb: 1024 }, TWO_CORES).TaskTemplate, a.TaskTemplate);
});

test("serviceResources: memory limit = reservation = the size; CPU limit shares/1024 cores capped at the smallest node, reservation a tenth", () => {
    assert.deepEqual(serviceResources(512, 1024, TWO_CORES), {
        Limits: { MemoryBytes: 512 * 1024 * 1024, NanoCPUs: 1e9 },
        Reservations: { MemoryBytes: 512 * 1024 * 1024, NanoCPUs: 1e8 },
    });
    assert.equal(serviceResources(2560, 8192, TWO_CORES).Limits.NanoCPUs, TWO_CORES);
    assert.equal(serviceResources(2560, 8192, TWO_CORES).Reservations.NanoCPUs, 2e8);
});

test("diffService: replicas is an update, the name replaces, bootTimeoutSeconds is recorded only", () => {
    const olds: ServiceOutputs = { ...INPUTS, serviceId: "s1" };
    assert.deepEqual(diffService(olds, { ...INPUTS, replicas: 7 }).replaces, []);
    assert.equal(diffService(olds, { ...INPUTS, replicas: 7 }).changes, undefined);
    assert.deepEqual(diffService(olds, { ...INPUTS, name: "x" }).replaces, ["name"]);
    assert.equal(diffService(olds, { ...INPUTS }).changes, false);
    assert.equal(diffService(olds, { ...INPUTS, stopGraceSeconds: 30 }).changes, false, "unset is the default 30");
});

test("clusterUnsupported: scheduled commands run on a cluster; a scheduled backup is refused, naming its job", () => {
    assert.equal(clusterUnsupported({ backupJobs: [] }), undefined);
    assert.equal(
        clusterUnsupported({ backupJobs: ["pg-backups"] }),
        "scheduled backups (`dynoform:scheduler.pg-backups`, as pg:backups:schedule writes it) do not run on a Swarm cluster yet: scheduled commands, process types, add-ons and the release phase do",
    );
});

test("serviceSpec: the command in exec form (the app gets SIGTERM itself), under an init", () => {
    const spec = serviceSpec(INPUTS, TWO_CORES);
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.Command, ["sh", "-c", "exec node index.js"]);
    assert.equal(spec.TaskTemplate.ContainerSpec.Init, true);
    assert.deepEqual(serviceSpec({ ...INPUTS, command: "a && b" }, TWO_CORES).TaskTemplate.ContainerSpec.Command, ["sh", "-c", "a && b"]);
});

test("serviceSpec: the router runs one task per ingress node, its port published in host mode, replaced stop-first", () => {
    const spec = serviceSpec({ ...INPUTS, name: "hello-prod-router", processType: "router", replicas: 1, ingress: { port: 8080, targetPort: 80 } },
        { smallestNodeNanoCpus: TWO_CORES, ingressNodes: 2, nodeId: "n1" });
    assert.deepEqual(spec.Mode, { Replicated: { Replicas: 2 } });
    assert.deepEqual(spec.TaskTemplate.Placement, { MaxReplicas: 1, Constraints: ["node.labels.dynoform.ingress==true"] });
    assert.deepEqual(spec.EndpointSpec, { Mode: "dnsrr", Ports: [{ Protocol: "tcp", TargetPort: 80, PublishedPort: 8080, PublishMode: "host" }] });
    assert.equal(spec.UpdateConfig.Order, "stop-first");
});

test("serviceSpec: an add-on is pinned to the manager's node with its volume and health check, replaced stop-first", () => {
    const spec = serviceSpec({ ...INPUTS, name: "hello-prod-postgres", processType: "postgres", replicas: 1, command: undefined, pinned: true,
        mounts: [{ source: "hello-prod-postgres-data", target: "/var/lib/postgresql/data" }], healthcheck: "pg_isready -q", user: "postgres" },
        { smallestNodeNanoCpus: TWO_CORES, nodeId: "n1" });
    assert.deepEqual(spec.TaskTemplate.Placement, { MaxReplicas: 0, Constraints: ["node.id==n1"] });
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.Mounts, [{ Type: "volume", Source: "hello-prod-postgres-data", Target: "/var/lib/postgresql/data" }]);
    assert.deepEqual(spec.TaskTemplate.ContainerSpec.HealthCheck, { Test: ["CMD-SHELL", "pg_isready -q"], Interval: 3e9, Timeout: 5e9, Retries: 10, StartPeriod: 0 });
    assert.equal(spec.TaskTemplate.ContainerSpec.User, "postgres");
    assert.equal(spec.TaskTemplate.ContainerSpec.Command, undefined);
    assert.equal(spec.UpdateConfig.Order, "stop-first");
});

test("swarmName: DNS name components (no dots)", () => {
    assert.equal(swarmName.network("hello", "prod"), "hello-prod");
    assert.equal(swarmName.service("hello", "prod", "big_worker"), "hello-prod-big-worker");
});

test("rollsTasks: a change of replicas alone (or of what only the provider reads) rolls no task; env, size, image or labels do", () => {
    assert.equal(rollsTasks(INPUTS, { ...INPUTS, replicas: 7 }), false);
    assert.equal(rollsTasks(INPUTS, { ...INPUTS, bootTimeoutSeconds: 60 }), false);
    assert.equal(rollsTasks(INPUTS, { ...INPUTS, env: { ...INPUTS.env, B: "3" } }), true);
    assert.equal(rollsTasks(INPUTS, { ...INPUTS, memoryMb: 1024, replicas: 7 }), true);
    assert.equal(rollsTasks(INPUTS, { ...INPUTS, image: "sha256:def" }), true);
    assert.equal(rollsTasks(INPUTS, { ...INPUTS, labels: { ...INPUTS.labels, "dev.dynoform.release": "v2" } }), true);
});

test("settleTimeoutSeconds: a create or scale has one boot timeout; a roll one per task, one after another, and the last old task's stop grace", () => {
    assert.equal(settleTimeoutSeconds({}, 6, false), 120);
    assert.equal(settleTimeoutSeconds({ bootTimeoutSeconds: 60 }, 6, false), 60);
    assert.equal(settleTimeoutSeconds({}, 6, true), 6 * 120 + 30);
    assert.equal(settleTimeoutSeconds({ bootTimeoutSeconds: 60, stopGraceSeconds: 5 }, 2, true), 125);
    assert.equal(settleTimeoutSeconds({ bootTimeoutSeconds: 60, stopGraceSeconds: 5 }, 0, true), 65, "a roll of no task still waits for one boot");
});

test("stoppingTasks: a task scaled away or replaced that still runs; not one that should run, nor one already stopped", () => {
    const task = (id: string, desired: string, state: string): ServiceTask => ({ id, slot: 1, node: "n1", state, desired, since: "2026-12-02T00:00:00Z" });
    const tasks = [task("a", "running", "running"), task("b", "shutdown", "running"), task("c", "shutdown", "shutdown"), task("d", "remove", "running"), task("e", "running", "starting")];
    assert.deepEqual(stoppingTasks(tasks).map((t) => t.id), ["b", "d"]);
});
