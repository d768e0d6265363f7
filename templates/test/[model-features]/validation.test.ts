/**
 * The validation matrix, generated from the model's features: every kind of bad value gets a 400
 * whose body names the field; malformed JSON is a 400, an oversize body a 413; no answer ever
 * carries a stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Feature } from '../src/model/contract-types.js';
import { contract } from '../src/model/contract.js';
import { type TestService, expectNoStack, startService } from './helpers/service.js';

let svc: TestService;
let example: Record<string, unknown>;
beforeAll(async () => {
  svc = await startService({ BODY_LIMIT_BYTES: '65536' });
  example = svc.service.context.exampleRow;
});
afterAll(() => svc.close());

interface Case {
  readonly name: string;
  readonly value: unknown;
}

/** Bad values for one feature, from its type and the contract's ranges, categories and lengths. */
function badValues(f: Feature): Case[] {
  const cases: Case[] = [
    { name: 'an array', value: [1] },
    { name: 'an object', value: { a: 1 } },
    { name: 'a boolean', value: true },
  ];
  switch (f.type) {
    case 'number':
    case 'integer':
      cases.push(
        { name: 'a string', value: '42' },
        { name: 'a numeric string "NaN"', value: 'NaN' },
      );
      if (!f.nullable) cases.push({ name: 'null', value: null });
      if (f.min !== undefined) cases.push({ name: 'below min', value: f.min - 1 });
      if (f.max !== undefined) cases.push({ name: 'above max', value: f.max + 1 });
      if (f.type === 'integer') cases.push({ name: 'a fraction', value: (f.min ?? 0) + 0.5 });
      if (f.tensorType === 'float32') cases.push({ name: 'beyond float32', value: 1e39 });
      break;
    case 'category':
      cases.push({ name: 'a number', value: 3 });
      if (!f.nullable) cases.push({ name: 'null', value: null });
      if (f.categories.length > 0 && contract.unknownCategories === 'reject') {
        cases.push({ name: 'an unknown category', value: 'definitely-not-a-category' });
      }
      cases.push({ name: 'an empty string', value: '' });
      break;
    case 'text':
      cases.push(
        { name: 'a number', value: 3 },
        { name: 'null', value: null },
        { name: 'an empty string', value: '' },
        { name: 'only whitespace', value: ' \n\t ' },
        { name: 'longer than maxLength', value: 'x'.repeat(f.maxLength + 1) },
      );
      break;
  }
  return cases;
}

describe.each(contract.features.map((f) => [f.name, f] as const))('feature %s', (name, feature) => {
  it.each(badValues(feature).map((c) => [c.name, c] as const))(
    'refuses %s with a 400 naming the field',
    async (_label, c) => {
      const res = await svc.post('/predict', { ...example, [name]: c.value });
      expectNoStack(res.body);
      if (res.statusCode === 413) return; // an oversize text can hit the body limit first: also a refusal
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.error).toContain(name);
      expect(body.details).toEqual([{ field: name, message: expect.any(String) }]);
      expect(body.requestId).toBe(res.headers['x-request-id']);
    },
  );

  it('is required', async () => {
    const { [name]: _omitted, ...rest } = example;
    const res = await svc.post('/predict', rest);
    if (feature.type !== 'text' && feature.nullable) {
      expect(res.statusCode).toBe(200);
    } else {
      expect(res.statusCode).toBe(400);
      expect(res.json().details).toEqual([{ field: name, message: 'is required' }]);
    }
  });
});

describe('the record as a whole', () => {
  it('names every bad field at once', async () => {
    const broken = Object.fromEntries(contract.features.map((f) => [f.name, [] as unknown]));
    const res = await svc.post('/predict', broken);
    expect(res.statusCode).toBe(400);
    expect(res.json().details.map((d: { field: string }) => d.field)).toEqual(
      contract.features.map((f) => f.name),
    );
  });

  it('refuses unknown fields, naming each', async () => {
    const res = await svc.post('/predict', { ...example, extra: 1, another: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([
      { field: 'extra', message: 'unknown field' },
      { field: 'another', message: 'unknown field' },
    ]);
  });

  it.each([
    ['an array', [1, 2]],
    ['a string', 'hello'],
    ['null', null],
    ['a number', 42],
  ])('refuses %s as the body', async (_label, body) => {
    const res = await svc.post('/predict', JSON.stringify(body));
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/invalid request|not valid JSON|empty/);
  });

  it.each([
    ['truncated JSON', '{"a": '],
    ['a NaN literal', '{"x": NaN}'],
    ['an Infinity literal', '{"x": Infinity}'],
    ['trailing garbage', '{} {}'],
  ])('answers %s with 400 "not valid JSON"', async (_label, raw) => {
    const res = await svc.post('/predict', raw);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('the body is not valid JSON');
    expectNoStack(res.body);
  });

  it('refuses a number that overflows to Infinity (1e400)', async () => {
    const numeric = contract.features.find((f) => f.type === 'number' || f.type === 'integer');
    if (!numeric) return;
    const raw = JSON.stringify({ ...example, [numeric.name]: 0 }).replace(
      `"${numeric.name}":0`,
      `"${numeric.name}":1e400`,
    );
    const res = await svc.post('/predict', raw);
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([
      { field: numeric.name, message: 'must be a finite number' },
    ]);
  });

  it('an empty body is a 400', async () => {
    const res = await svc.post('/predict', '');
    expect(res.statusCode).toBe(400);
  });

  it('a body over BODY_LIMIT_BYTES is a 413', async () => {
    const rows = Math.ceil(70_000 / JSON.stringify(example).length);
    const res = await svc.post('/predict/batch', {
      instances: Array.from({ length: rows }, () => example),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatch(/larger than 65536 bytes/);
  });

  it('a body that is not JSON is a 415', async () => {
    const res = await svc.service.app.inject({
      method: 'POST',
      url: '/predict',
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toHaveProperty('error');
  });

  it('counts validation failures by route', async () => {
    await svc.post('/predict', { nope: 1 });
    const metrics = await svc.get('/metrics');
    expect(metrics.body).toMatch(/mlservice_validation_errors_total\{route="\/predict"\} [1-9]/);
  });
});
