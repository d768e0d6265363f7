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
import { type UpgradeAnswers, upgradeAnswers } from '../upgrade/answers.js';
import { type BaseReport, collectBase } from '../upgrade/base.js';
import {
  type EnginePlan,
  type FileChange,
  type FileState,
  planUpgrade,
  sideFileSuffix,
} from '../upgrade/engine.js';
import {
  type Eol,
  type EolPolicy,
  eolOf,
  gitEolPolicy,
  matchesRecorded,
  withEol,
} from '../upgrade/eol.js';
import { resolveModelOption } from '../model/locate.js';
import { isModelData, replaceModel } from '../upgrade/model.js';
import { detectRenames } from '../upgrade/renames.js';
import type { ModelOrigin } from '../model/contract.js';
import { applyChanges, readFiles } from '../upgrade/files.js';
import { gitState } from '../upgrade/git.js';
import { type ProjectRecords, compareVersions, readRecords } from '../upgrade/records.js';
import { renderAnswers } from '../upgrade/render.js';
import { baseSnapshotFile, isText } from '../upgrade/snapshot.js';
import { conflictMarker, unifiedDiff } from '../upgrade/text.js';
import { type Answers, answersSchemaVersion } from '../answers/schema.js';

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
  /** `--model <path>`: replace the project's model and its artifacts with this one's. */
  readonly model?: string;
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
  /**
   * The served model's task before and after, when the upgrade changes it: `/predict` then answers
   * in another shape (a new model, or a newer reading of the same graph).
   */
  readonly task?: { readonly from: string; readonly to: string };
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
  const newModel =
    options.model === undefined ? undefined : await resolveModelOption(options.model);
  const { records, recorded: allRecorded, gitNote } = await preflight(root, options);
  const from = records.manifest.generator;

  // Answers, and the new render (this version's templates, the project's model or --model's).
  const answers = await upgradeAnswers(records, {
    interactive: options.interactive,
    projectDir: root,
    ...(options.migrations ? { migrations: options.migrations } : {}),
  });
  const templates = options.templatesDir ?? bundledTemplates;
  const model = records.manifest.model;
  const rendered = await ui.phase(
    'Rendering the new version',
    () => renderNew(root, answers.answers, templates, newModel ?? model),
    (t) => `${t.size} files rendered`,
  );
  const allNext = new Map([...rendered].filter(([path]) => !isRecord(path)));
  const allWorking = await readFiles(root, new Set([...allRecorded.keys(), ...allNext.keys()]));
  const eolFor = gitEolPolicy(root, [...allNext.keys(), ...recordFiles, updateReportFile]);
  const { plan, base } = await mergeFiles({
    root,
    options,
    records,
    answers,
    templates,
    allRecorded,
    allNext,
    allWorking,
    eolFor,
    replacingModel: newModel !== undefined,
    info: (note) => ui.info(note),
  });
  const onDisk = await readFiles(root, [...recordFiles, updateReportFile]);
  const recordWrites = changedRecords(rendered, onDisk, eolFor);

  const report = buildReport({
    options,
    root,
    from: { version: from.version, answersSchemaVersion: records.answers.schemaVersion },
    gitNote,
    answers,
    base: base.report,
    plan,
    recordWrites,
    lockfiles: await lockfileNotes(root, plan),
    task: taskChange(allWorking, allNext),
  });
  const diff = renderDiff(allWorking, onDisk, plan.writes, recordWrites, plan.deletes);
  if (report.upToDate) {
    ui.outro(`Already up to date with create-mlops-service ${generatorVersion}; nothing changed.`);
  } else if (options.dryRun) {
    ui.outro(summary(report, 'Dry run: nothing was written. It would change'));
  } else {
    const writes = new Map<string, FileState>([...plan.writes, ...recordWrites]);
    const reportText = Buffer.from(`${JSON.stringify(report, null, 2)}\n`);
    writes.set(updateReportFile, {
      content: inEol(reportText, onDisk.get(updateReportFile), eolFor(updateReportFile)),
      mode: 0o644,
    });
    await ui.phase('Writing the upgrade', () => applyChanges(root, writes, plan.deletes.sort()));
    ui.outro(summary(report, 'Upgraded'));
  }
  return { report, diff };
}

interface MergeInput {
  readonly root: string;
  readonly options: UpgradeOptions;
  readonly records: ProjectRecords;
  readonly answers: UpgradeAnswers;
  readonly templates: string;
  readonly allRecorded: ReadonlyMap<string, string>;
  readonly allNext: ReadonlyMap<string, FileState>;
  readonly allWorking: ReadonlyMap<string, FileState>;
  readonly eolFor: EolPolicy;
  readonly replacingModel: boolean;
  readonly info: (note: string) => void;
}

/**
 * The base, what the template renamed, and the merge plan. The model's files (model/) are the
 * user's data: left out of the merge, and replaced only with --model.
 */
async function mergeFiles(input: MergeInput) {
  const { root, options, records, answers, eolFor } = input;
  const from = records.manifest.generator;
  const model = records.manifest.model;
  const recorded = withoutModel(input.allRecorded);
  const next = withoutModel(input.allNext);
  const working = withoutModel(input.allWorking);
  const base = await collectBase({
    root,
    recorded,
    recordedVersion: from.version,
    ...(model ? { recordedModelName: model.name } : {}),
    ...(model?.origin ? { recordedOrigin: model.origin } : {}),
    renderedAnswers: answers.renderedAnswers,
    working,
    ...(options.baseDir ? { baseDir: resolve(options.baseDir) } : {}),
    ...(options.baseTemplatesDir ? { baseTemplatesDir: options.baseTemplatesDir } : {}),
  });
  for (const note of base.report.notes) input.info(note);
  const moves = await templateMoves({
    root,
    templates: input.templates,
    answers,
    recorded,
    next,
    working,
    base: base.contents,
    ...(model ? { model } : {}),
  });
  const plan = planUpgrade({
    recorded,
    recordedExecutables: new Set(records.manifest.executables ?? []),
    base: base.contents,
    next,
    working,
    renames: moves.renames,
    removedBy: moves.removedBy,
    eolFor,
    labels: {
      ours: 'yours',
      base: `create-mlops-service ${from.version} (base)`,
      theirs: `create-mlops-service ${generatorVersion}`,
    },
  });
  if (input.replacingModel) {
    const replaced = replaceModel(
      input.allRecorded.keys(),
      input.allNext,
      input.allWorking,
      eolFor,
    );
    plan.changes.push(...replaced.changes);
    for (const [path, state] of replaced.writes) plan.writes.set(path, state);
    plan.deletes.push(...replaced.deletes);
  }
  return { plan, base };
}

/**
 * The new render: the current answers with `templates`, and the project's model (under the name
 * and lineage the manifest recorded), or the `--model` file given as a path.
 */
function renderNew(
  root: string,
  answers: Answers,
  templates: string,
  model: string | { name: string; origin?: ModelOrigin } | undefined,
) {
  return typeof model === 'string'
    ? renderAnswers(root, answers, templates, undefined, undefined, model)
    : renderAnswers(root, answers, templates, model?.name, model?.origin);
}

/** The records of the new render that differ from the project's, in the project's line ending. */
function changedRecords(
  rendered: ReadonlyMap<string, FileState>,
  onDisk: ReadonlyMap<string, FileState>,
  eolFor: EolPolicy,
): Map<string, FileState> {
  const out = new Map<string, FileState>();
  for (const path of recordFiles) {
    const state = rendered.get(path);
    if (!state) continue;
    const content = inEol(state.content, onDisk.get(path), eolFor(path));
    if (!onDisk.get(path)?.content.equals(content)) out.set(path, { ...state, content });
  }
  return out;
}

const withoutModel = <T>(files: ReadonlyMap<string, T>) =>
  new Map([...files].filter(([path]) => !isModelData(path)));

/** A record in the ending of its working copy, or the one git gives a new file. */
const inEol = (content: Buffer, working: FileState | undefined, fallback: Eol | undefined) =>
  withEol(content, (working && eolOf(working.content)) ?? fallback);

/** The records, the versions, leftovers of an earlier run, the git tree: refused before anything. */
async function preflight(root: string, options: UpgradeOptions) {
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
  const leftovers = await findLeftovers(root, withoutModel(recorded).keys());
  if (leftovers.length > 0) {
    throw new UserError('Conflicts from an earlier upgrade are not resolved yet:', [
      ...leftovers,
      'Resolve them (remove the <<<<<<< ||||||| ======= >>>>>>> blocks, merge and delete *.mlops-new files), commit, and run upgrade again.',
    ]);
  }
  return { records, recorded, gitNote: checkGit(root, options) };
}

function checkGit(root: string, options: UpgradeOptions): string {
  const git = gitState(root);
  if (!git.repo) {
    if (!options.allowDirty && !options.dryRun) {
      throw new UserError(`${root}: ${git.reason}, so an upgrade could not be undone.`, [
        'Commit the project to git first (git init && git add -A && git commit), or',
        'pass --allow-dirty to upgrade it in place anyway, or --dry-run to see what it would change.',
      ]);
    }
    return `not a git repository (${git.reason})`;
  }
  if (git.dirty.length === 0) return 'clean';
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
  return `uncommitted changes (${git.dirty.length} paths)`;
}

/**
 * What the template itself moved, and why files are no longer rendered. When answers changed,
 * the new templates are rendered once more with the last render's answers: only a path they
 * drop is the template's doing; one they still render is gone because of the answers.
 */
async function templateMoves(input: {
  root: string;
  templates: string;
  answers: UpgradeAnswers;
  recorded: ReadonlyMap<string, string>;
  next: ReadonlyMap<string, FileState>;
  working: ReadonlyMap<string, FileState>;
  base: ReadonlyMap<string, Buffer>;
  model?: { name: string; origin?: ModelOrigin };
}): Promise<{ renames: Map<string, string>; removedBy: Map<string, string> }> {
  const { answers, recorded, next } = input;
  const changed = Object.entries(answers.changed);
  let sameAnswers: ReadonlyMap<string, FileState> | undefined = next;
  if (changed.length > 0) {
    sameAnswers = answers.renderedAnswers
      ? withoutModel(
          (await renderAnswers(
            input.root,
            answers.renderedAnswers,
            input.templates,
            input.model?.name,
            input.model?.origin,
          ).catch(() => undefined)) ?? new Map(),
        )
      : undefined;
  }
  const removedBy = new Map<string, string>();
  const why = `no longer rendered since the answers changed (${changed
    .map(([k, v]) => `${k}: ${JSON.stringify(v.from)} -> ${JSON.stringify(v.to)}`)
    .join(', ')})`;
  for (const path of recorded.keys()) {
    if (
      !next.has(path) &&
      (sameAnswers === undefined || sameAnswers.has(path)) &&
      changed.length > 0
    )
      removedBy.set(path, why);
  }
  if (!sameAnswers || sameAnswers.size === 0) return { renames: new Map(), removedBy };
  const baseOf = (path: string) => {
    const known = input.base.get(path);
    if (known) return known;
    const w = input.working.get(path);
    return w && matchesRecorded(w.content, recorded.get(path)) ? w.content : undefined;
  };
  return { renames: detectRenames({ recorded, baseOf, sameAnswers, next }), removedBy };
}

/** Lockfiles are never merged: which ones to regenerate, and with what. */
async function lockfileNotes(root: string, plan: EnginePlan) {
  const lockfiles = plan.changes
    .filter((c) => c.action === 'regenerate')
    .map((c) => ({ path: c.path, note: c.note ?? '' }));
  if (!plan.writes.has('package.json')) return lockfiles;
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
  return lockfiles;
}

function buildReport(input: {
  options: UpgradeOptions;
  root: string;
  from: UpgradeReport['from'];
  gitNote: string;
  answers: UpgradeAnswers;
  base: BaseReport;
  plan: EnginePlan;
  recordWrites: ReadonlyMap<string, FileState>;
  lockfiles: UpgradeReport['lockfiles'];
  task: UpgradeReport['task'];
}): UpgradeReport {
  const { plan, answers, lockfiles, task } = input;
  plan.changes.sort((a, b) => a.path.localeCompare(b.path));
  const conflicts = plan.changes.filter((c) => c.conflict).map((c) => c.path);
  const upToDate =
    plan.writes.size === 0 && plan.deletes.length === 0 && input.recordWrites.size === 0;
  return {
    ok: conflicts.length === 0,
    exitCode: conflicts.length > 0 ? ExitCode.conflicts : ExitCode.ok,
    dryRun: input.options.dryRun,
    upToDate,
    project: input.root,
    from: input.from,
    to: { version: generatorVersion, answersSchemaVersion },
    git: input.gitNote,
    answers: { migrations: answers.migrations, added: answers.added, changed: answers.changed },
    base: input.base,
    files: plan.changes,
    conflicts,
    lockfiles,
    ...(task ? { task } : {}),
    records: [...input.recordWrites.keys()],
    nextSteps: upToDate ? [] : nextSteps(plan.changes, lockfiles, task),
  };
}

/** The task a rendered `src/model/contract.ts` states (its first `"task"` member). */
function taskOf(state: FileState | undefined): string | undefined {
  return state ? /"task": "([\w-]+)"/.exec(state.content.toString('utf8'))?.[1] : undefined;
}

/** The project's task and the new render's, when they differ. */
function taskChange(
  working: ReadonlyMap<string, FileState>,
  next: ReadonlyMap<string, FileState>,
): UpgradeReport['task'] {
  const from = taskOf(working.get(contractFile));
  const to = taskOf(next.get(contractFile));
  return from && to && from !== to ? { from, to } : undefined;
}

const contractFile = 'src/model/contract.ts';

function nextSteps(
  changes: readonly FileChange[],
  lockfiles: UpgradeReport['lockfiles'],
  task: UpgradeReport['task'],
) {
  const steps: string[] = [];
  if (task) {
    steps.push(
      `The model's task changes from ${task.from} to ${task.to} (${contractFile}): /predict, /predict/batch and V2 answer in another shape; update the service's clients before this is deployed`,
    );
  }
  if (changes.some((c) => c.path === '.gitattributes' && c.action === 'created')) {
    steps.push(
      'The model is now kept in Git LFS (.gitattributes, .husky/pre-push): install git-lfs and run `git lfs install` before you commit, so that the commit holds a pointer, not the model (README: "The model in Git LFS")',
    );
  }
  const conflicted = changes.filter((c) => c.conflict);
  const marked = conflicted.filter((c) => !c.conflict?.sideFile).map((c) => c.path);
  const sides = conflicted.filter((c) => c.conflict?.sideFile);
  if (marked.length > 0)
    steps.push(`Resolve the conflicts in ${marked.join(', ')} (search for <<<<<<<)`);
  for (const c of sides)
    steps.push(
      `${c.path} changed on both sides: ${c.conflict!.sideFile} holds the template's version; merge it by hand and delete it`,
    );
  const pending = changes.filter((c) => c.action === 'pending-delete').map((c) => c.path);
  if (pending.length > 0)
    steps.push(
      `The template no longer renders ${pending.join(', ')}: delete them when you are done with them`,
    );
  for (const l of lockfiles) steps.push(`${l.path}: ${l.note}`);
  steps.push('Review the change (git diff), run npm test, and commit it');
  return steps;
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
