/**
 * Structured three-way merge of JSON documents (package.json, tsconfig.json, ...): key by key,
 * so a dependency the user added and a version the template bumped on the next line are two
 * independent changes, not one conflicting hunk.
 *
 * Per value: both sides equal -> it; one side unchanged from the base -> the other side; two
 * objects -> merged key by key; two arrays of plain values -> the items each side added or
 * removed; anything else changed differently on both sides is a conflict (named by its path).
 * Key order: the user's, with the template's new keys after the key they follow in the template.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface JsonMerge {
  /** The merged document, serialized like the user's file; `undefined` when there are conflicts. */
  readonly text: string | undefined;
  /** Paths of the values changed differently on both sides, e.g. `dependencies.zod`. */
  readonly conflicts: string[];
}

const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlain = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function equal(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => equal(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

const childPath = (path: string, key: string) =>
  path ? `${path}.${/^[\w@/-]+$/.test(key) ? key : JSON.stringify(key)}` : key;

function mergeValue(
  base: Json | undefined,
  ours: Json | undefined,
  theirs: Json | undefined,
  path: string,
  conflicts: string[],
): Json | undefined {
  if (equal(ours, theirs)) return ours;
  if (equal(base, ours)) return theirs;
  if (equal(base, theirs)) return ours;
  if (isObject(ours) && isObject(theirs) && (base === undefined || isObject(base))) {
    return mergeObject(base ?? {}, ours, theirs, path, conflicts);
  }
  if (
    Array.isArray(ours) &&
    Array.isArray(theirs) &&
    (base === undefined || Array.isArray(base)) &&
    [...ours, ...theirs, ...(base ?? [])].every(isPlain)
  ) {
    const b = base ?? [];
    const has = (list: Json[], x: Json) => list.some((y) => equal(x, y));
    const kept = ours.filter((x) => !(has(b, x) && !has(theirs, x)));
    const addedByTemplate = theirs.filter((x) => !has(b, x) && !has(kept, x));
    return [...kept, ...addedByTemplate];
  }
  conflicts.push(path || '(document)');
  return ours;
}

function mergeObject(
  base: JsonObject,
  ours: JsonObject,
  theirs: JsonObject,
  path: string,
  conflicts: string[],
): JsonObject {
  const order = Object.keys(ours);
  // The template's new keys go after the key that precedes them in the template.
  const theirKeys = Object.keys(theirs);
  theirKeys.forEach((key, i) => {
    if (order.includes(key) || Object.hasOwn(base, key)) return;
    let at = 0;
    for (let j = i - 1; j >= 0; j--) {
      const found = order.indexOf(theirKeys[j]!);
      if (found >= 0) {
        at = found + 1;
        break;
      }
    }
    order.splice(at, 0, key);
  });
  const out: JsonObject = {};
  for (const key of order) {
    const value = mergeValue(
      Object.hasOwn(base, key) ? base[key] : undefined,
      Object.hasOwn(ours, key) ? ours[key] : undefined,
      Object.hasOwn(theirs, key) ? theirs[key] : undefined,
      childPath(path, key),
      conflicts,
    );
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function parse(text: string): { ok: true; value: Json } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch {
    return { ok: false };
  }
}

/**
 * Merges base -> theirs into ours; `undefined` when a side is not plain JSON (JSONC, a conflict
 * marker...), so the caller falls back to the line merge. `base` undefined: both sides added it.
 */
export function mergeJson(
  ours: string,
  base: string | undefined,
  theirs: string,
): JsonMerge | undefined {
  const o = parse(ours);
  const t = parse(theirs);
  const b = base === undefined ? ({ ok: true, value: undefined } as const) : parse(base);
  if (!o.ok || !t.ok || !b.ok) return undefined;
  const conflicts: string[] = [];
  const value = mergeValue(b.value, o.value, t.value, '', conflicts);
  if (conflicts.length > 0) return { text: undefined, conflicts };
  if (equal(value, o.value)) return { text: ours, conflicts };
  if (equal(value, t.value)) return { text: theirs, conflicts };
  const indent = /^([ \t]+)"/m.exec(ours)?.[1] ?? '  ';
  const eol = ours.endsWith('\n') ? '\n' : '';
  return { text: `${JSON.stringify(value, null, indent)}${eol}`, conflicts };
}
