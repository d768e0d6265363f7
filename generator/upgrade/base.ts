/**
 * The merge base: the bytes the recorded generator version wrote, file by file. Sources, tried in
 * this order, each file accepted only when its sha256 is the one the manifest recorded
 * (docs/adr/0005-upgrade-keeps-its-base-in-the-project.md):
 *
 * 1. `--base <dir>`: a pristine render supplied by hand (air-gapped, or a lost snapshot);
 * 2. the snapshot `.mlops-service/base.json.gz` that every render leaves in the project;
 * 3. a re-render of the recorded answers, when this generator holds the recorded version's
 *    templates (the recorded version is its own), tried only for files 1 and 2 did not supply;
 * 4. the user's file itself, when it is still unedited (its hash is the recorded one).
 *
 * A file none of them supplies has no base: the merge falls back to the hashes (unedited ->
 * take the template's; edited -> a two-way merge whose differing lines are conflicts).
 */
import type { Answers } from '../answers/schema.js';
import { sha256 } from '../record/record.js';
import { generatorVersion, templatesDir as bundledTemplates } from '../version.js';
import type { FileState } from './engine.js';
import { matchesRecorded } from './eol.js';
import { readTree } from './files.js';
import { renderAnswers } from './render.js';
import { baseSnapshotFile, readSnapshot } from './snapshot.js';

export type BaseSource = 'base-dir' | 'snapshot' | 're-render';

export interface BaseReport {
  /** The sources that supplied at least one file. */
  readonly sources: BaseSource[];
  /** Files with a verified base. */
  readonly verified: number;
  /** Files the merge needed a base for and none could be had: decided by hashes. */
  readonly missing: string[];
  readonly notes: string[];
}

export interface BaseOptions {
  readonly root: string;
  /** The last render: path -> sha256 (without the records). */
  readonly recorded: ReadonlyMap<string, string>;
  readonly recordedVersion: string;
  /** The model's name as recorded (a model without a sidecar is named after the user's file). */
  readonly recordedModelName?: string;
  /** The lineage recorded when the project's model was rewritten from the user's file. */
  readonly recordedOrigin?: import('../model/contract.js').ModelOrigin;
  /** The answers of the last render, migrated and valid (for the re-render); undefined: none. */
  readonly renderedAnswers: Answers | undefined;
  /** The user's files: which ones need a base (edited or deleted). */
  readonly working: ReadonlyMap<string, FileState>;
  readonly baseDir?: string;
  /** Templates of the recorded version (tests; the package's own when the version is its own). */
  readonly baseTemplatesDir?: string;
}

export async function collectBase(
  options: BaseOptions,
): Promise<{ contents: Map<string, Buffer>; report: BaseReport }> {
  const { recorded, working } = options;
  const contents = new Map<string, Buffer>();
  const sources = new Set<BaseSource>();
  const notes: string[] = [];
  const offer = (source: BaseSource, files: ReadonlyMap<string, Buffer>) => {
    for (const [path, content] of files) {
      const expected = recorded.get(path);
      if (!expected || contents.has(path) || sha256(content) !== expected) continue;
      contents.set(path, content);
      sources.add(source);
    }
  };

  if (options.baseDir) {
    const tree = await readTree(options.baseDir);
    offer('base-dir', new Map([...tree].map(([p, s]) => [p, s.content])));
  }
  const read = await readSnapshot(options.root);
  if (read.snapshot) {
    offer('snapshot', read.snapshot.files);
    const tampered = [...read.snapshot.files.keys()].filter(
      (path) => recorded.has(path) && !contents.has(path),
    );
    if (tampered.length > 0)
      notes.push(
        `${baseSnapshotFile} does not hold what the last render wrote for ${tampered.join(', ')} (edited?): not used as the base${tampered.length > 1 ? 's' : ''}; restore it from git, or pass --base <dir>`,
      );
  } else notes.push(read.reason);

  // Which files need a base the user's copy cannot give: edited or deleted ones. Copies of the
  // model are not the template's (absent from the snapshot by design), so they never need one.
  const needs = () =>
    [...recorded.keys()].filter((path) => {
      if (contents.has(path)) return false;
      if (read.snapshot && !read.snapshot.files.has(path)) return false;
      const w = working.get(path);
      return !w || !matchesRecorded(w.content, recorded.get(path));
    });

  let missing = needs();
  if (missing.length > 0) {
    const templates =
      options.baseTemplatesDir ??
      (options.recordedVersion === generatorVersion ? bundledTemplates : undefined);
    if (!templates) {
      notes.push(
        `create-mlops-service ${options.recordedVersion} is not this generator (${generatorVersion}), so its templates cannot be re-rendered here`,
      );
    } else if (!options.renderedAnswers) {
      notes.push(
        'the recorded answers of the last render are not valid, so it cannot be re-rendered',
      );
    } else {
      try {
        const tree = await renderAnswers(
          options.root,
          options.renderedAnswers,
          templates,
          options.recordedModelName,
          options.recordedOrigin,
        );
        offer('re-render', new Map([...tree].map(([p, s]) => [p, s.content])));
      } catch (err) {
        notes.push(`re-rendering the recorded version failed: ${(err as Error).message}`);
      }
      missing = needs();
    }
  }
  return {
    contents,
    report: { sources: [...sources], verified: contents.size, missing, notes },
  };
}
