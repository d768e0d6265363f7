/**
 * Line endings. The merge compares and merges text with `\n` line endings, whatever the working
 * copy uses (a Windows checkout with `core.autocrlf=true` holds CRLF files whose bytes differ from
 * the LF render the manifest hashed); each file is written back in the ending its working copy
 * uses, and a new file in the ending git would check it out with (`.gitattributes`,
 * `core.autocrlf`, `core.eol`).
 */
import { spawnSync } from 'node:child_process';
import { sha256 } from '../record/record.js';
import { isText } from './snapshot.js';

export type Eol = '\n' | '\r\n';

/** The content with `\n` line endings (binary content unchanged). */
export function toLf(content: Buffer): Buffer {
  if (!content.includes(13) || !isText(content)) return content;
  return Buffer.from(content.toString('utf8').replace(/\r\n/g, '\n'), 'utf8');
}

/** Is `content` the content the manifest hashed as `recorded`, line endings aside? */
export function matchesRecorded(content: Buffer, recorded: string | undefined): boolean {
  if (recorded === undefined) return false;
  return sha256(content) === recorded || sha256(toLf(content)) === recorded;
}

/** The line ending a text uses (the more frequent one); undefined: no line break, or binary. */
export function eolOf(content: Buffer): Eol | undefined {
  if (!content.includes(10) || !isText(content)) return undefined;
  const text = content.toString('utf8');
  const lines = (text.match(/\n/g) ?? []).length;
  const crlf = (text.match(/\r\n/g) ?? []).length;
  return crlf * 2 > lines ? '\r\n' : '\n';
}

/** The content with every line ending `eol` (binary content unchanged). */
export function withEol(content: Buffer, eol: Eol | undefined): Buffer {
  if (eol === undefined || !isText(content)) return content;
  const lf = toLf(content);
  if (eol === '\n') return lf;
  return Buffer.from(lf.toString('utf8').replace(/\n/g, '\r\n'), 'utf8');
}

/** Decides the line ending of a file the upgrade creates: undefined keeps the rendered bytes. */
export type EolPolicy = (path: string) => Eol | undefined;

export const keepEol: EolPolicy = () => undefined;

/**
 * The ending git would check each path out with in the repository at `root`: `-text` or binary
 * keeps the bytes; `eol=crlf|lf` wins; then `core.autocrlf=true` gives CRLF, `input`/`false` LF
 * unless `text` is set and `core.eol=crlf`. Outside git, the rendered bytes (LF).
 */
export function gitEolPolicy(root: string, paths: readonly string[]): EolPolicy {
  const git = (args: string[], input?: string) =>
    spawnSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  const inside = git(['rev-parse', '--is-inside-work-tree']);
  if (inside.error || inside.status !== 0) return keepEol;
  const config = (key: string) => git(['config', '--get', key]).stdout.trim().toLowerCase();
  const autocrlf = config('core.autocrlf');
  const coreEol = config('core.eol');
  const attrs = new Map<string, { text?: string; eol?: string }>();
  if (paths.length > 0) {
    const out = git(
      ['check-attr', '-z', '--stdin', 'text', 'eol'],
      paths.map((p) => `${p}\0`).join(''),
    );
    const parts = out.stdout.split('\0');
    for (let i = 0; i + 2 < parts.length; i += 3) {
      const [path, attr, value] = [parts[i]!, parts[i + 1]!, parts[i + 2]!];
      const entry = attrs.get(path) ?? {};
      if (attr === 'text' || attr === 'eol') entry[attr] = value;
      attrs.set(path, entry);
    }
  }
  return (path) => {
    const { text = 'unspecified', eol = 'unspecified' } = attrs.get(path) ?? {};
    if (text === 'unset') return undefined;
    if (eol === 'crlf') return '\r\n';
    if (eol === 'lf') return '\n';
    if (autocrlf === 'true') return '\r\n';
    if ((text === 'set' || text === 'auto') && coreEol === 'crlf') return '\r\n';
    return undefined;
  };
}
