import * as fs from "fs";
import type { Stack } from "@pulumi/pulumi/automation";
import { connectDocker } from "../docker/client";
import { containerRole, LABEL } from "../docker/labels";
import { Reporter } from "../../toolchain/report";
import { stackCheckpointFiles, stackLockFiles } from "./workspace";

/** One operation an interrupted update left in the stack's state (`deployment.pending_operations`). */
export interface PendingOperation {
    type: string;
    resource: { urn: string; type: string; id?: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
}

/** A container as Docker lists it: enough to tell whose it is. */
export interface ListedContainer {
    Id: string;
    Names: string[];
    Labels: Record<string, string>;
}

/** `creating tiny-web-2` for each operation. Pure. */
export function describePending(ops: PendingOperation[]): string[] {
    return ops.map((op) => `${op.type} ${op.resource.urn.split("::").pop()}`);
}

/** Every container name and ID the state's resources record (dynos keep the name as ID and the Docker ID as `containerId`). Pure. */
export function containersInState(resources: Array<{ id?: string; outputs?: Record<string, unknown> }>): Set<string> {
    const known = new Set<string>();
    for (const r of resources) {
        for (const v of [r.id, r.outputs?.containerId, r.outputs?.containerName]) {
            if (typeof v === "string" && v) known.add(v);
        }
    }
    return known;
}

/**
 * The containers a pending create may have left behind, recorded nowhere in the state: for a
 * dyno, containers labelled with that dyno of that app and stack; for a release phase, that app
 * and stack's release containers (the provider removes its container when the command ends, so
 * one still there outlived an interrupted update). Pure.
 */
export function orphansOf(op: PendingOperation, containers: ListedContainer[], known: Set<string>): ListedContainer[] {
    const i = op.resource.inputs ?? {};
    if (op.type !== "creating" || typeof i.app !== "string" || typeof i.stack !== "string") return [];
    let created: (c: ListedContainer) => boolean;
    if (op.resource.type.endsWith("docker:Dyno")) {
        if (typeof i.processType !== "string" || i.index === undefined) return [];
        const dyno = `${i.processType}.${i.index}`;
        // Inputs without a role: a dyno, or an add-on or router recorded before roles were split (all `role=dyno`).
        const made = (c: ListedContainer) => (i.role === undefined ? c.Labels[LABEL.role] === "dyno" : containerRole(c.Labels) === i.role);
        created = (c) => made(c) && c.Labels[LABEL.dyno] === dyno;
    } else if (op.resource.type.endsWith("docker:ReleasePhase")) {
        created = (c) => containerRole(c.Labels) === "release";
    } else {
        return [];
    }
    return containers.filter(
        (c) =>
            c.Labels[LABEL.app] === i.app &&
            c.Labels[LABEL.stack] === i.stack &&
            created(c) &&
            !known.has(c.Id) &&
            !c.Names.some((n) => known.has(n.replace(/^\//, ""))),
    );
}

/** The label Docker puts on every container a Swarm service's task runs in. */
const SWARM_TASK_LABEL = "com.docker.swarm.task.id";

/** Roles of the containers the Dyno provider makes (dynos, add-on servers, routers): each one is a resource in the state. */
const PROVIDER_ROLES = new Set(["dyno", "addon", "router"]);

/**
 * Containers the Dyno provider made for `app` in `stack` that no resource in the state records:
 * left by a create that failed after Docker had made its container and could not remove it, or
 * whose answer was lost (the SSH connection to the server dropped in the middle of an `up`).
 * Also every release-phase one-off of the stack, recorded or not: the release phase removes its
 * container when the command ends, so one still there while no process holds the stack's lock
 * outlived a removal that failed (seen on a server over SSH) or a process that died. `run`
 * sessions and backups are not the provider's and are left alone, and so are a Swarm service's
 * task containers (a cluster stack's dynos: Swarm made them, and the state records their
 * service). Pure.
 */
export function unrecordedContainers(containers: ListedContainer[], app: string, stack: string, known: Set<string>): ListedContainer[] {
    return containers.filter((c) => {
        if (c.Labels[SWARM_TASK_LABEL] || c.Labels[LABEL.app] !== app || c.Labels[LABEL.stack] !== stack) return false;
        const role = containerRole(c.Labels) ?? "";
        if (role === "release") return true;
        return PROVIDER_ROLES.has(role) && !known.has(c.Id) && !c.Names.some((n) => known.has(n.replace(/^\//, "")));
    });
}

/** The resources of a plain-JSON checkpoint (`checkpoint.latest.resources`), read without the Pulumi CLI. */
function checkpointResources(text: string): Array<{ id?: string; outputs?: Record<string, unknown> }> {
    return JSON.parse(text)?.checkpoint?.latest?.resources ?? [];
}

/**
 * Clears what an interrupted or failed update (SIGKILL, a crash, a dropped connection to the
 * server) left in a file backend's state and on the engine. Pulumi keeps a pending create
 * without a resource, and a create that failed keeps nothing, so a container either made would
 * stay, unknown to the state, next to the one the next `up` creates (and after `destroy`). Such
 * containers (dynos, add-on servers, routers of `app`, and a pending release phase's one-off)
 * are found by their labels and removed (`up` creates them again); then the state is imported
 * without the pending operations. Pending updates and deletes need nothing: their resources are
 * in state, and the refresh `up` starts with reads them. Does nothing while a live process holds
 * the stack's lock, or on other backends.
 */
export async function resolvePendingOperations(stack: Stack, app: string, report: Reporter): Promise<{ operations: string[]; removed: string[] }> {
    const none = { operations: [], removed: [] };
    const backend = stack.workspace.envVars.PULUMI_BACKEND_URL ?? "";
    const files = stackCheckpointFiles(backend, stack.name);
    if (files.length === 0 || stackLockFiles(backend, stack.name).length > 0) return none;
    // Cheap test first: a checkpoint without pending operations has no such key at all, and its resources are read as JSON.
    const plain = files.length === 1 && !files[0].endsWith(".gz") ? fs.readFileSync(files[0], "utf8") : undefined;
    const exported = plain === undefined || plain.includes('"pending_operations"') ? await stack.exportStack() : undefined;
    const ops = (exported?.deployment?.pending_operations ?? []) as PendingOperation[];
    const operations = describePending(ops);
    if (ops.length > 0) {
        report(
            `the last update of stack ${stack.name} was interrupted with ${ops.length} operation(s) in flight ` +
                `(${operations.join(", ")}); Dynoform checks their containers against the state`,
        );
    }
    const known = containersInState(exported ? exported.deployment?.resources ?? [] : checkpointResources(plain!));
    const docker = connectDocker();
    const containers = (await docker.listContainers({
        all: true,
        filters: { label: [`${LABEL.stack}=${stack.name}`] },
    })) as ListedContainer[];
    const removed: string[] = [];
    const orphans = new Map<string, ListedContainer>();
    for (const op of ops) for (const c of orphansOf(op, containers, known)) orphans.set(c.Id, c);
    for (const c of unrecordedContainers(containers, app, stack.name, known)) orphans.set(c.Id, c);
    for (const c of orphans.values()) {
        const name = c.Names[0]?.replace(/^\//, "") ?? c.Id;
        await docker.getContainer(c.Id).remove({ force: true, v: false });
        removed.push(name);
        report(`removed container ${name} (${c.Labels[LABEL.dyno]}): an interrupted or failed update started it but never recorded it in state`);
    }
    if (ops.length > 0) {
        await stack.importStack({ ...exported!, deployment: { ...exported!.deployment, pending_operations: [] } });
        report(`cleared ${ops.length} pending operation(s) from the state of stack ${stack.name}`);
    }
    return { operations, removed };
}
