/**
 * Parity with the training framework: the golden predictions shipped with the model (scikit-learn's
 * outputs on held-out rows, saved at training time) must come out of this service, through
 * /predict, /predict/batch and the V2 endpoint, concurrently (so coalesced batches are checked too).
 * Probabilities within 1e-5 absolute, regression values within 1e-4 relative.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Golden } from '../src/model/artifacts.js';
import { contract } from '../src/model/contract.js';
import { servingInputs } from '../src/model/serving.js';
import { type TestService, startService } from './helpers/service.js';

let svc: TestService;
let golden: Golden | null;
beforeAll(async () => {
  svc = await startService({ WORKERS: '2' });
  golden = svc.service.context.model.golden;
});
afterAll(() => svc.close());

type Case = Golden['cases'][number];

function expectMatches(
  c: Case,
  p: { label?: string; probabilities?: Record<string, number>; prediction?: number },
): void {
  if ('prediction' in c) {
    const tolerance = Math.max(1e-4 * Math.abs(c.prediction), 1e-4);
    expect(Math.abs(p.prediction! - c.prediction)).toBeLessThanOrEqual(tolerance);
    return;
  }
  const probabilities = contract.labels.map((l) => p.probabilities![l]!);
  c.probabilities.forEach((expected, i) =>
    expect(Math.abs(probabilities[i]! - expected)).toBeLessThanOrEqual(1e-5),
  );
  expect(p.label).toBe(String(c.label));
}

describe('golden predictions', () => {
  it('the model ships golden predictions (a model without them cannot be checked)', (ctx) => {
    if (!contract.artifacts.golden) ctx.skip();
    expect(golden?.cases.length).toBeGreaterThan(0);
  });

  it('/predict reproduces every golden case, requests sent concurrently', async (ctx) => {
    if (!golden) return ctx.skip();
    const answers = await Promise.all(golden.cases.map((c) => svc.post('/predict', c.input)));
    answers.forEach((res, i) => {
      expect(res.statusCode, res.body).toBe(200);
      expectMatches(golden!.cases[i]!, res.json());
    });
  });

  it('/predict/batch reproduces them in one request', async (ctx) => {
    if (!golden) return ctx.skip();
    const res = await svc.post('/predict/batch', { instances: golden.cases.map((c) => c.input) });
    expect(res.statusCode, res.body).toBe(200);
    res.json().predictions.forEach((p: never, i: number) => expectMatches(golden!.cases[i]!, p));
  });

  it('/predict/batch past MAX_BATCH_SIZE is run in several model runs, joined in order', async (ctx) => {
    // A model run never takes more than MAX_BATCH_SIZE rows (what a run allocates grows with its
    // rows): a larger request is run in chunks, and its answers must not notice.
    if (!golden || golden.cases.length < 3) return ctx.skip();
    const small = await startService({ WORKERS: '1', MAX_BATCH_SIZE: '2' });
    try {
      const res = await small.post('/predict/batch', {
        instances: golden.cases.map((c) => c.input),
      });
      expect(res.statusCode, res.body).toBe(200);
      res.json().predictions.forEach((p: never, i: number) => expectMatches(golden!.cases[i]!, p));
    } finally {
      await small.close();
    }
  });

  it('the V2 endpoint returns the same tensors', async (ctx) => {
    if (!golden) return ctx.skip();
    const n = golden.cases.length;
    const inputs = servingInputs(contract).map((input) => {
      const features = contract.features
        .filter((f) => f.input === input.name)
        .sort((a, b) => a.column - b.column);
      const width = features.length;
      return {
        name: input.name,
        shape: input.shape.length === 1 ? [n] : [n, width],
        datatype: input.type === 'string' ? 'BYTES' : 'FP64',
        data: golden!.cases.flatMap((c) =>
          features.map((f) => c.input[f.name] ?? (input.type === 'string' ? '' : null)),
        ),
      };
    });
    const res = await svc.post(`/v2/models/${contract.name}/infer`, { inputs });
    expect(res.statusCode, res.body).toBe(200);
    const outputs = res.json().outputs as Array<{ name: string; data: number[] }>;
    golden.cases.forEach((c, i) => {
      if ('prediction' in c) {
        const data = outputs.find((o) => o.name === contract.outputNames.prediction)!.data;
        expect(Math.abs(data[i]! - c.prediction)).toBeLessThanOrEqual(
          Math.max(1e-4 * Math.abs(c.prediction), 1e-4),
        );
      } else {
        const raw = outputs.find((o) => o.name === contract.outputNames.probabilities)!.data;
        const k = contract.labels.length;
        // A transformer's output is logits: the golden probabilities are their softmax.
        const data = contract.tokenizer ? softmaxRows(raw, k) : raw;
        c.probabilities.forEach((expected, j) =>
          expect(Math.abs(data[i * k + j]! - expected)).toBeLessThanOrEqual(1e-5),
        );
      }
    });
  });
});

function softmaxRows(data: readonly number[], k: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < data.length / k; r++) {
    const row = data.slice(r * k, (r + 1) * k);
    const max = Math.max(...row);
    const exp = row.map((v) => Math.exp(v - max));
    const total = exp.reduce((a, b) => a + b, 0);
    out.push(...exp.map((e) => e / total));
  }
  return out;
}
