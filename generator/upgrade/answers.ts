/**
 * The answers of an upgrade: `answers.json` (the desired state, which the user may edit) migrated
 * to the current schema; questions new since the recorded version take their defaults, or are
 * asked in a terminal. `manifest.renderedAnswers` (what the last render used) is migrated too:
 * the re-render of the base needs it, and the report says which answers changed.
 */
import { UsageError } from '../errors.js';
import { githubRepoOfDirs } from '../answers/github-remote.js';
import { askQuestion, schemaDefault } from '../answers/prompts.js';
import { type AnswersMigration, migrateAnswers } from '../answers/migrations.js';
import { type RawAnswers, formatIssues } from '../answers/resolve.js';
import {
  type AnswerKey,
  type Answers,
  answerKeys,
  answersSchema,
  applies,
} from '../answers/schema.js';
import { answersFile, manifestFile } from '../record/record.js';
import type { ProjectRecords } from './records.js';

export interface UpgradeAnswers {
  readonly answers: Answers;
  /** The last render's answers, migrated; undefined when they no longer validate. */
  readonly renderedAnswers: Answers | undefined;
  readonly migrations: string[];
  /** New questions and the value they took. */
  readonly added: Record<string, unknown>;
  /** Answers that differ from the last render's (the user edited answers.json). */
  readonly changed: Record<string, { from: unknown; to: unknown }>;
}

function validate(raw: RawAnswers, source: string): Answers {
  const result = answersSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new UsageError(`${source} holds invalid answers:`, [
    ...formatIssues(result.error.issues, raw, (key) => key),
    `Edit ${answersFile} and run upgrade again.`,
  ]);
}

export async function upgradeAnswers(
  records: ProjectRecords,
  options: {
    interactive: boolean;
    migrations?: readonly AnswersMigration[];
    /** The project's directory: its git remote answers `githubRepo` where it is missing. */
    projectDir?: string;
  },
): Promise<UpgradeAnswers> {
  const migrations = options.migrations;
  const desired = migrateAnswers(records.answers.answers, records.answers.schemaVersion, {
    source: answersFile,
    ...(migrations ? { migrations } : {}),
  });
  let renderedAnswers: Answers | undefined;
  try {
    const rendered = migrateAnswers(
      records.manifest.renderedAnswers,
      records.manifest.answersSchemaVersion,
      { source: manifestFile, ...(migrations ? { migrations } : {}) },
    );
    renderedAnswers = answersSchema.parse(rendered.answers);
  } catch {
    // Only the re-render of the base needs them; it reports that it could not run.
    renderedAnswers = undefined;
  }

  const raw: RawAnswers = { ...(desired.answers as RawAnswers) };
  const fresh = [...new Set(desired.added)].filter(
    (k): k is AnswerKey =>
      (answerKeys as string[]).includes(k) && raw[k as AnswerKey] === undefined,
  );
  for (const key of fresh) {
    if (options.interactive && applies(key, raw)) {
      const value = await askQuestion(key, schemaDefault(key), { suffix: '(new question)' });
      if (value !== undefined) raw[key] = value;
    }
  }
  // A cloud project made before the deploy identities had no repository to trust: its origin
  // remote says which one, as it does for a new project (else validation names the answer).
  if (applies('githubRepo', raw) && raw.githubRepo === undefined && options.projectDir) {
    const fromRemote = githubRepoOfDirs([options.projectDir]);
    if (fromRemote !== undefined) {
      raw.githubRepo = fromRemote;
      fresh.push('githubRepo');
    }
  }
  const answers = validate(raw, answersFile);
  const added = Object.fromEntries(fresh.map((k) => [k, answers[k]]));
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  if (renderedAnswers) {
    for (const key of answerKeys) {
      const from = renderedAnswers[key];
      const to = answers[key];
      if (JSON.stringify(from) !== JSON.stringify(to) && !(key in added))
        changed[key] = { from, to };
    }
  }
  return {
    answers,
    renderedAnswers,
    migrations: desired.steps,
    added,
    changed,
  };
}
