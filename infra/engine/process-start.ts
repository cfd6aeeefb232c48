// Loaded first by every Dynoform process that imports the Pulumi SDK: the CLI's entry imports
// it, and the dynamic-provider host gets it through NODE_OPTIONS=--require (infra/engine/workspace.ts).
import * as v8 from "v8";
import "./defer-closure";

/**
 * V8's young generation starts at 1 MiB per semi-space and doubles as a process allocates, up to
 * 16 MiB: 32 MiB or more of a short-lived process's resident memory is its nursery. Dynoform's
 * processes live for one command and keep little, so the nursery stays at its first size; the
 * bench (bench/scale-out.ts, an `up` of 10 dynos) measured the CLI at 86 instead of 112 MiB at its
 * peak and no more CPU time. The factor is read each time V8 would grow the space, so setting it
 * here, after start, takes effect.
 */
export const YOUNG_GENERATION_FLAG = "--semi-space-growth-factor=1";

v8.setFlagsFromString(YOUNG_GENERATION_FLAG);
