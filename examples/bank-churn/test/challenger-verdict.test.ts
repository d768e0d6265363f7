/**
 * The challenger's verdict on pairs built so that the answer is known: which model is right on
 * which prediction is fixed by construction, so the discordant counts (b, c) are exact and the
 * p-values are SciPy's for those counts. And its paired window, fed by a stand-in worker.
 */
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../src/inference/outputs.js';
import type { InferencePool } from '../src/inference/pool.js';
import { createMetrics } from '../src/metrics.js';
import type { ModelContract } from '../src/model/contract-types.js';
import {
  type ChallengerRecord,
  ChallengerMonitor,
  type Pair,
  sampled,
} from '../src/monitoring/challenger.js';
import { compare } from '../src/monitoring/challenger-compare.js';
import type { QualitySettings } from '../src/monitoring/performance.js';

const settings = { alpha: 0.05, resamples: 500 };
const binary: QualitySettings = {
  task: 'binary',
  positiveLabel: '1',
  threshold: 0.5,
  slices: [],
  minSamples: 10,
  floors: {},
};

/** A binary prediction that is right or wrong about `actual`, with a score to match. */
function call(actual: string, right: boolean, i: number): Prediction {
  const jitter = (i % 7) / 100;
  const positive = actual === '1';
  const p1 = right ? (positive ? 0.7 + jitter : 0.3 - jitter) : positive ? 0.4 : 0.6;
  return { label: p1 >= 0.5 ? '1' : '0', probabilities: { '0': 1 - p1, '1': p1 } };
}

/**
 * 200 predictions: the champion is right when i % 10 < 6, the challenger when 1 <= i % 10 <= 8:
 * b (only the champion right) = 20, c (only the challenger right) = 60.
 */
function binaryPairs(swap = false): Pair[] {
  return Array.from({ length: 200 }, (_, i) => {
    const actual = i % 2 === 0 ? '1' : '0';
    const champion = call(actual, i % 10 < 6, i);
    const challenger = call(actual, i % 10 >= 1 && i % 10 <= 8, i);
    return swap
      ? { time: i, champion: challenger, challenger: champion, actual }
      : { time: i, champion, challenger, actual };
  });
}

describe("the challenger's verdict", () => {
  it('promotes a binary challenger better on labels (McNemar) and on ranking (ΔAUC interval above 0)', () => {
    const { tests, verdict } = compare(binaryPairs(), binary, settings);
    expect(tests.mcnemar).toMatchObject({ b: 20, c: 60, method: 'chi-square' });
    // scipy.stats.chi2.sf((|20 - 60| - 1)**2 / 80, 1)
    expect(tests.mcnemar!.pValue).toBeCloseTo(1.2986492541972959e-5, 12);
    expect(tests.accuracy).toEqual({ champion: 0.6, challenger: 0.8 });
    expect(tests.auc!.challenger).toBeGreaterThan(tests.auc!.champion);
    expect(tests.auc!.delta!.low).toBeGreaterThan(0);
    expect(tests.auc!.delta!.confidence).toBe(0.95);
    expect(verdict.verdict).toBe('promote');
  });

  it('keeps the champion when it is the better one, and when both are the same model', () => {
    const worse = compare(binaryPairs(true), binary, settings);
    expect(worse.tests.mcnemar).toMatchObject({ b: 60, c: 20 });
    expect(worse.verdict.verdict).toBe('keep');
    const twins = binaryPairs().map((p) => ({ ...p, challenger: p.champion }));
    const same = compare(twins, binary, settings);
    expect(same.tests.mcnemar).toMatchObject({ b: 0, c: 0, pValue: 1 });
    expect(same.tests.auc!.delta).toMatchObject({ estimate: 0, low: 0, high: 0 });
    expect(same.verdict.verdict).toBe('keep');
  });

  it('multiclass: McNemar alone decides; few discordant pairs use the exact test', () => {
    const labels = ['a', 'b', 'c'];
    const pairs: Pair[] = Array.from({ length: 60 }, (_, i) => {
      const actual = labels[i % 3]!;
      const wrong = labels[(i + 1) % 3]!;
      // b = 3 (i < 3), c = 12 (3 <= i < 15): binomtest(3, 15) two-sided
      const championRight = i < 3 || i >= 15;
      const challengerRight = i >= 3;
      return {
        time: i,
        champion: { label: championRight ? actual : wrong, probabilities: {} },
        challenger: { label: challengerRight ? actual : wrong, probabilities: {} },
        actual,
      };
    });
    const { tests, verdict } = compare(
      pairs,
      { ...binary, task: 'multiclass', positiveLabel: undefined },
      settings,
    );
    expect(tests.mcnemar).toMatchObject({ b: 3, c: 12, method: 'exact' });
    expect(tests.mcnemar!.pValue).toBeCloseTo(0.03515625, 12);
    expect(tests.auc).toBeUndefined();
    expect(verdict.verdict).toBe('promote');
    expect(
      compare(pairs, { ...binary, task: 'multiclass' }, { ...settings, alpha: 0.01 }).verdict
        .verdict,
    ).toBe('keep');
  });

  it('regression: promotes when the ΔMAE interval is below 0, keeps otherwise', () => {
    const regression: QualitySettings = { ...binary, task: 'regression' };
    const pairs: Pair[] = Array.from({ length: 100 }, (_, i) => ({
      time: i,
      champion: { prediction: i + (i % 2 === 0 ? 2 : -2) },
      challenger: { prediction: i + (i % 3 === 0 ? 1 : -0.5) },
      actual: i,
    }));
    const better = compare(pairs, regression, settings);
    expect(better.tests.mae!.champion).toBeCloseTo(2, 12);
    // |1| on 34 of 100 (i % 3 === 0), |0.5| on 66
    expect(better.tests.mae!.challenger).toBeCloseTo((34 + 33) / 100, 12);
    expect(better.tests.mae!.delta!.high).toBeLessThan(0);
    expect(better.verdict.verdict).toBe('promote');
    const swapped = pairs.map((p) => ({ ...p, champion: p.challenger, challenger: p.champion }));
    expect(compare(swapped, regression, settings).verdict.verdict).toBe('keep');
  });
});

describe('sampling', () => {
  it('is decided by the predictionId alone, at about the rate asked', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `req-${i}:${i % 7}`);
    const taken = ids.filter((id) => sampled(id, 0.25));
    expect(taken.length / ids.length).toBeGreaterThan(0.23);
    expect(taken.length / ids.length).toBeLessThan(0.27);
    expect(ids.filter((id) => sampled(id, 0.25))).toEqual(taken);
    // A larger rate takes a superset: raising CHALLENGER_SAMPLE_RATE keeps the earlier sample.
    const more = new Set(ids.filter((id) => sampled(id, 0.5)));
    expect(taken.every((id) => more.has(id))).toBe(true);
    expect(ids.every((id) => sampled(id, 1))).toBe(true);
    expect(ids.some((id) => sampled(id, 0))).toBe(false);
  });

  it('samples the rows of one batch independently, not the whole batch or none of it', () => {
    // The ids the service gives a batch's rows: `<requestId>:<row>`, requestIds `<prefix>-<n>`.
    let allOrNothing = 0;
    for (let r = 0; r < 2000; r++) {
      const rows = Array.from({ length: 50 }, (_, i) => `5f3a01c2-${r.toString(36)}:${i}`);
      const taken = rows.filter((id) => sampled(id, 0.5)).length;
      if (taken === 0 || taken === rows.length) allOrNothing += 1;
    }
    // Independent rows at 50%: a 50-row batch is all-or-nothing with probability 2^-49.
    expect(allOrNothing).toBe(0);
  });
});

describe('the paired window', () => {
  // A one-feature binary model; the fake challenger worker answers p(1) = x for each row.
  const model = {
    name: 'm',
    version: '1',
    task: 'binary',
    kind: 'records',
    layout: 'columns',
    batching: { mode: 'merge' },
    inputs: [{ name: 'x', type: 'float32', shape: ['N', 1] }],
    outputs: [{ name: 'p', type: 'float32', shape: ['N', 2] }],
    features: [
      { name: 'x', input: 'x', column: 0, tensorType: 'float32', type: 'number', nullable: false },
    ],
    outputNames: { probabilities: 'p' },
    extraOutputs: [],
    labels: ['0', '1'],
    positiveLabel: '1',
    threshold: 0.5,
    artifacts: {},
  } as unknown as ModelContract;
  const quality: QualitySettings = { ...binary, minSamples: 2 };

  function monitor(options: { window?: number; queue?: number; warm?: number } = {}) {
    const lines: ChallengerRecord[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pool = {
      warmWorkers: options.warm ?? 1,
      health: 'ready',
      async run(task: { batch: { n: number; data: Record<string, Float32Array> } }) {
        await gate;
        const x = task.batch.data.float32!;
        const p = new Float32Array(task.batch.n * 2);
        for (let i = 0; i < task.batch.n; i++) [p[2 * i], p[2 * i + 1]] = [1 - x[i]!, x[i]!];
        return { outputs: { p: { dims: [task.batch.n, 2], data: p } }, computeMs: 0 };
      },
    };
    const m = new ChallengerMonitor({
      challenger: {
        dir: '/c',
        path: '/c/model.onnx',
        sha256: 'ab',
        version: 'v2',
        contract: model,
      },
      quality,
      settings: {
        sampleRate: 1,
        queue: options.queue ?? 100,
        window: options.window ?? 100,
        ttlMs: 100_000,
        alpha: 0.05,
        resamples: 100,
        minSamples: 2,
        maxBatchSize: 2,
      },
      metrics: createMetrics(model, 'ab'),
      logger: pino({ level: 'silent' }) as unknown as FastifyBaseLogger,
      log: {
        write: (r) => lines.push(r),
        close: async () => undefined,
        stats: () => ({ written: 0, lost: 0, fileBytes: 0 }),
      },
      pool: () => pool as unknown as InferencePool,
    });
    const champion = (x: number): Prediction => ({
      label: x >= 0.5 ? '1' : '0',
      probabilities: { '0': 1 - x, '1': x },
    });
    return { m, lines, release, champion };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('keeps at most CHALLENGER_WINDOW pairs, logs every output, and pairs truth that came first', async () => {
    const { m, lines, release, champion } = monitor({ window: 3 });
    for (let i = 0; i < 5; i++) m.offer(`id-${i}`, { x: i / 10 }, champion(i / 10), 100 + i);
    // Truth for a prediction the challenger has not answered yet waits with it.
    m.addTruth('id-4', '1');
    await settle();
    release();
    for (let i = 0; i < 5; i++) await settle();
    const r = m.report(200) as any;
    expect(r).toMatchObject({ samples: 5, waiting: 0, window: { pairs: 3, withTruth: 1 } });
    expect(r.agreement).toEqual({ pairs: 3, rate: 1 });
    expect(lines.map((l) => l.predictionId)).toEqual(['id-0', 'id-1', 'id-2', 'id-3', 'id-4']);
    expect(lines[4]).toEqual({
      predictionId: 'id-4',
      modelVersion: 'v2',
      outputs: {
        label: '0',
        probabilities: { '0': expect.closeTo(0.6, 6), '1': expect.closeTo(0.4, 6) },
      },
    });
  });

  it('skips and counts what it cannot take, and forgets pairs past QUALITY_TTL_HOURS', async () => {
    const cold = monitor({ warm: 0 });
    cold.m.offer('a', { x: 0.9 }, cold.champion(0.9), 0);
    expect((cold.m.report(0) as any).skipped).toEqual({ queue_full: 0, not_ready: 1, failed: 0 });

    const { m, release, champion } = monitor({ queue: 2 });
    for (let i = 0; i < 4; i++) m.offer(`q-${i}`, { x: 0.9 }, champion(0.9), 0);
    expect((m.report(0) as any).skipped.queue_full).toBe(2);
    release();
    for (let i = 0; i < 5; i++) await settle();
    // Reports are reused for a moment (at most 5 s) after they were computed: ask later.
    expect((m.report(6_000) as any).window.pairs).toBe(2);
    // Past the TTL (100 s here) the pairs are gone.
    expect((m.report(200_000) as any).window.pairs).toBe(0);
  });
});
