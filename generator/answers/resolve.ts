/**
 * Resolution of the answers: flag > answers file > default, then validation.
 * The same path serves humans (prompts fill what is missing), CI and agents (missing is exit 2).
 */
import type { z } from 'zod';
import { UsageError } from '../errors.js';
import {
  type AnswerKey,
  type Answers,
  answerFields,
  answerKeys,
  answersSchema,
  applies,
  flagName,
  hasDefault,
} from './schema.js';

export type RawAnswers = Partial<Record<AnswerKey, unknown>>;

export interface AnswerSources {
  /** Values from command-line flags (strings as typed; numbers are parsed here). */
  readonly flags: RawAnswers;
  /** The parsed `--answers` file, if any. */
  readonly file?: unknown;
  /** Defaults that depend on the invocation and apply with `--yes` (the embedded model). */
  readonly contextual: RawAnswers;
  /** `--yes`: take every default, including the contextual ones. */
  readonly yes: boolean;
}

/** Reads an answers file's content: an object of known questions, or a wrapped record. */
export function answersFromFile(content: unknown, source: string): RawAnswers {
  const record =
    content && typeof content === 'object' && 'answers' in content && 'schemaVersion' in content
      ? (content as { answers: unknown }).answers
      : content;
  if (!record || typeof record !== 'object' || Array.isArray(record)) {
    throw new UsageError(
      `${source}: must hold a JSON object of answers, e.g. {"name": "churn-api"}`,
    );
  }
  const unknown = Object.keys(record).filter((k) => !(answerKeys as string[]).includes(k));
  if (unknown.length > 0) {
    throw new UsageError(
      `${source}: unknown question${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}`,
      [`Known questions: ${answerKeys.join(', ')}`],
    );
  }
  return record as RawAnswers;
}

/** Flags arrive as strings; number questions are parsed here so errors name the flag. */
export function parseFlagValues(flags: Record<string, unknown>): RawAnswers {
  const out: RawAnswers = {};
  for (const key of answerKeys) {
    const value = flags[key];
    if (value === undefined) continue;
    if (answerFields[key].meta.kind === 'list' && typeof value === 'string') {
      out[key] = listValue(value);
    } else if (answerFields[key].meta.kind === 'boolean' && typeof value === 'string') {
      const b = booleanValue(value);
      if (b === undefined) {
        throw new UsageError(`--${flagName(key)} "${value}" is not true or false`);
      }
      out[key] = b;
    } else if (answerFields[key].meta.kind === 'number' && typeof value === 'string') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) {
        throw new UsageError(`--${flagName(key)} "${value}" is not a number`);
      }
      out[key] = n;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** How a `boolean` question is offered in a select. */
export const booleanChoices = ['false', 'true'] as const;

/** A `boolean` answer typed as text: `true`/`yes` or `false`/`no`; anything else is undefined. */
export function booleanValue(text: string | undefined): boolean | undefined {
  const t = (text ?? '').trim().toLowerCase();
  if (t === 'true' || t === 'yes') return true;
  if (t === 'false' || t === 'no') return false;
  return undefined;
}

/** A `list` answer typed as text: comma-separated, blanks dropped. */
export function listValue(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Merge the sources in precedence order; `undefined` never overrides. */
export function mergeSources(sources: AnswerSources): RawAnswers {
  const merged: RawAnswers = {};
  const layers: RawAnswers[] = [
    sources.yes ? sources.contextual : {},
    (sources.file as RawAnswers) ?? {},
    sources.flags,
  ];
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) merged[k as AnswerKey] = v;
  }
  return merged;
}

/** Questions that apply, have no value and no default: they must be asked or given. */
export function missingAnswers(raw: RawAnswers): AnswerKey[] {
  const withDefaults = defaultsApplied(raw);
  const missing = answerKeys.filter(
    (k) => applies(k, withDefaults) && raw[k] === undefined && !hasDefault(k),
  );
  // Cross-field requirements: gcpProject/awsAccountId are optional in type but required by cloud.
  if (applies('gcpProject', withDefaults) && raw.gcpProject === undefined)
    missing.push('gcpProject');
  if (applies('awsAccountId', withDefaults) && raw.awsAccountId === undefined)
    missing.push('awsAccountId');
  if (applies('githubRepo', withDefaults) && raw.githubRepo === undefined)
    missing.push('githubRepo');
  return missing;
}

function defaultsApplied(raw: RawAnswers): Partial<Answers> {
  const out: Record<string, unknown> = {};
  for (const k of answerKeys) {
    const parsed = answerFields[k].schema.safeParse(raw[k]);
    out[k] = parsed.success ? parsed.data : raw[k];
  }
  return out as Partial<Answers>;
}

/** Validate complete answers; every problem is listed, naming the field, its value and the rule. */
export function validateAnswers(raw: RawAnswers): Answers {
  const result = answersSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new UsageError('Invalid answers:', formatIssues(result.error.issues, raw));
}

/**
 * One line per issue, naming the answer as the user gave it: `--min-replicas 0: ...` for flags
 * (the default), `minReplicas 0: ...` for an answers file (`name: (key) => key`).
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  raw: RawAnswers,
  name: (key: AnswerKey) => string = (key) => `--${flagName(key)}`,
): string[] {
  return issues.map((issue) => {
    const key = issue.path[0];
    if (typeof key !== 'string') return issue.message;
    if (issue.code === 'unrecognized_keys') {
      return `unknown question${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
    }
    const value = raw[key as AnswerKey];
    const shown = value === undefined ? '(missing)' : JSON.stringify(value);
    return `${name(key as AnswerKey)} ${shown}: ${issue.message}`;
  });
}

/** A command line that would work non-interactively, for the error message of missing answers. */
export function exampleCommand(
  raw: RawAnswers,
  missing: readonly AnswerKey[],
  dir?: string,
): string {
  const examples: Partial<Record<AnswerKey, string>> = {
    name: 'churn-api',
    model: './model.onnx',
    gcpProject: 'my-gcp-project',
    awsAccountId: '123456789012',
    githubRepo: 'my-org/churn-api',
  };
  const parts = [
    'npx create-mlops-service',
    dir ?? (raw.name as string | undefined) ?? 'churn-api',
  ];
  for (const key of answerKeys) {
    if (key === 'name' && dir === undefined && raw.name === undefined) continue;
    const value = raw[key] ?? (missing.includes(key) ? (examples[key] ?? '<value>') : undefined);
    if (value === undefined || key === 'name') continue;
    const text = Array.isArray(value) ? value.join(',') : String(value);
    parts.push(`--${flagName(key)} ${shellQuote(text)}`);
  }
  return parts.join(' ');
}

function shellQuote(s: string): string {
  return /^[\w./:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
