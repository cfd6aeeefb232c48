/** Label keys Dynoform puts on every Docker object it manages; `ps`, refresh and orphan checks read them. */
export const LABEL = {
    managed: "dev.dynoform.managed",
    app: "dev.dynoform.app",
    stack: "dev.dynoform.stack",
    processType: "dev.dynoform.process-type",
    index: "dev.dynoform.index",
    dyno: "dev.dynoform.dyno",
    release: "dev.dynoform.release",
    size: "dev.dynoform.size",
    role: "dev.dynoform.role",
} as const;

/** Label that marks add-on containers (so `ps` lists dynos only); its value is the add-on's name. */
export const ADDON_LABEL = "dev.dynoform.addon";

/** The labels that identify an object as belonging to one app in one stack. */
export function ownerLabels(app: string, stack: string): Record<string, string> {
    return { [LABEL.managed]: "true", [LABEL.app]: app, [LABEL.stack]: stack };
}
