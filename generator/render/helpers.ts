/**
 * Handlebars helpers for templates. Free text from the user only ever reaches a file through one
 * of the embedding helpers, each of which makes it inert in its target language:
 *
 *   {{{json value}}}        JSON (also valid YAML flow and a TypeScript expression)
 *   {{{yamlString text}}}   a YAML double-quoted scalar
 *   {{{tsString text}}}     a TypeScript/JavaScript string literal
 *   {{md text}}             Markdown text with no active syntax (and no HTML)
 *   {{shellWord text}}      one POSIX shell word
 *
 * Case helpers (camelCase, pascalCase, snakeCase, constantCase, kebabCase...) come from node-plop.
 */
import Handlebars from 'handlebars';

/** JSON that is safe inside HTML/script contexts too: no `</`, no line/paragraph separators. */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A double-quoted scalar: JSON's string syntax is a subset of YAML's. */
export function yamlString(text: unknown): string {
  return safeJson(String(text));
}

/** A TypeScript string literal (also closes template-literal and `${` tricks: it is not a template). */
export function tsString(text: unknown): string {
  return safeJson(String(text));
}

/** Markdown text: every punctuation character that could start syntax is backslash-escaped. */
export function markdownText(text: unknown): string {
  return String(text)
    .replace(/[\\`*_{}[\]()#+\-.!|<>~=:&"']/g, (c) => {
      if (c === '<') return '&lt;';
      if (c === '>') return '&gt;';
      if (c === '&') return '&amp;';
      if (c === '"') return '&quot;';
      if (c === "'") return '&#39;';
      return `\\${c}`;
    })
    .replace(/[\r\n]+/g, ' ');
}

export function shellWord(text: unknown): string {
  const s = String(text);
  return /^[\w./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

type Helper = (...args: unknown[]) => unknown;

/** Strip Handlebars' trailing options argument. */
const args = (a: unknown[]) => a.slice(0, -1);

export const templateHelpers: Record<string, Helper> = {
  json: (...a) => {
    const [value, indent] = args(a);
    return safeJson(value, typeof indent === 'number' ? indent : undefined);
  },
  yamlString: (...a) => yamlString(args(a)[0]),
  tsString: (...a) => tsString(args(a)[0]),
  md: (...a) => new Handlebars.SafeString(markdownText(args(a)[0])),
  shellWord: (...a) => new Handlebars.SafeString(shellWord(args(a)[0])),
  eq: (...a) => {
    const [x, y] = args(a);
    return x === y;
  },
  or: (...a) => args(a).some(Boolean),
  and: (...a) => args(a).every(Boolean),
  not: (...a) => !args(a)[0],
  featureNames: (...a) => (args(a)[0] as Array<{ name: string }>).map((f) => f.name),
  includes: (...a) => {
    const [list, item] = args(a);
    return Array.isArray(list) && list.includes(item);
  },
};
