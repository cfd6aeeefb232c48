import * as pulumi from "@pulumi/pulumi";
import { isNotFound } from "./docker/client";

// The convention every dynamic provider under infra/ follows, in one place:
// - diff: the input fields are listed by what a change to them does (replace, update in place,
//   or meta: recorded in state with no call to Docker); `diffByFields` compares them as
//   canonical JSON and answers `changes: undefined` when one changed, so the engine diffs the
//   inputs itself and names each changed field in previews and events;
// - check: a value not known yet (preview) is not judged: check runs again with it during `up`;
// - read and delete: 404 means the object is gone (`unlessGone`): read drops it from state
//   (the Dyno provider keeps it as `missing`, drift that `up` heals), delete is done.
// Providers `require` this file by path inside their methods (state stores the provider's code).

/**
 * True for a value not known yet (preview, before the resource it comes from exists): the
 * dynamic-provider host passes such values as a sentinel string, whatever their type.
 */
export function isUnknown(v: unknown): boolean {
    return v === pulumi.runtime.unknownValue;
}

/** Why `name` cannot name a network or volume (one failure), or none; a name not known yet is judged when it is. Pure. */
export function objectNameFailures(name: unknown): pulumi.dynamic.CheckFailure[] {
    if (isUnknown(name) || (typeof name === "string" && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name))) return [];
    return [{ property: "name", reason: `\`name\` must be letters, digits, '_', '.' or '-' (got ${JSON.stringify(name)})` }];
}

/** JSON with object keys sorted and undefined fields left out, so `{a, b}` and `{b, a}` compare equal. Pure. */
export function canonicalJson(v: unknown): string {
    if (v === undefined || v === null) return "null";
    if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
    if (typeof v === "object") {
        const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
        entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(",")}}`;
    }
    return JSON.stringify(v);
}

/** A provider's input fields by what a change to them does. */
export interface FieldLists<K extends string> {
    /** A change needs a new object. */
    replace: readonly K[];
    /** Changed in place by the provider's `update`. */
    update?: readonly K[];
    /** Only Dynoform reads them: `update` records them in state without calling Docker. */
    meta?: readonly K[];
}

/** How fields compare when plain equality is not what they mean. */
export interface FieldRules<T> {
    /** The value an unset field stands for (`bytes: 24`): unset and the default are no change. */
    defaults?: Partial<T>;
    /** Equality of one field that needs more than its value (a name that may be a former name). */
    same?: { [K in keyof T]?: (olds: Partial<T>, news: Partial<T>) => boolean };
}

/** The fields among `fields` whose value differs between `olds` and `news`, in the order given. Pure. */
export function changedFields<T, K extends keyof T & string>(
    olds: Partial<T>,
    news: Partial<T>,
    fields: readonly K[],
    rules: FieldRules<T> = {},
): K[] {
    const value = (o: Partial<T>, k: K) => o[k] ?? rules.defaults?.[k];
    return fields.filter((k) => {
        const same = rules.same?.[k];
        return same ? !same(olds, news) : canonicalJson(value(olds, k)) !== canonicalJson(value(news, k));
    });
}

/**
 * The diff of a provider whose fields are listed by kind: changed `replace` fields replace the
 * object (deleted first when `deleteBeforeReplace`), any other listed change is an update, and
 * a field in no list is no change. Pure.
 */
export function diffByFields<T, K extends keyof T & string>(
    olds: Partial<T>,
    news: Partial<T>,
    lists: FieldLists<K>,
    rules: FieldRules<T> & { deleteBeforeReplace?: boolean; stables?: string[] } = {},
): pulumi.dynamic.DiffResult {
    const changed = changedFields(olds, news, [...lists.replace, ...(lists.update ?? []), ...(lists.meta ?? [])], rules);
    const replaces = lists.replace.filter((k) => changed.includes(k));
    return {
        changes: changed.length > 0 ? undefined : false,
        replaces,
        deleteBeforeReplace: replaces.length > 0 && (rules.deleteBeforeReplace ?? false),
        stables: rules.stables ?? [],
    };
}

/** What `work` resolves to, or undefined when the engine answers 404 (the object is gone); other errors are thrown. */
export async function unlessGone<R>(work: () => Promise<R>): Promise<R | undefined> {
    try {
        return await work();
    } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
    }
}
