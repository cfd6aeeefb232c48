// The host-memory rule, in one place: the CLI's plan (`cli/host-read.ts`) and the dyno
// provider (`dyno-ops.ts`, before it creates or grows a container) both decide with it.

/** Bytes in a MiB. */
export const MIB = 2 ** 20;

/** A container as the memory rule sees it: its state and its memory limit (0 = no limit). */
export interface ContainerMemory {
    state: string;
    memoryBytes: number;
}

/** What {@link hostMemory} decides, in whole MiB. */
export interface HostMemory {
    neededMb: number;
    availableMb: number;
    totalMb: number;
    fits: boolean;
    /** On a Swarm cluster: how many nodes take dynos (their memory is `totalMb`). */
    nodes?: number;
    /** On a Swarm cluster: the most memory one node has free, and the biggest dyno, which must fit on one node. */
    largestFreeMb?: number;
    largestDynoMb?: number;
}

/**
 * Whether `neededBytes` more fits on a host of `totalBytes`: the memory limits of its running
 * and restarting containers are reserved (a stopped container reserves nothing; a container
 * without a limit is not counted), and so is `pendingBytes`, memory promised to containers being
 * created. Pure.
 */
export function hostMemory(totalBytes: number, containers: ContainerMemory[], neededBytes: number, pendingBytes = 0): HostMemory {
    const reserved = containers
        .filter((c) => c.state === "running" || c.state === "restarting")
        .reduce((sum, c) => sum + c.memoryBytes, 0) + pendingBytes;
    const available = totalBytes - reserved;
    return {
        neededMb: Math.ceil(neededBytes / MIB),
        availableMb: Math.max(0, Math.floor(available / MIB)),
        totalMb: Math.floor(totalBytes / MIB),
        fits: neededBytes <= available,
    };
}
