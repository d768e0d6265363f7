/**
 * Versioned answers: every change to the questions that an old `.mlops-service/answers.json`
 * would not survive (a question renamed, split, removed, or given a new meaning) bumps
 * `answersSchemaVersion` and adds one migration here: a pure function from the answers of
 * version N to those of N+1. `upgrade` runs the chain from the recorded version to the current
 * one, then validates the result with the current schema (new questions with a default take it).
 *
 * A question that is simply added with a default needs no migration; list it in `added` of the
 * step that introduces it anyway, so `upgrade` can announce it (and ask it in a terminal).
 */
import { UserError } from '../errors.js';
import { answersSchemaVersion } from './schema.js';

export type AnswersObject = Readonly<Record<string, unknown>>;

export interface AnswersMigration {
  readonly from: number;
  readonly to: number;
  /** One line for the report: what changed in the questions. */
  readonly description: string;
  /** Questions that version `to` asks for the first time. */
  readonly added?: readonly string[];
  /** Pure: never mutates its input. */
  readonly migrate: (answers: AnswersObject) => Record<string, unknown>;
}

/**
 * The real chain. Version 1 is the first published version of the answers, so it is empty; the
 * tests exercise the mechanism with migrations of their own.
 */
export const answersMigrations: readonly AnswersMigration[] = [];

export interface MigrationResult {
  readonly answers: Record<string, unknown>;
  /** The steps run, e.g. `v1 -> v2: replicas split into minReplicas and maxReplicas`. */
  readonly steps: string[];
  /** Questions new since the recorded version. */
  readonly added: string[];
}

/** Runs `answers` of `version` through the migrations up to `target`. */
export function migrateAnswers(
  answers: AnswersObject,
  version: number,
  options: { target?: number; migrations?: readonly AnswersMigration[]; source?: string } = {},
): MigrationResult {
  const target = options.target ?? answersSchemaVersion;
  const migrations = options.migrations ?? answersMigrations;
  const source = options.source ?? 'the answers';
  if (!Number.isInteger(version) || version < 0) {
    throw new UserError(`${source}: schemaVersion ${JSON.stringify(version)} is not a version`);
  }
  if (version > target) {
    throw new UserError(
      `${source} use answers schema version ${version}, newer than this generator's (${target}).`,
      ['Run a newer create-mlops-service: npx create-mlops-service@latest upgrade'],
    );
  }
  let current: Record<string, unknown> = { ...answers };
  const steps: string[] = [];
  const added: string[] = [];
  for (let v = version; v < target; v++) {
    const step = migrations.find((m) => m.from === v);
    if (!step || step.to !== v + 1) {
      throw new UserError(`${source}: no migration from answers schema version ${v} to ${v + 1}.`, [
        'This is a bug in create-mlops-service; please report it with your answers file.',
      ]);
    }
    current = step.migrate(Object.freeze({ ...current }));
    steps.push(`v${step.from} -> v${step.to}: ${step.description}`);
    added.push(...(step.added ?? []));
  }
  return { answers: current, steps, added };
}
