/**
 * `create-mlops-service [dir]`: answers -> model introspection -> Plan -> render into a staging
 * directory -> record -> move into place -> git init -> npm install -> next steps.
 */
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import { CancelledError, UsageError, UserError } from '../errors.js';
import { dns1123Label } from '../answers/schema.js';
import {
  type RawAnswers,
  answersFromFile,
  exampleCommand,
  mergeSources,
  missingAnswers,
  parseFlagValues,
  validateAnswers,
} from '../answers/resolve.js';
import { flagName } from '../answers/schema.js';
import { githubRepoOfDirs } from '../answers/github-remote.js';
import { askMissing, askQuestion, confirmCreate } from '../answers/prompts.js';
import type { AnswerKey, Answers } from '../answers/schema.js';
import { type ReadModel, readModel } from '../model/introspect.js';
import type { ModelContract } from '../model/contract.js';
import { resolveModelOption } from '../model/locate.js';
import { TaskUnclearError } from '../model/outputs.js';
import { defaultModelPath } from '../model/default-model.js';
import { memoryTooSmall } from '../plan/memory.js';
import { type Plan, buildPlan, projectModelFile } from '../plan/plan.js';
import { renderProject } from '../render/render.js';
import { modelFiles, modelSources } from '../render/model-files.js';
import { summarize } from './summary.js';
import { assertTargetWritable, makeStagingDir, moveIntoPlace } from '../render/target.js';
import { writeRecord } from '../record/record.js';
import { gitInit } from '../finish/git.js';
import { npmInstall } from '../finish/install.js';
import { type Ui, createUi } from '../ui.js';
import { generatorVersion, templatesDir } from '../version.js';

export interface CreateOptions {
  readonly dir?: string;
  readonly answersFile?: string;
  readonly yes: boolean;
  readonly overwrite: boolean;
  readonly git: boolean;
  readonly install: boolean;
  readonly json: boolean;
  /** Raw flag values keyed by answer name. */
  readonly flags: Record<string, unknown>;
  readonly interactive: boolean;
  /** The template tree (tests render other trees); the package's own by default. */
  readonly templatesDir?: string;
}

export interface CreateReport {
  readonly ok: true;
  readonly target: string;
  readonly service: string;
  readonly generatorVersion: string;
  readonly model: {
    name: string;
    version: string;
    task: string;
    features: string[];
    sha256: string;
  };
  readonly clouds: readonly string[];
  readonly environments: readonly string[];
  readonly files: number;
  readonly git: { done: boolean; skipped?: string };
  readonly install: { done: boolean; skipped?: string };
  readonly nextSteps: readonly string[];
}

/** The model the project is made from: its path, and what reading it found. */
interface ModelRead {
  readonly modelPath: string;
  readonly read: ReadModel;
}

/** The whole command: answers, model, plan, confirmation, rendering, git, install, next steps. */
export async function create(options: CreateOptions): Promise<CreateReport> {
  const ui = createUi(options.json ? 'quiet' : options.interactive ? 'interactive' : 'plain');
  ui.intro(`create-mlops-service ${generatorVersion}`);

  const answers = validateAnswers(await gatherAnswers(options));
  const target = resolve(options.dir ?? answers.name);
  await assertTargetWritable(target, options.overwrite);

  const modelPath = await resolveModelOption(answers.model);
  const { read, task } = await readModelAsking(ui, modelPath, answers, options.interactive);
  const model = read.contract;
  // A task the user was asked for is recorded, so that `upgrade` reads the model the same way.
  const plan = buildPlan({ ...answers, ...(task ? { task } : {}), model: projectModelFile }, model);
  const tooSmall =
    answers.memory && plan.clouds.list.length > 0
      ? memoryTooSmall(answers.memory, model.bytes, plan.runtime.poolSize)
      : undefined;
  if (tooSmall) throw new UsageError(tooSmall);
  if (options.interactive) await confirmPlan(plan, target);

  const files = await renderIntoPlace(ui, options, plan, { modelPath, read }, target);
  if (plan.largeModelFile) ui.warn(lfsWarning(plan.largeModelFile, options.git));
  const git = options.git
    ? await initGit(ui, target, plan.largeModelFile)
    : { done: false, skipped: 'skipped by --no-git' };
  const install = options.install
    ? await installDependencies(ui, target)
    : { done: false, skipped: 'skipped by --no-install' };

  const nextSteps = nextStepsFor(target, install);
  ui.outro(`Done. Next steps:\n  ${nextSteps.join('\n  ')}`);
  return { ...reportOf(target, plan, model, files), git, install, nextSteps };
}

/** What a model kept in Git LFS asks of the user (ADR 0026). */
function lfsWarning(large: NonNullable<Plan['largeModelFile']>, git: boolean): string {
  return (
    `${large.path} is ${large.mib} MiB (GitHub ${large.refused ? 'refuses a pushed file over 100 MiB' : 'warns on a pushed file over 50 MiB'}): ` +
    `the project keeps ${large.lfsPattern} in Git LFS, so every clone and CI runner needs git-lfs, ` +
    `and LFS storage counts against the account's quota (README: "The model in Git LFS")` +
    (git ? '' : '; run `git lfs install --local` before the first commit')
  );
}

/** The target as shown to the user: relative to the working directory, `.` for itself. */
function shown(target: string): string {
  return relative(process.cwd(), target) || '.';
}

/** The answers from flags, answers file, directory and context; missing ones asked, or exit 2. */
async function gatherAnswers(options: CreateOptions): Promise<RawAnswers> {
  const flags = parseFlagValues(options.flags);
  const file = options.answersFile ? await readAnswersFile(options.answersFile) : undefined;
  const fromDir = options.dir ? basename(resolve(options.dir)) : undefined;
  // The directory names the service unless --name or the answers file does: `create-mlops-service churn-api`.
  const dirName = fromDir && dns1123Label.safeParse(fromDir).success ? fromDir : undefined;
  // The repository the project is created in, when it is on GitHub: its workflows will deploy.
  const githubRepo = githubRepoOfDirs([
    options.dir ? dirname(resolve(options.dir)) : process.cwd(),
    process.cwd(),
  ]);
  const contextual: RawAnswers = {
    model: defaultModelPath(),
    ...(githubRepo ? { githubRepo } : {}),
  };
  const raw = mergeSources({
    flags,
    file: { ...(dirName ? { name: dirName } : {}), ...file },
    contextual,
    yes: options.yes,
  });
  if (options.interactive) return askMissing(raw, contextual);
  const missing = missingAnswers(raw);
  if (missing.length > 0) throw missingAnswersError(raw, missing, options.dir);
  return raw;
}

/** The usage error (exit 2) for answers missing without a terminal, with a command that works. */
function missingAnswersError(
  raw: RawAnswers,
  missing: readonly AnswerKey[],
  dir: string | undefined,
): UsageError {
  return new UsageError(`Missing answer${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`, [
    ...missing.map((k) => `--${flagName(k)} is required`),
    `No prompt is shown without a terminal (or with CI set). A command that would work:`,
    `  ${exampleCommand(raw, missing, dir)}`,
    `Or pass --yes to take every default (the directory name and the bank-churn example model).`,
  ]);
}

/** Shows the plan's summary and asks to go ahead; a no is a cancellation. */
async function confirmPlan(plan: Plan, target: string): Promise<void> {
  const go = await confirmCreate(summarize(plan, { target: shown(target) }));
  if (!go) throw new CancelledError();
}

/**
 * Renders into a staging directory beside the target, then moves it into place; the staging
 * directory is removed on failure or on SIGINT/SIGTERM (exit 130). Returns the number of files.
 */
async function renderIntoPlace(
  ui: Ui,
  options: CreateOptions,
  plan: Plan,
  model: ModelRead,
  target: string,
): Promise<number> {
  const staging = await makeStagingDir(target);
  const cleanup = () => rm(staging, { recursive: true, force: true });
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let files = 0;
  try {
    await ui.phase(
      'Rendering the project',
      async () => {
        files = await renderStaging(plan, model, options.templatesDir ?? templatesDir, staging);
        await moveIntoPlace(staging, target, options.overwrite);
      },
      () => `Wrote ${files} files to ${shown(target)}`,
    );
  } catch (err) {
    await cleanup();
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return files;
}

/** Renders templates and model files into `staging`, writes the record; returns the file count. */
async function renderStaging(
  plan: Plan,
  { modelPath, read }: ModelRead,
  templates: string,
  staging: string,
): Promise<number> {
  const sources = await modelSources(modelPath, read);
  try {
    const fromModel = modelFiles(sources);
    await renderProject(plan, templates, staging, fromModel.files);
    const manifest = await writeRecord(staging, plan, { modelCopies: fromModel.modelCopies });
    return Object.keys(manifest.files).length + 1;
  } finally {
    await sources.cleanup();
  }
}

/** `git init` and a first commit in the new project, under its phase; says why when skipped. */
async function initGit(
  ui: Ui,
  target: string,
  lfsModel: Plan['largeModelFile'],
): Promise<CreateReport['git']> {
  const skip = await ui.phase(
    'Creating the git repository',
    async () => gitInit(target, generatorVersion, lfsModel),
    (skip) =>
      skip
        ? `git skipped: ${skip}`
        : `git repository with a first commit${lfsModel ? ` (${lfsModel.lfsPattern} in Git LFS)` : ''}`,
  );
  return typeof skip === 'string' ? { done: false, skipped: skip } : { done: true };
}

/** `npm install` in the new project, under its phase; a failure is a warning, not an error. */
async function installDependencies(ui: Ui, target: string): Promise<CreateReport['install']> {
  const result = await ui.phase(
    'Installing dependencies (npm install)',
    () => npmInstall(target),
    (r) => (r.ok ? 'Dependencies installed' : 'npm install failed'),
  );
  if (!result.ok) ui.warn(`npm install failed; run it yourself in ${target}.\n${result.output}`);
  return result.ok
    ? { done: true }
    : { done: false, skipped: `npm install failed:\n${result.output}` };
}

/** What the user runs next: into the project, install unless done, test, start. */
function nextStepsFor(target: string, install: CreateReport['install']): string[] {
  return [
    `cd ${shown(target)}`,
    ...(install.done ? [] : ['npm install']),
    'npm test',
    'npm run dev        # the service on http://127.0.0.1:8080',
  ];
}

/** The report's description of what was created: where, which service and model, which clouds. */
function reportOf(
  target: string,
  plan: Plan,
  model: ModelContract,
  files: number,
): Omit<CreateReport, 'git' | 'install' | 'nextSteps'> {
  return {
    ok: true,
    target,
    service: plan.service.name,
    generatorVersion,
    model: {
      name: model.name,
      version: model.version,
      task: model.task,
      features: model.features.map((f) => f.name),
      sha256: model.sha256,
    },
    clouds: plan.clouds.list,
    environments: plan.environments.map((e) => e.id),
    files,
  };
}

/**
 * Reads the model; when the graph does not say what it predicts, a terminal user is asked (the
 * same question as --task), anyone else gets exit 2 naming the flag.
 */
async function readModelAsking(
  ui: Ui,
  modelPath: string,
  answers: Answers,
  interactive: boolean,
): Promise<{ read: ReadModel; task: Answers['task'] }> {
  const read = (task: Answers['task']) =>
    ui.phase(
      'Reading the model',
      () => readModel(modelPath, task ? { task } : {}),
      ({ contract }) => modelLine(contract),
    );
  try {
    return { read: await read(answers.task), task: answers.task };
  } catch (err) {
    if (!(err instanceof TaskUnclearError) || !interactive) throw err;
    ui.warn(err.message);
    const task = (await askQuestion('task', err.choices[0], {
      only: err.choices,
    })) as Answers['task'];
    return { read: await read(task), task };
  }
}

async function readAnswersFile(path: string): Promise<RawAnswers> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `--answers ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--answers ${path}: not valid JSON (${(err as Error).message})`);
  }
  const answers = answersFromFile(json, `--answers ${path}`);
  // A relative model path in an answers file is relative to that file, not to the working directory.
  if (typeof answers.model === 'string' && !answers.model.startsWith('/')) {
    return { ...answers, model: resolve(dirname(path), answers.model) };
  }
  return answers;
}

export { UserError };

/** One line on the model read: what `create` understood, printed in every run. */
function modelLine(m: ModelContract): string {
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const task = m.rawScores
    ? `${m.task} ("${m.rawScores.output}" holds ${m.rawScores.holds.replace(/ \(.*$/, '')}, not probabilities: every output by name)`
    : m.task;
  const inputs =
    m.kind === 'tensors'
      ? count(m.inputs.length, 'input tensor')
      : count(m.features.length, 'feature');
  const inferred = m.described ? '' : ' (no model.schema.json: names and ranges inferred)';
  const rewritten = m.origin
    ? `; graph rewritten: ${count(m.origin.rewrites.length, 'change')}`
    : '';
  return `Model ${m.name} ${m.version}: ${task}, ${inputs}${inferred}${rewritten}`;
}
