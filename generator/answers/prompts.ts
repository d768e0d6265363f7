/**
 * Interactive questions (@clack/prompts) for what flags and the answers file left open. The
 * questions, their defaults and their validation all come from the answers schema; before anything
 * is written, `confirmCreate` shows what will be made and asks to go on.
 */
import * as p from '@clack/prompts';
import { CancelledError } from '../errors.js';
import {
  type AnswerKey,
  answerFields,
  answerKeys,
  type FieldMeta,
  applies,
  cloudChoices,
  eksEndpointChoices,
  githubOidcProviderChoices,
  taskKinds,
} from './schema.js';
import { type RawAnswers, booleanChoices, booleanValue, listValue } from './resolve.js';

const choices: Partial<Record<AnswerKey, readonly string[]>> = {
  cloud: cloudChoices,
  task: taskKinds,
  awsGithubOidcProvider: githubOidcProviderChoices,
  eksEndpoint: eksEndpointChoices,
  progressiveDelivery: booleanChoices,
};

/** A typed answer as the schema takes it: numbers parsed, lists split on commas, yes/no to booleans. */
function typedValue(kind: FieldMeta['kind'], value: string | undefined): unknown {
  if (kind === 'number') return Number(value);
  if (kind === 'list') return listValue(value ?? '');
  if (kind === 'boolean') return booleanValue(value);
  return value;
}
const groupTitles = {
  service: 'Service',
  model: 'Model',
  cloud: 'Cloud',
  capacity: 'Capacity',
} as const;

function validator(key: AnswerKey) {
  return (value: string | undefined): string | undefined => {
    const meta: FieldMeta = answerFields[key].meta;
    const schema = answerFields[key].schema;
    if ((value ?? '') === '' && schema.safeParse(undefined).success) return undefined;
    const parsed = schema.safeParse(typedValue(meta.kind, value));
    return parsed.success ? undefined : (parsed.error.issues[0]?.message ?? 'invalid');
  };
}

function unwrap<T>(value: T | symbol): T {
  if (p.isCancel(value)) throw new CancelledError();
  return value as T;
}

/**
 * Asks one question with its schema's validation; `fallback` is the value offered first (a default,
 * or a contextual one); `only` narrows a choice to the values that fit. Returns undefined when the
 * user leaves an optional question unset.
 */
export async function askQuestion(
  key: AnswerKey,
  fallback: unknown,
  options: { suffix?: string; only?: readonly string[] } = {},
): Promise<unknown> {
  const meta: FieldMeta = answerFields[key].meta;
  const schema = answerFields[key].schema;
  const message = options.suffix ? `${meta.message} ${options.suffix}` : meta.message;
  const list = choices[key]?.filter((c) => !options.only || options.only.includes(c));
  if (list) {
    const optional = fallback === undefined && schema.safeParse(undefined).success;
    const value = unwrap(
      await p.select({
        message,
        options: [
          ...(optional ? [{ value: '', label: meta.hint ?? 'leave unset' }] : []),
          ...list.map((c) => ({ value: c, label: c })),
        ],
        initialValue: fallback === undefined ? (optional ? '' : list[0]) : String(fallback),
      }),
    );
    return value === '' ? undefined : typedValue(meta.kind, String(value));
  }
  const value = unwrap(
    await p.text({
      message,
      placeholder: meta.hint ?? '',
      defaultValue: fallback === undefined ? '' : String(fallback),
      initialValue: fallback === undefined ? '' : String(fallback),
      validate: validator(key),
    }),
  );
  if (value === '' || value === undefined) return undefined;
  return typedValue(meta.kind, String(value));
}

/** The schema default of a question, if it has one. */
export function schemaDefault(key: AnswerKey): unknown {
  const parsed = answerFields[key].schema.safeParse(undefined);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Is the question worth asking, given the answers so far? It must apply (the schema's `when`), and
 * the questions that only shape cloud resources (the registry, replicas, pod CPU and memory: the
 * `cloud` and `capacity` groups) are not asked without a cloud: nothing would use the answer, so
 * it keeps its default. The task is read from the model's graph: it is asked only when the graph
 * cannot state it (`create`, after reading the model), never up front.
 */
export function worthAsking(key: AnswerKey, answers: RawAnswers): boolean {
  if (!applies(key, answers) || key === 'task') return false;
  const { group }: FieldMeta = answerFields[key].meta;
  if (key === 'cloud' || (group !== 'cloud' && group !== 'capacity')) return true;
  return (answers.cloud ?? schemaDefault('cloud')) !== 'none';
}

/** Asks every question worth asking that `settled` does not answer; returns the completed answers. */
export async function askMissing(settled: RawAnswers, contextual: RawAnswers): Promise<RawAnswers> {
  const answers: RawAnswers = { ...settled };
  let group: string | undefined;
  for (const key of answerKeys) {
    if (answers[key] !== undefined || !worthAsking(key, answers)) continue;
    const meta: FieldMeta = answerFields[key].meta;
    if (meta.group !== group) {
      group = meta.group;
      p.log.step(groupTitles[meta.group]);
    }
    const value = await askQuestion(key, contextual[key] ?? schemaDefault(key));
    if (value !== undefined) answers[key] = value;
  }
  return answers;
}

/**
 * Shows what is about to be created (the lines of `summarize`) and asks to go on. Interactive runs
 * only: `--yes`, `--json`, CI and runs without a terminal never call it. Ctrl-C or Escape is a
 * CancelledError (exit 130); "No" returns false, and the caller writes nothing.
 */
export async function confirmCreate(lines: readonly string[]): Promise<boolean> {
  p.note(lines.join('\n'), 'About to create');
  return unwrap<boolean>(await p.confirm({ message: 'Create the project?', initialValue: true }));
}
