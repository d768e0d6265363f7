/**
 * Text edits to a JSON object or array that keep the layout around them: removing properties
 * with their commas, inserting properties with the separator the object already uses, and
 * rewriting an array of plain values inline or one item per line, as it was.
 */
import type { Edit, Node } from 'jsonc-parser';
import { type Layout, lineIndent } from './json-layout.js';

interface Doc {
  readonly text: string;
  readonly layout: Layout;
}

const end = (n: Node) => n.offset + n.length;

/** Removes the properties at `removed` (indexes into `props`), a run of neighbours at a time. */
export function removalEdits(
  o: Node,
  props: readonly Node[],
  removed: ReadonlySet<number>,
): Edit[] {
  const edits: Edit[] = [];
  for (let i = 0; i < props.length; i++) {
    if (!removed.has(i)) continue;
    let j = i;
    while (removed.has(j + 1)) j++;
    if (i > 0) {
      // From the end of the property before (its comma goes) to the end of the run.
      edits.push({
        offset: end(props[i - 1]!),
        length: end(props[j]!) - end(props[i - 1]!),
        content: '',
      });
    } else if (j < props.length - 1) {
      edits.push({
        offset: props[0]!.offset,
        length: props[j + 1]!.offset - props[0]!.offset,
        content: '',
      });
    } else {
      edits.push({ offset: o.offset + 1, length: o.length - 2, content: '' });
    }
    i = j;
  }
  return edits;
}

/** What the object puts between two properties after the comma: a newline and indent, or a space. */
function separator(doc: Doc, o: Node, props: readonly Node[]): string {
  const between =
    props.length >= 2
      ? doc.text.slice(end(props[0]!), props[1]!.offset)
      : doc.text.slice(o.offset + 1, props[0]!.offset);
  const ws = /\s*$/.exec(between)![0];
  return props.length >= 2 || ws.includes('\n') ? ws : ' ';
}

/**
 * Inserts `groups` of property texts: each after the property at its index, or before the first
 * one (index -1). `props` must not be empty.
 */
export function insertionEdits(
  doc: Doc,
  o: Node,
  props: readonly Node[],
  groups: ReadonlyMap<number, readonly string[]>,
): Edit[] {
  const sep = separator(doc, o, props);
  return [...groups].map(([anchor, entries]) =>
    anchor >= 0
      ? {
          offset: end(props[anchor]!),
          length: 0,
          content: entries.map((e) => `,${sep}${e}`).join(''),
        }
      : {
          offset: props[0]!.offset,
          length: 0,
          content: entries.map((e) => `${e},${sep}`).join(''),
        },
  );
}

/** An object of `entries` in place of `o`, one per line when the template's object is so. */
export function objectText(
  doc: Doc,
  o: Node,
  t: Node,
  theirs: Doc,
  entries: readonly string[],
): string {
  if (entries.length === 0) return '{}';
  if (!theirs.text.slice(t.offset, end(t)).includes('\n')) return `{ ${entries.join(', ')} }`;
  const indent = lineIndent(doc.text, o.offset);
  return `{\n${entries.map((e) => `${indent}${doc.layout.unit}${e}`).join(',\n')}\n${indent}}`;
}

/** The array `o` with `items` (texts), laid out as `o` is: inline, or one item per line. */
export function arrayText(doc: Doc, o: Node, items: readonly string[]): string {
  const text = doc.text;
  const children = o.children ?? [];
  if (items.length === 0) return '[]';
  if (!text.slice(o.offset, end(o)).includes('\n')) {
    const first = children[0];
    const last = children[children.length - 1];
    const open = first ? text.slice(o.offset + 1, first.offset) : '';
    const close = last ? text.slice(end(last), end(o) - 1) : '';
    const sep = children.length >= 2 ? text.slice(end(children[0]!), children[1]!.offset) : ', ';
    return `[${open}${items.join(sep)}${close}]`;
  }
  const itemIndent = children[0]
    ? lineIndent(text, children[0].offset)
    : `${lineIndent(text, o.offset)}${doc.layout.unit}`;
  const closeIndent = lineIndent(text, end(o) - 1);
  return `[\n${items.map((i) => `${itemIndent}${i}`).join(',\n')}\n${closeIndent}]`;
}
