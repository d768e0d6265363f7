/**
 * `create-mlops-service upgrade [dir]`: merges what changed in the templates since the project was
 * last rendered into the user's files, three-way, file by file (generator/upgrade/engine.ts).
 *
 * preflight (records, leftover conflicts, committed tree) -> answers (migrated; new questions take
 * their defaults or are asked) -> new render (this version's templates, the project's model) ->
 * base (snapshot / --base / re-render, verified by hash) -> merge plan -> write everything or
 * nothing -> `.mlops-service/UPDATE_REPORT.json`. Exit 0, or 3 when conflicts were written.
 */
import { resolve } from 'node:path';
import { ExitCode, UsageError, UserError } from '../errors.js';
import type { AnswersMigration } from '../answers/migrations.js';
import {
  answersFile,
  answersSchemaFile,
  manifestFile,
  recordDir,
  sha256,
} from '../record/record.js';
import { generatorName, generatorVersion, templatesDir as bundledTemplates } from '../version.js';
import { createUi } from '../ui.js';
import { upgradeAnswers } from '../upgrade/answers.js';
import { type BaseReport, collectBase } from '../upgrade/base.js';
import { type FileChange, type FileState, planUpgrade, sideFileSuffix } from '../upgrade/engine.js';
import { applyChanges, readFiles } from '../upgrade/files.js';
import { gitState } from '../upgrade/git.js';
import { compareVersions, readRecords } from '../upgrade/records.js';
import { renderAnswers } from '../upgrade/render.js';
import { baseSnapshotFile, isText } from '../upgrade/snapshot.js';
import { conflictMarker, unifiedDiff } from '../upgrade/text.js';
import { answersSchemaVersion } from '../answers/schema.js';

export const updateReportFile = `${recordDir}/UPDATE_REPORT.json`;
/** The records an upgrade rewrites from the new render (never merged). */
const recordFiles = [answersFile, answersSchemaFile, baseSnapshotFile, manifestFile];

export interface UpgradeOptions {
  readonly dir?: string;
  readonly to?: string;
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly allowDirty: boolean;
  readonly interactive: boolean;
  /** A pristine render of the recorded version (`--base`): the merge base when nothing else has it. */
  readonly baseDir?: string;
  /** The new version's templates (`--templates`, for template development and tests). */
  readonly templatesDir?: string;
  /** The recorded version's templates, to re-render the base (tests). */
  readonly baseTemplatesDir?: string;
  /** The answers migrations (tests replace the real chain). */
  readonly migrations?: readonly AnswersMigration[];
}

export interface UpgradeReport {
  readonly ok: boolean;
  readonly exitCode: number;
  readonly dryRun: boolean;
  /** Nothing to do: nothing was (or would be) written. */
  readonly upToDate: boolean;
  readonly project: string;
  readonly from: { readonly version: string; readonly answersSchemaVersion: number };
  readonly to: { readonly version: string; readonly answersSchemaVersion: number };
  readonly git: string;
  readonly answers: {
    readonly migrations: string[];
    readonly added: Record<string, unknown>;
    readonly changed: Record<string, { from: unknown; to: unknown }>;
  };
  readonly base: BaseReport;
  /** Every file the upgrade touches or leaves to the user, with what happened to it. */
  readonly files: FileChange[];
  /** Files that hold conflict markers (or a `.mlops-new` side file) to resolve. */
  readonly conflicts: string[];
  readonly lockfiles: Array<{ path: string; note: string }>;
  /** Records rewritten in `.mlops-service/`. */
  readonly records: string[];
  readonly nextSteps: string[];
}

export interface UpgradeResult {
  readonly report: UpgradeReport;
  /** The unified diff of what is (or, with --dry-run, would be) written. */
  readonly diff: string;
}

const isRecord = (path: string) => path.startsWith(`${recordDir}/`);

export async function upgrade(options: UpgradeOptions): Promise<UpgradeResult> {
  const root = resolve(options.dir ?? '.');
  const ui = createUi(options.json ? 'quiet' : options.interactive ? 'interactive' : 'plain');
  ui.intro(`create-mlops-service ${generatorVersion} upgrade${options.dryRun ? ' (dry run)' : ''}`);

  // 1. Preflight: the records, the versions, leftovers of an earlier run, the git tree.
  const records = await readRecords(root);
  const from = records.manifest.generator;
  if (from.name !== generatorName) {
    throw new UserError(`${manifestFile} was written by ${from.name}, not ${generatorName}`);
  }
  if (options.to !== undefined && options.to !== generatorVersion) {
    throw new UsageError(`--to ${options.to}: that version is not available offline.`, [
      `This is create-mlops-service ${generatorVersion}; it upgrades to its own version only.`,
      `To upgrade to ${options.to}, run that version: npx create-mlops-service@${options.to} upgrade`,
    ]);
  }
  if (compareVersions(from.version, generatorVersion) > 0) {
    throw new UserError(
      `The project was rendered by create-mlops-service ${from.version}, newer than this one (${generatorVersion}); refusing to downgrade it.`,
      [`Run that version or a newer one: npx create-mlops-service@${from.version} upgrade`],
    );
  }
  const recorded = new Map(
    Object.entries(records.manifest.files).filter(([path]) => !isRecord(path)),
  );
  const leftovers = await findLeftovers(root, recorded.keys());
  if (leftovers.length > 0) {
    throw new UserError('Conflicts from an earlier upgrade are not resolved yet:', [
      ...leftovers,
      'Resolve them (remove the <<<<<<< ||||||| ======= >>>>>>> blocks, merge and delete *.mlops-new files), commit, and run upgrade again.',
    ]);
  }
  const git = gitState(root);
  let gitNote: string;
  if (!git.repo) {
    if (!options.allowDirty && !options.dryRun) {
      throw new UserError(`${root}: ${git.reason}, so an upgrade could not be undone.`, [
        'Commit the project to git first (git init && git add -A && git commit), or',
        'pass --allow-dirty to upgrade it in place anyway, or --dry-run to see what it would change.',
      ]);
    }
    gitNote = `not a git repository (${git.reason})`;
  } else if (git.dirty.length > 0) {
    if (!options.allowDirty && !options.dryRun) {
      throw new UserError(
        `The project has uncommitted changes; commit or stash them first, so the upgrade is one reviewable change:`,
        [
          ...git.dirty.slice(0, 20),
          ...(git.dirty.length > 20 ? [`... and ${git.dirty.length - 20} more`] : []),
          'Or pass --allow-dirty to upgrade anyway.',
        ],
      );
    }
    gitNote = `uncommitted changes (${git.dirty.length} paths)`;
  } else {
    gitNote = 'clean';
  }

  // 2. Answers.
  const answers = await upgradeAnswers(records, {
    interactive: options.interactive,
    ...(options.migrations ? { migrations: options.migrations } : {}),
  });

  // 3. The new render.
  const rendered = await ui.phase(
    'Rendering the new version',
    () =>
      renderAnswers(
        root,
        answers.answers,
        options.templatesDir ?? bundledTemplates,
        records.manifest.model?.name,
        records.manifest.model?.origin,
      ),
    (t) => `${t.size} files rendered`,
  );
  const next = new Map([...rendered].filter(([path]) => !isRecord(path)));
  const working = await readFiles(root, new Set([...recorded.keys(), ...next.keys()]));

  // 4. The base.
  const base = await collectBase({
    root,
    recorded,
    recordedVersion: from.version,
    ...(records.manifest.model ? { recordedModelName: records.manifest.model.name } : {}),
    ...(records.manifest.model?.origin ? { recordedOrigin: records.manifest.model.origin } : {}),
    renderedAnswers: answers.renderedAnswers,
    working,
    ...(options.baseDir ? { baseDir: resolve(options.baseDir) } : {}),
    ...(options.baseTemplatesDir ? { baseTemplatesDir: options.baseTemplatesDir } : {}),
  });
  for (const note of base.report.notes) ui.info(note);

  // 5. The merge.
  const plan = planUpgrade({
    recorded,
    base: base.contents,
    next,
    working,
    labels: {
      ours: 'yours',
      base: `create-mlops-service ${from.version} (base)`,
      theirs: `create-mlops-service ${generatorVersion}`,
    },
  });
  const recordWrites = new Map<string, FileState>();
  const onDisk = await readFiles(root, recordFiles);
  for (const path of recordFiles) {
    const state = rendered.get(path);
    if (state && !onDisk.get(path)?.content.equals(state.content)) recordWrites.set(path, state);
  }

  const conflicts = plan.changes.filter((c) => c.conflict).map((c) => c.path);
  const lockfiles = plan.changes
    .filter((c) => c.action === 'regenerate')
    .map((c) => ({ path: c.path, note: c.note ?? '' }));
  if (plan.writes.has('package.json')) {
    for (const [lock, command] of [
      ['package-lock.json', 'npm install'],
      ['npm-shrinkwrap.json', 'npm install'],
      ['pnpm-lock.yaml', 'pnpm install'],
      ['yarn.lock', 'yarn install'],
    ] as const) {
      if (lockfiles.some((l) => l.path === lock)) continue;
      const present = await readFiles(root, [lock]);
      if (present.size > 0)
        lockfiles.push({
          path: lock,
          note: `package.json changed; lockfiles are never merged: run ${command} to regenerate it`,
        });
    }
  }
  const upToDate = plan.writes.size === 0 && plan.deletes.length === 0 && recordWrites.size === 0;
  const exitCode = conflicts.length > 0 ? ExitCode.conflicts : ExitCode.ok;
  const nextSteps: string[] = [];
  if (conflicts.length > 0)
    nextSteps.push(
      `Resolve the conflicts in ${conflicts.join(', ')} (search for <<<<<<<; a .mlops-new file holds the template's version of a binary file)`,
    );
  const pending = plan.changes.filter((c) => c.action === 'pending-delete').map((c) => c.path);
  if (pending.length > 0)
    nextSteps.push(
      `The template no longer has ${pending.join(', ')}: delete them when you are done with them`,
    );
  for (const l of lockfiles) nextSteps.push(`${l.path}: ${l.note}`);
  if (!upToDate) nextSteps.push('Review the change (git diff), run npm test, and commit it');

  const report: UpgradeReport = {
    ok: conflicts.length === 0,
    exitCode,
    dryRun: options.dryRun,
    upToDate,
    project: root,
    from: { version: from.version, answersSchemaVersion: records.answers.schemaVersion },
    to: { version: generatorVersion, answersSchemaVersion },
    git: gitNote,
    answers: { migrations: answers.migrations, added: answers.added, changed: answers.changed },
    base: base.report,
    files: plan.changes,
    conflicts,
    lockfiles,
    records: [...recordWrites.keys()],
    nextSteps: upToDate ? [] : nextSteps,
  };

  const diff = renderDiff(working, onDisk, plan.writes, recordWrites, plan.deletes);
  if (upToDate) {
    ui.outro(`Already up to date with create-mlops-service ${generatorVersion}; nothing changed.`);
    return { report, diff };
  }
  if (options.dryRun) {
    ui.outro(summary(report, 'Dry run: nothing was written. It would change'));
    return { report, diff };
  }
  const writes = new Map<string, FileState>([...plan.writes, ...recordWrites]);
  writes.set(updateReportFile, {
    content: Buffer.from(`${JSON.stringify(report, null, 2)}\n`),
    mode: 0o644,
  });
  await ui.phase('Writing the upgrade', () => applyChanges(root, writes, plan.deletes));
  ui.outro(summary(report, 'Upgraded'));
  return { report, diff };
}

function summary(report: UpgradeReport, verb: string): string {
  const count = (action: FileChange['action']) =>
    report.files.filter((f) => f.action === action).length;
  const parts = (['created', 'updated', 'merged', 'renamed', 'deleted'] as const)
    .map((a) => [a, count(a)] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${n} ${a}`);
  const lines = [
    `${verb}: ${parts.join(', ') || 'the records only'} (${report.from.version} -> ${report.to.version}).`,
  ];
  for (const f of report.files) {
    lines.push(
      `  ${f.conflict ? 'CONFLICT ' : ''}${f.action.padEnd(14)} ${f.from ? `${f.from} -> ` : ''}${f.path}${f.note ? `  (${f.note})` : ''}`,
    );
  }
  if (report.answers.migrations.length > 0)
    lines.push(`Answers migrated: ${report.answers.migrations.join('; ')}`);
  for (const [k, v] of Object.entries(report.answers.added))
    lines.push(`New question ${k}: ${JSON.stringify(v)}`);
  if (report.conflicts.length > 0)
    lines.push(`${report.conflicts.length} file(s) with conflicts; exit code ${report.exitCode}.`);
  if (report.nextSteps.length > 0) lines.push('Next:', ...report.nextSteps.map((s) => `  ${s}`));
  return lines.join('\n');
}

/** Files with conflict markers or side files that an earlier upgrade left. */
async function findLeftovers(root: string, paths: Iterable<string>): Promise<string[]> {
  const list = [...paths];
  const files = await readFiles(root, [...list, ...list.map((p) => `${p}${sideFileSuffix}`)]);
  const out: string[] = [];
  for (const [path, state] of files) {
    if (path.endsWith(sideFileSuffix)) {
      out.push(`${path} (the template's version of ${path.slice(0, -sideFileSuffix.length)})`);
    } else if (isText(state.content)) {
      const text = state.content.toString('utf8');
      if (/^<{7} /m.test(text) && /^>{7} /m.test(text) && conflictMarker.test(text))
        out.push(`${path} (conflict markers)`);
    }
  }
  return out.sort();
}

function renderDiff(
  working: ReadonlyMap<string, FileState>,
  records: ReadonlyMap<string, FileState>,
  writes: ReadonlyMap<string, FileState>,
  recordWrites: ReadonlyMap<string, FileState>,
  deletes: readonly string[],
): string {
  const text = (s: FileState | undefined) => (s ? s.content.toString('utf8') : undefined);
  const one = (path: string, before: FileState | undefined, after: FileState | undefined) => {
    if (before?.content && after?.content && sha256(before.content) === sha256(after.content))
      return '';
    if ((before && !isText(before.content)) || (after && !isText(after.content)))
      return `Binary file ${path} ${before ? (after ? 'changed' : 'deleted') : 'created'}\n`;
    return unifiedDiff(path, text(before), text(after));
  };
  const parts: string[] = [];
  const paths = [...new Set([...writes.keys(), ...deletes])].sort();
  for (const path of paths) {
    parts.push(one(path, working.get(path), deletes.includes(path) ? undefined : writes.get(path)));
  }
  for (const [path, state] of recordWrites) {
    if (path === answersFile) parts.push(one(path, records.get(path), state));
    else parts.push(`Record ${path} updated\n`);
  }
  return parts.join('');
}
