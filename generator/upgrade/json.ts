/**
 * Structured three-way merge of JSON documents (package.json, tsconfig.json, ...), key by key,
 * written as edits to the user's own text (docs/adr/0010-renames-and-json-merge-in-upgrade.md).
 *
 * Per value: both sides equal -> the user's; two objects -> merged key by key; one side unchanged
 * from the base -> the other side's; two arrays of plain values -> the items each side added or
 * removed; anything else changed differently on both sides is a conflict at that key only.
 *
 * Layout: the user's text is edited with jsonc-parser's parse tree and `applyEdits`, never
 * re-serialized: their key order, indentation, inline arrays and comments stay. A new key goes
 * after the key that precedes it in the template (or first); a changed value takes the template's
 * text, re-indented; a conflict becomes a marker block around the lines of that key alone, and
 * every other change in the file is merged.
 */
import { type Edit, type Node, applyEdits, getNodeValue, parseTree } from 'jsonc-parser';
import type { MergeLabels } from './text.js';
import { type Json, type Layout, equal, isPlain, layoutOf, reindent } from './json-layout.js';
import { arrayText, insertionEdits, objectText, removalEdits } from './json-edits.js';

export interface JsonMerge {
  /** The merged text: the user's text with the changes edited in, conflicts in marker blocks. */
  readonly text: string;
  /** The keys both sides changed differently, e.g. `dependencies.pino`. */
  readonly conflicts: string[];
  /** Marker blocks written (conflicts on the same lines share one). */
  readonly blocks: number;
  /** Keys left as the user had them though the template changed or removed them. */
  readonly kept: string[];
}

interface Doc {
  readonly text: string;
  readonly root: Node;
  readonly layout: Layout;
}

interface Conflict {
  readonly path: string;
  readonly ours: Node;
  readonly theirs: Node;
  readonly base: Node | undefined;
}

interface Context {
  readonly ours: Doc;
  readonly theirs: Doc;
  readonly base: Doc | undefined;
  readonly edits: Edit[];
  readonly conflicts: Conflict[];
  readonly kept: string[];
}

const childPath = (path: string, key: string) =>
  path ? `${path}.${/^[\w@/-]+$/.test(key) ? key : JSON.stringify(key)}` : key;

function parseDoc(text: string, allowComments: boolean): Doc | undefined {
  const errors: Array<unknown> = [];
  const root = parseTree(text, errors as never, {
    disallowComments: !allowComments,
    allowTrailingComma: allowComments,
  });
  if (!root || errors.length > 0) return undefined;
  return { text, root, layout: layoutOf(text) };
}

/** The text of `node` in `from`, re-indented to sit at `at` in the user's text. */
function textFor(ctx: Context, from: Doc, node: Node, at: number): string {
  return reindent(
    from.text.slice(node.offset, node.offset + node.length),
    from,
    node.offset,
    ctx.ours,
    at,
  );
}

function mergeNode(ctx: Context, b: Node | undefined, o: Node, t: Node, path: string): Json {
  const ov = getNodeValue(o) as Json;
  const tv = getNodeValue(t) as Json;
  const bv = b === undefined ? undefined : (getNodeValue(b) as Json);
  if (equal(ov, tv)) return ov;
  if (o.type === 'object' && t.type === 'object' && (b === undefined || b.type === 'object')) {
    return mergeObject(ctx, b, o, t, path);
  }
  if (b !== undefined && equal(bv, tv)) return ov;
  const plainArrays =
    Array.isArray(ov) &&
    Array.isArray(tv) &&
    (bv === undefined || Array.isArray(bv)) &&
    [...ov, ...tv, ...(bv ?? [])].every(isPlain);
  if (plainArrays) return mergeArray(ctx, (bv as Json[] | undefined) ?? [], o, t);
  if (b !== undefined && equal(bv, ov)) {
    ctx.edits.push({
      offset: o.offset,
      length: o.length,
      content: textFor(ctx, ctx.theirs, t, o.offset),
    });
    return tv;
  }
  ctx.conflicts.push({ path: path || '(document)', ours: o, theirs: t, base: b });
  return ov;
}

/** The items the template added or removed, in the user's array, laid out like it. */
function mergeArray(ctx: Context, base: Json[], o: Node, t: Node): Json {
  const items = o.children ?? [];
  const theirs = t.children ?? [];
  const has = (list: Json[], x: Json) => list.some((y) => equal(x, y));
  const tv = theirs.map((n) => getNodeValue(n) as Json);
  const kept = items.filter((n) => {
    const v = getNodeValue(n) as Json;
    return !(has(base, v) && !has(tv, v));
  });
  const keptValues = kept.map((n) => getNodeValue(n) as Json);
  const added = theirs.filter((n, i) => !has(base, tv[i]!) && !has(keptValues, tv[i]!));
  const value = [...keptValues, ...added.map((n) => getNodeValue(n) as Json)];
  if (kept.length === items.length && added.length === 0) return value;
  const texts = [
    ...kept.map((n) => ctx.ours.text.slice(n.offset, n.offset + n.length)),
    ...added.map((n) => ctx.theirs.text.slice(n.offset, n.offset + n.length)),
  ];
  ctx.edits.push({ offset: o.offset, length: o.length, content: arrayText(ctx.ours, o, texts) });
  return value;
}

const keyOf = (property: Node) => property.children![0]!.value as string;
const valueOf = (property: Node) => property.children![1]!;
function byKey(node: Node | undefined): Map<string, Node> {
  return new Map(
    (node?.children ?? [])
      .filter((p) => p.children?.length === 2)
      .map((p) => [keyOf(p), valueOf(p)]),
  );
}

function mergeObject(ctx: Context, b: Node | undefined, o: Node, t: Node, path: string): Json {
  const props = (o.children ?? []).filter((p) => p.children?.length === 2);
  const theirs = byKey(t);
  const base = byKey(b);
  const out: Record<string, Json> = {};
  const removed = new Set<number>();
  props.forEach((p, i) => {
    const key = keyOf(p);
    const at = childPath(path, key);
    const tNode = theirs.get(key);
    const bNode = base.get(key);
    if (tNode) out[key] = mergeNode(ctx, bNode, valueOf(p), tNode, at);
    else if (!bNode) out[key] = getNodeValue(valueOf(p)) as Json;
    else if (equal(getNodeValue(bNode) as Json, getNodeValue(valueOf(p)) as Json)) removed.add(i);
    else {
      ctx.kept.push(`${at} (the template removed it)`);
      out[key] = getNodeValue(valueOf(p)) as Json;
    }
  });
  // The template's new keys, grouped by the user's key they follow (-1: before the first).
  const index = new Map(props.map((p, i) => [keyOf(p), i]));
  const groups = new Map<number, Array<[string, Node]>>();
  let anchor = -1;
  for (const [key, tNode] of theirs) {
    const i = index.get(key);
    if (i !== undefined) {
      if (!removed.has(i)) anchor = i;
      continue;
    }
    const bNode = base.get(key);
    if (bNode) {
      if (!equal(getNodeValue(bNode) as Json, getNodeValue(tNode) as Json))
        ctx.kept.push(`${childPath(path, key)} (you removed it; the template changed it)`);
      continue;
    }
    groups.set(anchor, [...(groups.get(anchor) ?? []), [key, tNode]]);
    out[key] = getNodeValue(tNode) as Json;
  }
  if (removed.size === 0 && groups.size === 0) return out;
  const entry = ([key, tNode]: [string, Node]) => {
    const at = props[0] ? props[0].offset : o.offset + 1;
    return `${JSON.stringify(key)}: ${textFor(ctx, ctx.theirs, tNode, at)}`;
  };
  if (removed.size === props.length) {
    // Nothing of the user's object is left: write the template's new keys in its place.
    const entries = [...groups.values()].flat().map(entry);
    ctx.edits.push({
      offset: o.offset,
      length: o.length,
      content: objectText(ctx.ours, o, t, ctx.theirs, entries),
    });
    return out;
  }
  ctx.edits.push(...removalEdits(o, props, removed));
  ctx.edits.push(
    ...insertionEdits(ctx.ours, o, props, new Map([...groups].map(([a, g]) => [a, g.map(entry)]))),
  );
  return out;
}

/** The line range [start, end) of a conflict: the lines its key and value are on. */
function linesOf(text: string, c: Conflict): [number, number] {
  const from = c.ours.parent?.type === 'property' ? c.ours.parent.offset : c.ours.offset;
  const start = text.lastIndexOf('\n', from - 1) + 1;
  const nl = text.indexOf('\n', c.ours.offset + c.ours.length);
  return [start, nl < 0 ? text.length : nl + 1];
}

/** Replaces the lines of each conflict (and of the clean edits on them) by a marker block. */
function conflictEdits(ctx: Context, labels: MergeLabels): Edit[] | undefined {
  const text = ctx.ours.text;
  const ranges = ctx.conflicts
    .map((c) => ({ c, range: linesOf(text, c) }))
    .sort((x, y) => x.range[0] - y.range[0]);
  const groups: Array<{ start: number; end: number; conflicts: Conflict[] }> = [];
  for (const { c, range } of ranges) {
    const last = groups[groups.length - 1];
    if (last && range[0] < last.end) {
      last.end = Math.max(last.end, range[1]);
      last.conflicts.push(c);
    } else groups.push({ start: range[0], end: range[1], conflicts: [c] });
  }
  const out: Edit[] = [];
  for (const g of groups) {
    const inside = ctx.edits.filter((e) => e.offset >= g.start && e.offset + e.length <= g.end);
    if (
      ctx.edits.some(
        (e) => !inside.includes(e) && e.offset < g.end && e.offset + e.length > g.start,
      )
    ) {
      return undefined;
    }
    const shift = (e: Edit) => ({ ...e, offset: e.offset - g.start });
    const segment = text.slice(g.start, g.end);
    const variant = (side: 'theirs' | 'base') =>
      applyEdits(segment, [
        ...inside.map(shift),
        ...g.conflicts.map((c) =>
          shift({
            offset: c.ours.offset,
            length: c.ours.length,
            content: textFor(ctx, ctx[side]!, c[side]!, c.ours.offset),
          }),
        ),
      ]);
    const base = ctx.base && g.conflicts.every((c) => c.base) ? variant('base') : '';
    const nl = (s: string) => (s === '' || s.endsWith('\n') ? s : `${s}\n`);
    const content =
      `<<<<<<< ${labels.ours}\n${nl(applyEdits(segment, inside.map(shift)))}` +
      `||||||| ${labels.base}\n${nl(base)}=======\n${nl(variant('theirs'))}>>>>>>> ${labels.theirs}\n`;
    for (const e of inside) ctx.edits.splice(ctx.edits.indexOf(e), 1);
    out.push({ offset: g.start, length: g.end - g.start, content });
  }
  return out;
}

/**
 * Merges base -> theirs into ours; `undefined` when the structured merge does not apply (a side
 * is not JSON, the template's side has comments, the documents' types differ at the top), and the
 * caller falls back to the line merge. `base` undefined: both sides added the file.
 */
export function mergeJson(
  ours: string,
  base: string | undefined,
  theirs: string,
  labels: MergeLabels,
): JsonMerge | undefined {
  const o = parseDoc(ours, true);
  const t = parseDoc(theirs, false);
  const b = base === undefined ? undefined : parseDoc(base, false);
  if (!o || !t || (base !== undefined && !b)) return undefined;
  const ctx: Context = { ours: o, theirs: t, base: b, edits: [], conflicts: [], kept: [] };
  const expected = mergeNode(ctx, b?.root, o.root, t.root, '');
  if (ctx.conflicts.some((c) => c.path === '(document)')) return undefined;
  // The clean edits must give the merged value; if they do not, the line merge is safer.
  const clean = applyEdits(ours, ctx.edits);
  const check = parseDoc(clean, true);
  if (!check || !equal(getNodeValue(check.root) as Json, expected)) return undefined;
  const blocks = conflictEdits(ctx, labels);
  if (!blocks) return undefined;
  return {
    text: applyEdits(ours, [...ctx.edits, ...blocks]),
    conflicts: ctx.conflicts.map((c) => c.path),
    blocks: blocks.length,
    kept: ctx.kept,
  };
}
