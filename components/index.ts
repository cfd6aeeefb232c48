/**
 * Dynoform's public API: `import { App } from "dynoform"` in any Pulumi TypeScript program.
 */
export { App, AppArgs, APP_TYPE } from "./app";
export { AddOnRequest } from "./app-definition";
export { AddOn, AddOnArgs, AddOnPlan } from "./addon";
export { Formation, FormationArgs } from "./formation";
export { Router, RouterArgs } from "./router";
export { DynoformInputError } from "./errors";
export { parseProcfile, ProcessType } from "./procfile";
export { parseAppJson, AppJson } from "./app-json";
export { DYNO_SIZES, DynoSize, DynoSizeSpec, resolveDynoSize } from "./dyno-size";
export { FormationSpec, FormationEntry, planFormation, diffFormation } from "./formation-plan";
