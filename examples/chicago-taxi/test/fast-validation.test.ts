/**
 * The fast path of validation (model/fast-validation.ts) against zod, the service's reference:
 * over the validation matrix's values and their edges, whatever the compiled check accepts, zod
 * accepts too, unchanged. (What it refuses goes to zod, so the 400s keep zod's messages; the
 * validation matrix checks those.) And it does accept the ordinary record: a fast path that never
 * fires would pass the first check and save nothing.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleBody, loadModel } from '../src/model/artifacts.js';
import type { Feature } from '../src/model/contract-types.js';
import { contract } from '../src/model/contract.js';
import { fastBatchCheck, fastRecordCheck } from '../src/model/fast-validation.js';
import { batchSchema, numberRange, recordSchema } from '../src/model/schemas.js';
import { projectRoot } from './helpers/build.js';

let example: Record<string, unknown>;
beforeAll(async () => {
  const model = await loadModel(contract, join(projectRoot, 'model', 'model.onnx'));
  example = exampleBody(contract, model) as Record<string, unknown>;
});

/** Values at and around the edges of what a feature takes, valid or not. */
function edgeValues(f: Feature): unknown[] {
  const common: unknown[] = [null, undefined, true, [1], { a: 1 }, '', ' ', '42', 0, -0, 1.5];
  switch (f.type) {
    case 'number':
    case 'integer': {
      const [min, max] = numberRange(f);
      return [
        ...common,
        min,
        max,
        min - 1,
        max + 1,
        min + 0.5,
        Number.MAX_SAFE_INTEGER,
        Number.MAX_SAFE_INTEGER + 2,
        1e20,
        -1e20,
        1e39,
        Number.MIN_VALUE,
      ].filter((v) => typeof v !== 'number' || Number.isFinite(v));
    }
    case 'category':
      return [
        ...common,
        ...f.categories,
        ...f.categories.map((c) => `${c} `),
        'definitely-not-a-category',
        'x'.repeat(200),
        'x'.repeat(201),
        '😀'.repeat(100),
        '😀'.repeat(101),
      ];
    case 'text':
      return [
        ...common,
        ' \n\t ',
        '\u00a0',
        ' a ',
        'x'.repeat(f.minLength),
        'x'.repeat(Math.max(0, f.minLength - 1)),
        'x'.repeat(f.maxLength),
        'x'.repeat(f.maxLength + 1),
        '😀'.repeat(Math.floor(f.maxLength / 2)),
        '😀'.repeat(Math.floor(f.maxLength / 2) + 1),
      ];
  }
}

/** The example record with one feature set to a value (undefined: the feature left out). */
function withValue(name: string, value: unknown): Record<string, unknown> {
  const row: Record<string, unknown> = { ...example };
  if (value === undefined) delete row[name];
  else row[name] = value;
  return row;
}

describe('the compiled fast check accepts only what zod accepts unchanged', () => {
  it('it accepts the ordinary record (so the fast path is taken)', () => {
    expect(fastRecordCheck(contract)(example)).toBe(true);
    expect(fastBatchCheck(contract, 1000)({ instances: [example, example] })).toBe(true);
  });

  it.each(contract.features.map((f) => [f.name, f] as const))(
    'every edge value of %s',
    (_name, f) => {
      const fast = fastRecordCheck(contract);
      const zod = recordSchema(contract);
      let accepted = 0;
      for (const value of edgeValues(f)) {
        const row = withValue(f.name, value);
        if (!fast(row)) continue;
        accepted += 1;
        const result = zod.safeParse(row);
        expect(result.success, `${f.name} = ${JSON.stringify(value)}`).toBe(true);
        expect(result.data, `${f.name} = ${JSON.stringify(value)}`).toEqual(row);
      }
      expect(accepted).toBeGreaterThan(0);
    },
  );

  it('unknown fields, a missing record and batch bounds are left to zod', () => {
    const fast = fastRecordCheck(contract);
    expect(fast({ ...example, unknown: 1 })).toBe(false);
    expect(fast(null)).toBe(false);
    expect(fast([example])).toBe(false);
    const batch = fastBatchCheck(contract, 2);
    const zodBatch = batchSchema(contract, 2);
    for (const body of [
      { instances: [] },
      { instances: [example, example, example] },
      { instances: [example], extra: 1 },
      { rows: [example] },
    ]) {
      expect(batch(body)).toBe(false);
      expect(zodBatch.safeParse(body).success).toBe(false);
    }
  });
});
