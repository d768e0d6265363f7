/**
 * `.mlops-service/`: what a generated project remembers about its own making, for `upgrade` and
 * `check`. `answers.json` is the desired state (editable); `manifest.json` is the tool's record of
 * the last render: generator version, the answers it used, and a sha256 per generated file;
 * `base.json.gz` is that render itself, the merge base of the next `upgrade`
 * (docs/adr/0005-upgrade-keeps-its-base-in-the-project.md).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Answers } from '../answers/schema.js';
import { answersJsonSchema, answersSchemaVersion } from '../answers/schema.js';
import type { ModelOrigin } from '../model/contract.js';
import type { Plan } from '../plan/plan.js';
import { baseSnapshotFile, encodeSnapshot } from '../upgrade/snapshot.js';

export const recordDir = '.mlops-service';
export const answersFile = `${recordDir}/answers.json`;
export const manifestFile = `${recordDir}/manifest.json`;
export const answersSchemaFile = `${recordDir}/answers.schema.json`;

export interface AnswersRecord {
  readonly $schema: string;
  readonly schemaVersion: number;
  readonly answers: Answers;
}

export interface Manifest {
  readonly generator: { readonly name: string; readonly version: string };
  readonly answersSchemaVersion: number;
  readonly renderedAnswers: Answers;
  readonly model: {
    readonly name: string;
    readonly version: string;
    readonly sha256: string;
    /** The user's original file and the generator's rewrites of it, when the graph was rewritten. */
    readonly origin?: ModelOrigin;
  };
  /** Project-relative POSIX path -> sha256 of the content the generator wrote. */
  readonly files: Readonly<Record<string, string>>;
  /**
   * The files the generator wrote executable (`chmod +x`): the mode is merged like content.
   * Absent when there are none (as in records written before modes were recorded).
   */
  readonly executables?: readonly string[];
}

export function sha256(content: Buffer | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** Hashes every file under `root` (POSIX paths), skipping `.git` and `node_modules`. */
export async function hashTree(
  root: string,
  skip: ReadonlySet<string> = new Set(),
): Promise<Record<string, string>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files: Record<string, string> = {};
  const paths: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const rel = relative(root, join(e.parentPath, e.name)).split(sep).join('/');
    if (
      rel.startsWith('.git/') ||
      rel.startsWith('node_modules/') ||
      rel.includes('/node_modules/') ||
      skip.has(rel)
    )
      continue;
    paths.push(rel);
  }
  paths.sort();
  for (const p of paths) files[p] = sha256(await readFile(join(root, p)));
  return files;
}

export interface RecordOptions {
  /** Copies of the user's model: hashed, but not kept in the base snapshot (they are the project's). */
  readonly modelCopies?: readonly string[];
}

/**
 * Writes answers.json, the base snapshot and manifest.json into a freshly rendered tree (the
 * manifest hashes everything else).
 */
export async function writeRecord(
  root: string,
  plan: Plan,
  options: RecordOptions = {},
): Promise<Manifest> {
  await mkdir(join(root, recordDir), { recursive: true });
  const answers: AnswersRecord = {
    $schema: './answers.schema.json',
    schemaVersion: answersSchemaVersion,
    answers: plan.answers,
  };
  await writeFile(join(root, answersFile), `${JSON.stringify(answers, null, 2)}\n`);
  await writeFile(
    join(root, answersSchemaFile),
    `${JSON.stringify(answersJsonSchema(), null, 2)}\n`,
  );
  await writeBaseSnapshot(root, plan.generator, new Set(options.modelCopies ?? []));
  const files = await hashTree(root, new Set([manifestFile]));
  const executables = await executablesOf(root, Object.keys(files));
  const manifest: Manifest = {
    generator: plan.generator,
    answersSchemaVersion,
    renderedAnswers: plan.answers,
    model: {
      name: plan.model.name,
      version: plan.model.version,
      sha256: plan.model.sha256,
      ...(plan.model.origin ? { origin: plan.model.origin } : {}),
    },
    files,
    ...(executables.length > 0 ? { executables } : {}),
  };
  await writeFile(join(root, manifestFile), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The paths among `paths` whose file has an executable bit. */
async function executablesOf(root: string, paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) if ((await stat(join(root, p))).mode & 0o111) out.push(p);
  return out.sort();
}

/** The pristine render (without the records and the model copies), for the next upgrade's base. */
async function writeBaseSnapshot(
  root: string,
  generator: Plan['generator'],
  modelCopies: ReadonlySet<string>,
): Promise<void> {
  const rendered = await hashTree(root);
  const files = new Map<string, Buffer>();
  for (const path of Object.keys(rendered)) {
    if (path.startsWith(`${recordDir}/`) || modelCopies.has(path)) continue;
    files.set(path, await readFile(join(root, path)));
  }
  await writeFile(join(root, baseSnapshotFile), encodeSnapshot({ generator, files }));
}
