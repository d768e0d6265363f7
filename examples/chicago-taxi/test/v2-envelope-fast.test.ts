/**
 * The compiled fast check of a V2 inference request's envelope (model/fast-validation.ts) against
 * the zod schema of routes/v2.ts: whatever it accepts, zod accepts unchanged; it accepts an
 * ordinary request (or it would save nothing).
 */
import { describe, expect, it } from 'vitest';
import { fastInferRequestCheck } from '../src/model/fast-validation.js';
import { inferRequestSchema, v2Datatypes } from '../src/routes/v2.js';

const tensor = { name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] };
const ordinary = { id: 'r1', inputs: [tensor], outputs: [{ name: 'y' }] };

/** Requests at and past the edges of the envelope: names, ids, shapes, datatypes, parameters. */
const variants: unknown[] = [
  ordinary,
  { inputs: [tensor] },
  { inputs: [] },
  {},
  null,
  [ordinary],
  { ...ordinary, extra: 1 },
  { ...ordinary, id: 'x'.repeat(256) },
  { ...ordinary, id: 'x'.repeat(257) },
  { ...ordinary, id: '😀'.repeat(128) },
  { ...ordinary, id: '😀'.repeat(129) },
  { ...ordinary, id: 7 },
  { ...ordinary, parameters: { a: 1, b: 'x', c: true } },
  { ...ordinary, parameters: { a: null } },
  { ...ordinary, parameters: { a: { nested: 1 } } },
  { ...ordinary, parameters: [] },
  { ...ordinary, outputs: [] },
  { ...ordinary, outputs: [{}] },
  { ...ordinary, outputs: [{ name: '' }] },
  { ...ordinary, outputs: [{ name: 'y', extra: 1 }] },
  { ...ordinary, outputs: [{ name: 'y', parameters: { classification: 2 } }] },
  ...[
    { name: '' },
    { name: 'x'.repeat(256) },
    { name: 'x'.repeat(257) },
    { name: '😀'.repeat(129) },
    { shape: [] },
    { shape: [-1, 2] },
    { shape: [1.5, 2] },
    { shape: [1, 2, 3, 4, 5, 6, 7, 8] },
    { shape: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
    { shape: [Number.MAX_SAFE_INTEGER + 2] },
    { shape: '1,2' },
    { datatype: 'FP128' },
    { datatype: 'fp32' },
    ...v2Datatypes.map((datatype) => ({ datatype })),
    { data: undefined },
    { data: 'abc' },
    { data: [[1, 2]] },
    { parameters: { binary_data_size: 8 } },
    { extra: true },
  ].map((change) => ({ inputs: [{ ...tensor, ...change }] })),
];

describe('the compiled fast check of a V2 request', () => {
  it('accepts an ordinary request', () => {
    expect(fastInferRequestCheck(v2Datatypes)(ordinary)).toBe(true);
  });

  it('accepts only what zod accepts unchanged', () => {
    const fast = fastInferRequestCheck(v2Datatypes);
    let accepted = 0;
    for (const body of variants) {
      if (!fast(body)) continue;
      accepted += 1;
      const result = inferRequestSchema.safeParse(body);
      expect(result.success, JSON.stringify(body)).toBe(true);
      expect(result.data, JSON.stringify(body)).toEqual(body);
    }
    expect(accepted).toBeGreaterThan(10);
  });
});
