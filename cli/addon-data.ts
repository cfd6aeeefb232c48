import type { Deployment, Stack } from "@pulumi/pulumi/automation";
import { connectDocker, isNotFound } from "../infra/docker/client";
import { ADDON_LABEL, LABEL } from "../infra/docker/labels";

// Add-on data is deleted by one command only, `destroy --delete-addon-data`, and by that command
// itself after the app is gone: the intent is never written to the stack file or to state, so a
// failed run cannot leave it behind for a later plain `destroy`.

/** The type token of Dynoform's volume resources in state. */
export const VOLUME_TYPE = "pulumi-nodejs:dynamic/docker:Volume";

interface StateResource {
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/**
 * Clears `deleteOnDestroy` on every add-on data volume in an exported state (an older Dynoform
 * recorded it there from the stack file), so that destroying the stack runs no volume delete
 * that removes data. Returns whether anything changed; the router's config volume is left as
 * it is. Pure (edits `state` in place).
 */
export function keepDataVolumes(state: Deployment): boolean {
    const resources = ((state.deployment as { resources?: StateResource[] } | undefined)?.resources ?? []);
    let changed = false;
    for (const r of resources) {
        if (r.type !== VOLUME_TYPE) continue;
        const labels = (r.outputs?.labels ?? r.inputs?.labels ?? {}) as Record<string, string>;
        if (!(ADDON_LABEL in labels)) continue;
        for (const props of [r.inputs, r.outputs]) {
            if (props?.deleteOnDestroy) {
                props.deleteOnDestroy = false;
                changed = true;
            }
        }
    }
    return changed;
}

/** Makes sure destroying `stack` keeps add-on data, whatever its state recorded. */
export async function keepDataVolumesOnDestroy(stack: Stack): Promise<void> {
    const state = await stack.exportStack();
    if (keepDataVolumes(state)) await stack.importStack(state);
}

/**
 * Deletes the add-on data volumes of one app's stack: those whose labels name this app, this
 * stack and an add-on (whatever their name). Run after the app's containers are gone. Returns
 * the names deleted.
 */
export async function deleteDataVolumes(app: string, stack: string, dockerHost?: string): Promise<string[]> {
    const docker = connectDocker(dockerHost);
    const { Volumes } = await docker.listVolumes({
        filters: { label: [`${LABEL.app}=${app}`, `${LABEL.stack}=${stack}`, ADDON_LABEL] },
    });
    const deleted: string[] = [];
    for (const v of Volumes ?? []) {
        try {
            await docker.getVolume(v.Name).remove();
            deleted.push(v.Name);
        } catch (err) {
            if (isNotFound(err)) continue;
            throw new Error(`the app is destroyed, but its data volume ${v.Name} could not be deleted: ${(err as Error).message}`);
        }
    }
    return deleted.sort();
}
