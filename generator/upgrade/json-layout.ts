/** JSON values compared by meaning, and the layout (indentation) of a JSON text. */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const isObject = (v: unknown): v is { [key: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const isPlain = (v: unknown) =>
  v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Equal values; key order does not matter. */
export function equal(a: Json | undefined, b: Json | undefined): boolean {
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

export interface Layout {
  /** One level of indentation (two spaces, four, a tab). */
  readonly unit: string;
}

export function layoutOf(text: string): Layout {
  return { unit: /^([ \t]+)["/}\]]/m.exec(text)?.[1] ?? '  ' };
}

/** The indentation of the line `offset` is on. */
export function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/**
 * A value's text taken from one document (`from`, at `fromOffset`) and moved to another (`to`, at
 * `toOffset`): its second and later lines are re-indented to the new place, in the new unit.
 */
export function reindent(
  value: string,
  from: { readonly text: string; readonly layout: Layout },
  fromOffset: number,
  to: { readonly text: string; readonly layout: Layout },
  toOffset: number,
): string {
  if (!value.includes('\n')) return value;
  const fromIndent = lineIndent(from.text, fromOffset);
  const toIndent = lineIndent(to.text, toOffset);
  const unit = from.layout.unit;
  const [first, ...rest] = value.split('\n');
  const moved = rest.map((line) => {
    if (!line.startsWith(fromIndent)) return line;
    let body = line.slice(fromIndent.length);
    let levels = 0;
    while (unit && body.startsWith(unit)) {
      body = body.slice(unit.length);
      levels++;
    }
    return `${toIndent}${to.layout.unit.repeat(levels)}${body}`;
  });
  return [first, ...moved].join('\n');
}
