/**
 * The challenger's verdict on pairs built so that the answer is known: which model is right on
 * which prediction is fixed by construction, so the discordant counts (b, c) are exact and the
 * p-values are SciPy's for those counts.
 */
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../src/inference/outputs.js';
import { type Pair, compare, sampled } from '../src/monitoring/challenger.js';
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
});
