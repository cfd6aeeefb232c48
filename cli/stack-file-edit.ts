import YAML, { isMap, isScalar } from "yaml";

/**
 * Splits a `pulumi config` path as {@link configPath} builds it (`dynoform:formation["web"]["quantity"]`)
 * into its keys (`["dynoform:formation", "web", "quantity"]`). Pure.
 */
export function parseConfigPath(path: string): string[] {
    const m = /^([^[\]"]+)((?:\["[^"]*"\])*)$/.exec(path);
    if (!m) throw new Error(`not a stack config path: ${path}`);
    return [m[1], ...[...m[2].matchAll(/\["([^"]*)"\]/g)].map((k) => k[1])];
}

/**
 * The value `pulumi config set --path` stores for a nested key: `true`/`false` as booleans and
 * whole numbers as numbers (only where that reads back as the same text), anything else as
 * given. A top-level key keeps the string. Pure.
 */
export function storedValue(value: string, nested: boolean): string | number | boolean {
    if (!nested) return value;
    if (value === "true" || value === "false") return value === "true";
    if (/^-?[1-9]\d*$|^0$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
    return value;
}

/**
 * Applies plain (not secret) sets and removals to a stack file's text with the `yaml` Document
 * API, so its comments, key order and formatting stay as they were; what `pulumi config set/rm
 * --path` would store, without running Pulumi. A removal whose key is absent is nothing to do. Pure.
 */
export function editStackFileText(text: string, set: Array<{ path: string; value: string }>, remove: string[]): string {
    const doc = YAML.parseDocument(text);
    if (doc.errors.length) throw new Error(`cannot edit the stack file: ${doc.errors[0].message}`);
    for (const p of remove) {
        const keys = ["config", ...parseConfigPath(p)];
        const parent = doc.getIn(keys.slice(0, -1), true);
        if (isMap(parent)) parent.delete(keys[keys.length - 1]);
    }
    for (const s of set) {
        const keys = parseConfigPath(s.path);
        const value = storedValue(s.value, keys.length > 1);
        const existing = doc.getIn(["config", ...keys], true);
        // Keep the node (and its comment); only its value changes.
        if (isScalar(existing)) existing.value = value;
        else doc.setIn(["config", ...keys], value);
    }
    return doc.toString();
}
