/**
 * The merge engine: given the recorded render (hashes, and the contents the base could supply),
 * the new render and the user's files, decides per file what `upgrade` writes. Pure: it reads
 * nothing and writes nothing, so every decision is testable on maps.
 */
import { posix } from 'node:path';
import { type EolPolicy, eolOf, matchesRecorded, toLf, withEol } from './eol.js';
import { mergeJson } from './json.js';
import { isText } from './snapshot.js';
import { type MergeLabels, mergeText } from './text.js';

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
  /** The last render's executable files (the manifest's `executables`). */
  readonly recordedExecutables?: ReadonlySet<string>;
  /** Verified base contents (the last render's bytes), where known. */
  readonly base: ReadonlyMap<string, Buffer>;
  /** The new render, without the records. */
  readonly next: ReadonlyMap<string, FileState>;
  /** The user's files at the recorded and new paths (absent: not on disk). */
  readonly working: ReadonlyMap<string, FileState>;
  readonly labels: MergeLabels;
  /** What the template itself moved: old path -> new path (see renames.ts). */
  readonly renames?: ReadonlyMap<string, string>;
  /** Why a recorded path is no longer rendered, when a changed answer dropped it. */
  readonly removedBy?: ReadonlyMap<string, string>;
  /** The line ending of a file the upgrade creates (default: as rendered). */
  readonly eolFor?: EolPolicy;
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
  readonly note?: string;
}

/**
 * Three-way merge of one file's contents, given with `\n` line endings; `base` undefined: no
 * base (both added, or unknown). JSON is merged key by key on the user's own text (json.ts).
 */
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
  const json = /\.json$/.test(path) ? mergeJson(o, b, t, labels) : undefined;
  if (json) {
    return {
      content: Buffer.from(json.text),
      method: 'json',
      ...(json.conflicts.length > 0
        ? {
            conflict: { blocks: json.blocks, keys: json.conflicts, ...(noBase ? { noBase } : {}) },
          }
        : {}),
      ...(json.kept.length > 0 ? { note: `kept as you left them: ${json.kept.join(', ')}` } : {}),
    };
  }
  const text = mergeText(o, b ?? '', t, labels);
  return {
    content: Buffer.from(text.text),
    method: 'text',
    ...(text.conflicts > 0
      ? { conflict: { blocks: text.conflicts, ...(noBase ? { noBase } : {}) } }
      : {}),
  };
}

const isExecutable = (mode: number) => (mode & 0o111) !== 0;
const withExecutable = (mode: number, on: boolean) =>
  on ? mode | ((mode & 0o444) >> 2) | 0o100 : mode & ~0o111;
const octal = (mode: number) => (mode & 0o777).toString(8);

/**
 * Decides, file by file, what the upgrade writes and deletes. Contents are compared and merged
 * with `\n` line endings and written back in the ending of the user's copy; the executable bit
 * is merged three-way like the content.
 */
export function planUpgrade(input: EngineInput): EnginePlan {
  return new Planner(input).plan();
}

class Planner {
  private readonly changes: FileChange[] = [];
  private readonly writes = new Map<string, FileState>();
  private readonly deletes: string[] = [];
  private readonly renames: ReadonlyMap<string, string>;

  constructor(private readonly input: EngineInput) {
    const { working } = input;
    // A rename onto a path the user already has a file at is no rename: both are decided in place.
    this.renames = new Map(
      [...(input.renames ?? [])].filter(([from, to]) => from !== to && !working.has(to)),
    );
  }

  plan(): EnginePlan {
    const { recorded, next } = this.input;
    const renamedTo = new Set(this.renames.values());
    for (const [from, to] of [...this.renames].sort(([a], [b]) => a.localeCompare(b))) {
      this.renamed(from, to);
    }
    const paths = [...new Set([...recorded.keys(), ...next.keys()])].sort();
    for (const path of paths) {
      if (this.renames.has(path) || renamedTo.has(path)) continue;
      const n = next.get(path);
      if (recorded.has(path) && n) this.inPlace(path, n);
      else if (recorded.has(path)) this.removed(path);
      else if (n) this.added(path, n);
    }
    this.changes.sort((a, b) => a.path.localeCompare(b.path));
    return { changes: this.changes, writes: this.writes, deletes: this.deletes.sort() };
  }

  /** The last render's content, with `\n` endings: the verified base, or the unedited user file. */
  private baseOf(path: string): Buffer | undefined {
    const known = this.input.base.get(path);
    if (known) return toLf(known);
    const w = this.input.working.get(path);
    return w && this.unedited(path, w) ? toLf(w.content) : undefined;
  }

  /** Is this content what the last render wrote at `path`, line endings aside? */
  private asRecorded(path: string, content: Buffer): boolean {
    if (matchesRecorded(content, this.input.recorded.get(path))) return true;
    const known = this.input.base.get(path);
    return known !== undefined && toLf(known).equals(toLf(content));
  }

  private unedited(path: string, w: FileState): boolean {
    return this.asRecorded(path, w.content);
  }

  /** The mode to write: the template's executable bit when it changed it and the user did not. */
  private modeOf(path: string, w: FileState, n: FileState): number {
    const before = this.input.recordedExecutables?.has(path) ?? false;
    const template = isExecutable(n.mode);
    if (template !== before && isExecutable(w.mode) === before) {
      return withExecutable(w.mode, template);
    }
    return w.mode;
  }

  /** Writes `content` (with `\n` endings) in the ending of the user's copy, or git's for a new file. */
  private write(path: string, content: Buffer, mode: number, working?: FileState) {
    const eol = (working && eolOf(working.content)) ?? this.input.eolFor?.(path);
    this.writes.set(path, { content: withEol(content, eol), mode });
  }

  private merge(path: string, from: string, w: FileState, n: FileState): Merged {
    const m = mergeContents(
      path,
      this.baseOf(from),
      toLf(w.content),
      toLf(n.content),
      this.input.labels,
    );
    if (m.side) this.writes.set(`${path}${sideFileSuffix}`, { content: m.side, mode: n.mode });
    const mode = this.modeOf(from, w, n);
    const merged = withEol(m.content, eolOf(w.content));
    if (from !== path || !merged.equals(w.content) || mode !== w.mode) {
      this.write(path, m.content, mode, w);
    }
    return m;
  }

  private renamed(from: string, to: string) {
    const w = this.input.working.get(from);
    const n = this.input.next.get(to)!;
    if (!w) {
      this.changes.push({
        path: to,
        from,
        action: 'kept-deleted',
        note: 'you deleted it; the template moved it here',
      });
      return;
    }
    this.deletes.push(from);
    if (this.unedited(from, w)) {
      this.write(to, toLf(n.content), this.modeOf(from, w, n), w);
      this.changes.push({ path: to, from, action: 'renamed' });
      return;
    }
    const m = this.merge(to, from, w, n);
    this.changes.push({ path: to, from, action: 'renamed', ...describe(m) });
  }

  /** Rendered before and now: take the template's change, merge it, or leave the user's file. */
  private inPlace(path: string, n: FileState) {
    const w = this.input.working.get(path);
    const templateChanged = !this.asRecorded(path, n.content);
    if (!w) {
      if (templateChanged)
        this.changes.push({
          path,
          action: 'kept-deleted',
          note: 'you deleted it; the template changed it',
        });
      return;
    }
    const mode = this.modeOf(path, w, n);
    const modeNote = mode !== w.mode ? `mode ${octal(w.mode)} -> ${octal(mode)}` : undefined;
    if (!templateChanged || toLf(w.content).equals(toLf(n.content))) {
      // Nothing new in the content, or only the user's edits: at most the mode changes.
      if (modeNote) {
        this.writes.set(path, { content: w.content, mode });
        this.changes.push({ path, action: 'updated', note: modeNote });
      }
      return;
    }
    if (this.unedited(path, w)) {
      this.write(path, toLf(n.content), mode, w);
      this.changes.push({ path, action: 'updated', ...(modeNote ? { note: modeNote } : {}) });
      return;
    }
    if (isLockfile(path)) {
      this.changes.push({ path, action: 'regenerate', note: 'lockfiles are never merged' });
      return;
    }
    const m = this.merge(path, path, w, n);
    this.changes.push({ path, action: 'merged', ...describe(m, modeNote) });
  }

  /** Rendered before, not now: delete it if unedited, else keep it for the user to delete. */
  private removed(path: string) {
    const w = this.input.working.get(path);
    if (!w) return;
    const why = this.input.removedBy?.get(path);
    if (this.unedited(path, w)) {
      this.deletes.push(path);
      this.changes.push({ path, action: 'deleted', ...(why ? { note: why } : {}) });
      return;
    }
    this.changes.push({
      path,
      action: 'pending-delete',
      note: `${why ?? 'the template no longer has it'}; you edited it, so it stays: delete it when done`,
    });
  }

  /** New in the template: create it, or merge it with the user's file of the same path. */
  private added(path: string, n: FileState) {
    const w = this.input.working.get(path);
    if (!w) {
      this.write(path, n.content, n.mode);
      this.changes.push({ path, action: 'created' });
      return;
    }
    if (toLf(w.content).equals(toLf(n.content))) return;
    if (isLockfile(path)) {
      this.changes.push({ path, action: 'regenerate', note: 'lockfiles are never merged' });
      return;
    }
    const m = this.merge(path, path, w, n);
    this.changes.push({
      path,
      action: 'merged',
      ...describe(m, 'you and the template both added it'),
    });
  }
}

function describe(m: Merged, note?: string): Pick<FileChange, 'method' | 'conflict' | 'note'> {
  const notes = [note, m.note].filter((x): x is string => Boolean(x));
  return {
    method: m.method,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    ...(m.conflict ? { conflict: m.conflict } : {}),
  };
}
