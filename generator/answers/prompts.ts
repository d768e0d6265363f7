/**
 * Interactive questions (@clack/prompts) for what flags and the answers file left open. The
 * questions, their defaults and their validation all come from the answers schema.
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
  taskKinds,
} from './schema.js';
import type { RawAnswers } from './resolve.js';

const choices: Partial<Record<AnswerKey, readonly string[]>> = {
  cloud: cloudChoices,
  task: taskKinds,
};
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
    const parsed = schema.safeParse(meta.kind === 'number' ? Number(value) : value);
    return parsed.success ? undefined : (parsed.error.issues[0]?.message ?? 'invalid');
  };
}

function unwrap<T>(value: T | symbol): T {
  if (p.isCancel(value)) throw new CancelledError();
  return value as T;
}

/** Asks every applicable question that `settled` does not answer; returns the completed answers. */
export async function askMissing(settled: RawAnswers, contextual: RawAnswers): Promise<RawAnswers> {
  const answers: RawAnswers = { ...settled };
  let group: string | undefined;
  for (const key of answerKeys) {
    if (answers[key] !== undefined || !applies(key, answers)) continue;
    const meta: FieldMeta = answerFields[key].meta;
    const schema = answerFields[key].schema;
    if (meta.group !== group) {
      group = meta.group;
      p.log.step(groupTitles[meta.group]);
    }
    const fallback =
      contextual[key] ??
      (schema.safeParse(undefined).success ? schema.safeParse(undefined).data : undefined);
    const list = choices[key];
    if (list) {
      const optional = fallback === undefined && schema.safeParse(undefined).success;
      const value = unwrap(
        await p.select({
          message: meta.message,
          options: [
            ...(optional ? [{ value: '', label: meta.hint ?? 'leave unset' }] : []),
            ...list.map((c) => ({ value: c, label: c })),
          ],
          initialValue: fallback === undefined ? (optional ? '' : list[0]) : String(fallback),
        }),
      );
      if (value !== '') answers[key] = value;
      continue;
    }
    const value = unwrap(
      await p.text({
        message: meta.message,
        placeholder: meta.hint ?? '',
        defaultValue: fallback === undefined ? '' : String(fallback),
        initialValue: fallback === undefined ? '' : String(fallback),
        validate: validator(key),
      }),
    );
    if (value !== '' && value !== undefined)
      answers[key] = meta.kind === 'number' ? Number(value) : value;
  }
  return answers;
}
