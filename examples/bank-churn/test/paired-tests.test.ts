/**
 * The paired tests of the challenger report against values computed independently (SciPy 1.10,
 * scikit-learn, NumPy), never against this code's own output.
 */
import { describe, expect, it } from 'vitest';
import {
  binomialCdfHalf,
  chiSquare1Sf,
  mcnemar,
  pairedBootstrap,
  quantile,
  rankScores,
  weightedAuc,
  weightedMae,
} from '../src/monitoring/paired-tests.js';

describe("McNemar's test", () => {
  it('is the exact two-sided binomial test below 25 discordant pairs', () => {
    // scipy.stats.binomtest(10, 12).pvalue
    expect(mcnemar(10, 2)).toMatchObject({ method: 'exact', statistic: null });
    expect(mcnemar(10, 2).pValue).toBeCloseTo(0.03857421875, 12);
    expect(mcnemar(2, 10).pValue).toBeCloseTo(0.03857421875, 12);
    // binomtest(3, 12), binomtest(12, 24), binomtest(0, 3)
    expect(mcnemar(3, 9).pValue).toBeCloseTo(0.14599609375, 12);
    expect(mcnemar(12, 12).pValue).toBe(1);
    expect(mcnemar(0, 3).pValue).toBeCloseTo(0.25, 12);
    expect(mcnemar(0, 0).pValue).toBe(1);
  });

  it('is chi-square with continuity correction from 25 discordant pairs', () => {
    // (|30 - 15| - 1)^2 / 45; scipy.stats.chi2.sf(4.3555..., 1)
    const m = mcnemar(30, 15);
    expect(m.method).toBe('chi-square');
    expect(m.statistic).toBeCloseTo(196 / 45, 12);
    expect(m.pValue).toBeCloseTo(0.036888425707049914, 10);
    // (|20 - 5| - 1)^2 / 25 = 7.84; chi2.sf(7.84, 1)
    expect(mcnemar(20, 5).pValue).toBeCloseTo(0.005110260660855866, 10);
  });

  it('computes the binomial tail and the chi-square survival function', () => {
    expect(binomialCdfHalf(2, 12)).toBeCloseTo(79 / 4096, 14);
    expect(binomialCdfHalf(12, 12)).toBe(1);
    // scipy.stats.chi2.sf(3.841458820694124, 1) = 0.05
    expect(chiSquare1Sf(3.841458820694124)).toBeCloseTo(0.05, 12);
    expect(chiSquare1Sf(0)).toBe(1);
  });
});

describe('weighted metrics', () => {
  const scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.4];
  const positive = [0, 0, 1, 1, 1, 1, 0, 0].map(Boolean);

  it('ROC-AUC matches scikit-learn, ties counted one half, with and without weights', () => {
    const ranked = rankScores(scores, positive);
    // roc_auc_score(y, s) and roc_auc_score(y, s, sample_weight=[1, 2, 0, 1, 3, 1, 2, 1])
    expect(weightedAuc(ranked, new Array(8).fill(1))).toBeCloseTo(0.8125, 12);
    expect(weightedAuc(ranked, [1, 2, 0, 1, 3, 1, 2, 1])).toBeCloseTo(0.85, 12);
    expect(weightedAuc(ranked, [1, 1, 0, 0, 0, 0, 1, 1])).toBeUndefined();
  });

  it('MAE matches numpy.average(|p - a|, weights=w)', () => {
    expect(weightedMae([1, 2.5, 3, 7], [1.5, 2, 5, 6], [2, 0, 1, 3])).toBeCloseTo(1, 12);
    expect(weightedMae([1], [2], [0])).toBeUndefined();
  });

  it('quantiles interpolate linearly like numpy.quantile', () => {
    const sorted = [1, 2, 4, 8, 16];
    expect(quantile(sorted, 0.025)).toBeCloseTo(1.1, 12);
    expect(quantile(sorted, 0.5)).toBe(4);
    expect(quantile(sorted, 0.975)).toBeCloseTo(15.2, 12);
  });
});

describe('paired bootstrap', () => {
  const n = 400;
  // A champion that errs by 1 on every pair and a challenger that errs by 0.5: ΔMAE is -0.5
  // whatever the resample, so the interval is exactly that point.
  const actual = Array.from({ length: n }, (_, i) => i % 17);
  const champion = actual.map((a, i) => a + (i % 2 === 0 ? 1 : -1));
  const challenger = actual.map((a, i) => a + (i % 2 === 0 ? 0.5 : -0.5));
  const delta = (w: Float64Array) => {
    const c = weightedMae(challenger, actual, w);
    const h = weightedMae(champion, actual, w);
    return c === undefined || h === undefined ? undefined : c - h;
  };
  const options = { resamples: 200, seed: 7, confidence: 0.95 };

  it('keeps the pairing: a uniform improvement has a point interval', () => {
    const ci = pairedBootstrap(n, delta, options)!;
    expect(ci.estimate).toBeCloseTo(-0.5, 12);
    expect(ci.low).toBeCloseTo(-0.5, 12);
    expect(ci.high).toBeCloseTo(-0.5, 12);
    expect(ci.used).toBe(200);
  });

  it('is reproducible from its seed, and an identical challenger gives [0, 0]', () => {
    const noisy = (w: Float64Array) => {
      const c = weightedMae(
        actual.map((a, i) => a + ((i * 7919) % 13) / 10),
        actual,
        w,
      );
      return c! - weightedMae(champion, actual, w)!;
    };
    expect(pairedBootstrap(n, noisy, options)).toEqual(pairedBootstrap(n, noisy, options));
    const other = pairedBootstrap(n, noisy, { ...options, seed: 8 })!;
    const same = pairedBootstrap(n, noisy, options)!;
    expect(other.low).not.toBe(same.low);
    expect(same.low).toBeLessThanOrEqual(same.estimate);
    expect(same.high).toBeGreaterThanOrEqual(same.estimate);
    const none = pairedBootstrap(n, (w) => weightedMae(champion, actual, w)! * 0, options)!;
    expect([none.low, none.high]).toEqual([0, 0]);
  });
});
