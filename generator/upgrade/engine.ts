/**
 * The merge engine: given the recorded render (hashes, and the contents the base could supply),
 * the new render and the user's files, decides per file what `upgrade` writes. Pure: it reads
 * nothing and writes nothing, so every decision is testable on maps.
 */
import { posix } from 'node:path';
import { sha256 } from '../record/record.js';
import { mergeJson } from './json.js';
import { isText } from './snapshot.js';
import { type MergeLabels, mergeText, similarity } from './text.js';

export interface FileState {
  readonly content: Buffer;
  /** Permission bits (0o644, 0o755). */
  readonly mode: number;
}

export type FileAction =
  /** Added by the template. */
  | 'created'
  /** Unedited by the user: replaced by the new render. */
  | 'updated'
  /** Edited on both sides; merged (see `conflict`). */
  | 'merged'
  /** Moved by the template; the user's edits went with it. */
  | 'renamed'
  /** Removed from the template and unedited: deleted. */
  | 'deleted'
  /** Removed from the template but edited by the user: kept, for the user to delete. */
  | 'pending-delete'
  /** Deleted by the user, changed by the template: stays deleted. */
  | 'kept-deleted'
  /** A lockfile: never merged; regenerate it with the package manager. */
  | 'regenerate';

export interface FileChange {
  readonly path: string;
  readonly action: FileAction;
  /** The old path of a renamed file. */
  readonly from?: string;
  /** How the content was merged. */
  readonly method?: 'json' | 'text' | 'binary';
  /** Present when the file needs the user: conflict blocks, JSON paths, a side file. */
  readonly conflict?: { blocks?: number; keys?: string[]; sideFile?: string; noBase?: boolean };
  readonly note?: string;
}

export interface EngineInput {
  /** The last render's files (manifest, without the records): path -> sha256. */
  readonly recorded: ReadonlyMap<string, string>;
  /** Verified base contents (the last render's bytes), where known. */
  readonly base: ReadonlyMap<string, Buffer>;
  /** The new render, without the records. */
  readonly next: ReadonlyMap<string, FileState>;
  /** The user's files at the recorded and new paths (absent: not on disk). */
  readonly working: ReadonlyMap<string, FileState>;
  readonly labels: MergeLabels;
}

export interface EnginePlan {
  readonly changes: FileChange[];
  readonly writes: Map<string, FileState>;
  readonly deletes: string[];
}

export const lockfiles: ReadonlySet<string> = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
]);
export const isLockfile = (path: string) => lockfiles.has(posix.basename(path));
export const sideFileSuffix = '.mlops-new';

interface Merged {
  readonly content: Buffer;
  readonly method: 'json' | 'text' | 'binary';
  readonly conflict?: FileChange['conflict'];
  readonly side?: Buffer;
}

/** Three-way merge of one file's contents; `base` undefined: no base (both added, or unknown). */
export function mergeContents(
  path: string,
  base: Buffer | undefined,
  ours: Buffer,
  theirs: Buffer,
  labels: MergeLabels,
): Merged {
  const noBase = base === undefined;
  if (!isText(ours) || !isText(theirs) || (base && !isText(base))) {
    return {
      content: ours,
      method: 'binary',
      conflict: { sideFile: `${path}${sideFileSuffix}`, ...(noBase ? { noBase } : {}) },
      side: theirs,
    };
  }
  const o = ours.toString('utf8');
  const t = theirs.toString('utf8');
  const b = base?.toString('utf8');
  let keys: string[] | undefined;
  if (path.endsWith('.json')) {
    const json = mergeJson(o, b, t);
    if (json?.text !== undefined) return { content: Buffer.from(json.text), method: 'json' };
    keys = json?.conflicts;
  }
  const text = mergeText(o, b ?? '', t, labels);
  return {
    content: Buffer.from(text.text),
    method: keys ? 'json' : 'text',
    ...(text.conflicts > 0
      ? {
          conflict: {
            blocks: text.conflicts,
            ...(keys ? { keys } : {}),
            ...(noBase ? { noBase } : {}),
          },
        }
      : {}),
  };
}

export function planUpgrade(input: EngineInput): EnginePlan {
  const { recorded, next, working, labels } = input;
  const changes: FileChange[] = [];
  const writes = new Map<string, FileState>();
  const deletes: string[] = [];
  const hashOf = (s: FileState | undefined) => (s ? sha256(s.content) : undefined);
  /** The base content: the verified render, or the user's file when it is still unedited. */
  const baseOf = (path: string): Buffer | undefined => {
    const known = input.base.get(path);
    if (known) return known;
    const w = working.get(path);
    return w && hashOf(w) === recorded.get(path) ? w.content : undefined;
  };

  const merge = (path: string, from: string, w: FileState, n: FileState) => {
    const m = mergeContents(path, baseOf(from), w.content, n.content, labels);
    if (m.side) writes.set(`${path}${sideFileSuffix}`, { content: m.side, mode: n.mode });
    if (from !== path || !m.content.equals(w.content)) {
      writes.set(path, { content: m.content, mode: w.mode });
    }
    return m;
  };

  /** Both sides changed `path` in place: merge it, except lockfiles, which npm regenerates. */
  const mergeInPlace = (path: string, w: FileState, n: FileState, note?: string) => {
    if (isLockfile(path)) {
      changes.push({ path, action: 'regenerate', note: 'lockfiles are never merged' });
      return;
    }
    const m = merge(path, path, w, n);
    changes.push({
      path,
      action: 'merged',
      method: m.method,
      ...(note ? { note } : {}),
      ...(m.conflict ? { conflict: m.conflict } : {}),
    });
  };

  // Renames: a file the template removed whose base content is most like a file it added.
  const removed = [...recorded.keys()].filter((p) => !next.has(p));
  const added = [...next.keys()].filter((p) => !recorded.has(p) && !working.has(p));
  const candidates: Array<{ from: string; to: string; score: number }> = [];
  for (const from of removed) {
    const b = baseOf(from);
    if (!b || !isText(b)) continue;
    for (const to of added) {
      const n = next.get(to)!.content;
      if (!isText(n)) continue;
      const score = similarity(b.toString('utf8'), n.toString('utf8'));
      if (score >= 0.5) candidates.push({ from, to, score });
    }
  }
  candidates.sort((x, y) => y.score - x.score || x.from.localeCompare(y.from));
  const renamedFrom = new Map<string, string>();
  const renamedTo = new Set<string>();
  for (const c of candidates) {
    if (renamedFrom.has(c.from) || renamedTo.has(c.to)) continue;
    renamedFrom.set(c.from, c.to);
    renamedTo.add(c.to);
  }

  for (const [from, to] of [...renamedFrom].sort(([a], [b]) => a.localeCompare(b))) {
    const w = working.get(from);
    const n = next.get(to)!;
    if (!w) {
      changes.push({
        path: to,
        from,
        action: 'kept-deleted',
        note: 'you deleted it; the template moved it here',
      });
      continue;
    }
    deletes.push(from);
    if (hashOf(w) === recorded.get(from)) {
      writes.set(to, n);
      changes.push({ path: to, from, action: 'renamed' });
      continue;
    }
    const m = merge(to, from, w, n);
    changes.push({
      path: to,
      from,
      action: 'renamed',
      method: m.method,
      ...(m.conflict ? { conflict: m.conflict } : {}),
    });
  }

  const paths = [...new Set([...recorded.keys(), ...next.keys()])].sort();
  for (const path of paths) {
    if (renamedFrom.has(path) || renamedTo.has(path)) continue;
    const old = recorded.get(path);
    const n = next.get(path);
    const w = working.get(path);
    const wHash = hashOf(w);
    const nHash = hashOf(n);
    if (old !== undefined && n) {
      if (!w) {
        if (nHash !== old)
          changes.push({
            path,
            action: 'kept-deleted',
            note: 'you deleted it; the template changed it',
          });
        continue;
      }
      if (wHash === nHash || nHash === old) continue; // nothing new, or only the user's edits
      if (wHash === old) {
        writes.set(path, { content: n.content, mode: w.mode });
        changes.push({ path, action: 'updated' });
        continue;
      }
      mergeInPlace(path, w, n);
      continue;
    }
    if (old !== undefined) {
      // Removed from the template.
      if (!w) continue;
      if (wHash === old) {
        deletes.push(path);
        changes.push({ path, action: 'deleted' });
      } else {
        changes.push({
          path,
          action: 'pending-delete',
          note: 'the template no longer has it; you edited it, so it stays: delete it when done',
        });
      }
      continue;
    }
    // Added by the template.
    if (!n) continue;
    if (!w) {
      writes.set(path, n);
      changes.push({ path, action: 'created' });
      continue;
    }
    if (wHash === nHash) continue;
    mergeInPlace(path, w, n, 'you and the template both added it');
  }
  changes.sort((a, b) => a.path.localeCompare(b.path));
  return { changes, writes, deletes: deletes.sort() };
}
