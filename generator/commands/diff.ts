/**
 * `create-mlops-service diff [paths...]`: the user's edits against the pristine render of the
 * recorded version (the merge base of the next upgrade), as a unified diff, line endings aside,
 * and the files the user added.
 */
import { spawnSync } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join, posix, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { recordDir } from '../record/record.js';
import { type BaseReport, collectBase } from '../upgrade/base.js';
import { matchesRecorded, toLf } from '../upgrade/eol.js';
import { readFiles, readTree } from '../upgrade/files.js';
import { isModelData } from '../upgrade/model.js';
import { type ProjectRecords, readRecords } from '../upgrade/records.js';
import { isText } from '../upgrade/snapshot.js';
import { unifiedDiff } from '../upgrade/text.js';
import { answersSchema } from '../answers/schema.js';
import { migrateAnswers } from '../answers/migrations.js';

export interface DiffOptions {
  readonly dir?: string;
  /** Only these project paths (or folders). */
  readonly paths?: readonly string[];
  readonly baseDir?: string;
  /** The recorded version's templates, to re-render the base (tests). */
  readonly baseTemplatesDir?: string;
}

export interface DiffEntry {
  readonly path: string;
  /**
   * `modified` / `deleted` by the user; `modified-no-base`: edited, but no base to show it
   * against; `added`: a file the user added (the generator never wrote it).
   */
  readonly status: 'modified' | 'deleted' | 'modified-no-base' | 'added';
}

export interface DiffResult {
  readonly files: DiffEntry[];
  readonly base: BaseReport;
  readonly diff: string;
}

const textOf = (b: Buffer) => b.toString('utf8');

export async function diffProject(options: DiffOptions): Promise<DiffResult> {
  const root = resolve(options.dir ?? '.');
  const records = await readRecords(root);
  const wanted = (options.paths ?? []).map((p) =>
    posix.normalize(p.split(sep).join('/')).replace(/\/+$/, ''),
  );
  const selected = (path: string) =>
    wanted.length === 0 || wanted.some((w) => w === '.' || path === w || path.startsWith(`${w}/`));
  // The model's files are the user's data, not the template's: not part of the diff.
  const generated = (path: string) => !path.startsWith(`${recordDir}/`) && !isModelData(path);
  const allRecorded = Object.entries(records.manifest.files).filter(([path]) => generated(path));
  const recorded = new Map(allRecorded.filter(([path]) => selected(path)));
  const added = (await projectFiles(root)).filter(
    (path) => generated(path) && selected(path) && !Object.hasOwn(records.manifest.files, path),
  );
  await refuseUnknownPaths(root, wanted, [...recorded.keys(), ...added]);
  const working = await readFiles(root, [...recorded.keys(), ...added]);
  const base = await collectBase({
    root,
    recorded,
    recordedVersion: records.manifest.generator.version,
    ...(records.manifest.model ? { recordedModelName: records.manifest.model.name } : {}),
    renderedAnswers: renderedAnswers(records),
    working,
    ...(options.baseDir ? { baseDir: resolve(options.baseDir) } : {}),
    ...(options.baseTemplatesDir ? { baseTemplatesDir: options.baseTemplatesDir } : {}),
  });
  const files: DiffEntry[] = [];
  let diff = '';
  for (const [path, hash] of [...recorded].sort(([a], [b]) => a.localeCompare(b))) {
    const w = working.get(path);
    if (w && matchesRecorded(w.content, hash)) continue;
    const b = base.contents.get(path);
    if (!w) {
      files.push({ path, status: 'deleted' });
      diff += b && isText(b) ? unifiedDiff(path, textOf(toLf(b)), undefined) : `Deleted ${path}\n`;
    } else if (!b) {
      files.push({ path, status: 'modified-no-base' });
      diff += `Modified ${path} (no base to compare it with)\n`;
    } else {
      files.push({ path, status: 'modified' });
      diff +=
        isText(b) && isText(w.content)
          ? unifiedDiff(path, textOf(toLf(b)), textOf(toLf(w.content)))
          : `Binary file ${path} changed\n`;
    }
  }
  for (const path of added.sort()) {
    const w = working.get(path);
    if (!w) continue;
    files.push({ path, status: 'added' });
    diff += isText(w.content)
      ? unifiedDiff(path, undefined, textOf(toLf(w.content)))
      : `Added binary file ${path}\n`;
  }
  files.sort((a, b) => a.path.localeCompare(b.path));
  return { files, base: base.report, diff };
}

function renderedAnswers(records: ProjectRecords) {
  try {
    const migrated = migrateAnswers(
      records.manifest.renderedAnswers,
      records.manifest.answersSchemaVersion,
    );
    return answersSchema.parse(migrated.answers);
  } catch {
    return undefined;
  }
}

/** The project's files: git's view (tracked and untracked, not ignored), else the whole tree. */
async function projectFiles(root: string): Promise<string[]> {
  const listed = spawnSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  if (!listed.error && listed.status === 0) return listed.stdout.split('\0').filter(Boolean);
  return [...(await readTree(root)).keys()];
}

/** A path that names nothing in the project is a mistake to say, not an empty diff. */
async function refuseUnknownPaths(
  root: string,
  wanted: readonly string[],
  known: readonly string[],
) {
  const unknown: string[] = [];
  for (const w of wanted) {
    if (w === '.' || known.some((p) => p === w || p.startsWith(`${w}/`))) continue;
    if (!(await stat(join(root, w)).catch(() => undefined))) unknown.push(w);
  }
  if (unknown.length > 0) {
    throw new UsageError(`No such file or folder in the project: ${unknown.join(', ')}`, [
      `diff takes paths relative to the project (${root}); -C <dir> names the project.`,
    ]);
  }
}
