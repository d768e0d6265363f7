/**
 * `create-mlops-service diff [paths...]`: the user's edits against the pristine render of the
 * recorded version (the merge base of the next upgrade), as a unified diff.
 */
import { resolve } from 'node:path';
import { recordDir, sha256 } from '../record/record.js';
import { type BaseReport, collectBase } from '../upgrade/base.js';
import { readFiles } from '../upgrade/files.js';
import { readRecords } from '../upgrade/records.js';
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
  /** `modified` / `deleted` by the user; `modified-no-base`: edited, but no base to show it against. */
  readonly status: 'modified' | 'deleted' | 'modified-no-base';
}

export interface DiffResult {
  readonly files: DiffEntry[];
  readonly base: BaseReport;
  readonly diff: string;
}

export async function diffProject(options: DiffOptions): Promise<DiffResult> {
  const root = resolve(options.dir ?? '.');
  const records = await readRecords(root);
  const wanted = (options.paths ?? []).map((p) => p.replace(/\/+$/, ''));
  const selected = (path: string) =>
    wanted.length === 0 || wanted.some((w) => path === w || path.startsWith(`${w}/`));
  const recorded = new Map(
    Object.entries(records.manifest.files).filter(
      ([path]) => !path.startsWith(`${recordDir}/`) && selected(path),
    ),
  );
  const working = await readFiles(root, recorded.keys());
  let renderedAnswers;
  try {
    const migrated = migrateAnswers(
      records.manifest.renderedAnswers,
      records.manifest.answersSchemaVersion,
    );
    renderedAnswers = answersSchema.parse(migrated.answers);
  } catch {
    renderedAnswers = undefined;
  }
  const base = await collectBase({
    root,
    recorded,
    recordedVersion: records.manifest.generator.version,
    ...(records.manifest.model ? { recordedModelName: records.manifest.model.name } : {}),
    renderedAnswers,
    working,
    ...(options.baseDir ? { baseDir: resolve(options.baseDir) } : {}),
    ...(options.baseTemplatesDir ? { baseTemplatesDir: options.baseTemplatesDir } : {}),
  });
  const files: DiffEntry[] = [];
  let diff = '';
  for (const [path, hash] of [...recorded].sort(([a], [b]) => a.localeCompare(b))) {
    const w = working.get(path);
    if (w && sha256(w.content) === hash) continue;
    const b = base.contents.get(path);
    if (!w) {
      files.push({ path, status: 'deleted' });
      diff +=
        b && isText(b) ? unifiedDiff(path, b.toString('utf8'), undefined) : `Deleted ${path}\n`;
      continue;
    }
    if (!b) {
      files.push({ path, status: 'modified-no-base' });
      diff += `Modified ${path} (no base to compare it with)\n`;
      continue;
    }
    files.push({ path, status: 'modified' });
    diff +=
      isText(b) && isText(w.content)
        ? unifiedDiff(path, b.toString('utf8'), w.content.toString('utf8'))
        : `Binary file ${path} changed\n`;
  }
  return { files, base: base.report, diff };
}
