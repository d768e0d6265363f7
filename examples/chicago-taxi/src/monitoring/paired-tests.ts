/**
 * Paired comparisons of two models on the same predictions with their truth (pure functions, no
 * I/O): McNemar's test on the discordant pairs of two classifiers, and a paired bootstrap of the
 * difference of a metric (ΔAUC, ΔMAE) with a percentile confidence interval. The challenger monitor
 * (GET /monitoring/challenger) reads its verdict from them.
 *
 * Definitions follow SciPy/statsmodels: the exact McNemar p-value is the two-sided binomial test of
 * b successes in b + c trials at p = 1/2 (`scipy.stats.binomtest(b, b + c).pvalue`); the asymptotic
 * one is chi-square with one degree of freedom of (|b - c| - 1)² / (b + c) (statsmodels'
 * `mcnemar(exact=False, correction=True)`); percentiles interpolate linearly (`numpy.quantile`).
 */
import { seededRandom } from '../inference/seeded-random.js';

/** Below this many discordant pairs McNemar's p-value is the exact binomial one. */
export const exactBelow = 25;

export interface McNemar {
  /** Pairs the champion got right and the challenger wrong. */
  readonly b: number;
  /** Pairs the challenger got right and the champion wrong. */
  readonly c: number;
  readonly method: 'exact' | 'chi-square';
  /** The chi-square statistic (continuity-corrected); null for the exact test. */
  readonly statistic: number | null;
  /** Two-sided. */
  readonly pValue: number;
}

/** McNemar's test of b against c: exact binomial below `exactBelow` discordant pairs. */
export function mcnemar(b: number, c: number): McNemar {
  const n = b + c;
  if (n === 0) return { b, c, method: 'exact', statistic: null, pValue: 1 };
  if (n < exactBelow) {
    // Two-sided: twice the smaller tail of Binomial(n, 1/2), at most 1.
    const tail = binomialCdfHalf(Math.min(b, c), n);
    return { b, c, method: 'exact', statistic: null, pValue: Math.min(1, 2 * tail) };
  }
  const statistic = (Math.abs(b - c) - 1) ** 2 / n;
  return { b, c, method: 'chi-square', statistic, pValue: chiSquare1Sf(statistic) };
}

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space (exact enough for any n). */
export function binomialCdfHalf(k: number, n: number): number {
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, sum);
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
}

/** P(X > x) for X ~ chi-square with 1 degree of freedom: Q(1/2, x/2), the upper regularized gamma. */
export function chiSquare1Sf(x: number): number {
  if (x <= 0) return 1;
  return upperGamma(0.5, x / 2, Math.log(Math.sqrt(Math.PI)));
}

/**
 * Q(a, x) = Γ(a, x) / Γ(a), given ln Γ(a): the series below a + 1, the continued fraction (modified
 * Lentz) above, each to full double precision (Numerical Recipes, 6.2).
 */
function upperGamma(a: number, x: number, logGammaA: number): number {
  const front = Math.exp(-x + a * Math.log(x) - logGammaA);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * front);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return front * h;
}

/** The q-quantile of ascending `sorted` values, interpolating linearly (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export interface BootstrapInterval {
  /** The statistic on the sample itself. */
  readonly estimate: number;
  /** Percentile interval at the given confidence. */
  readonly low: number;
  readonly high: number;
  readonly confidence: number;
  /** Resamples drawn, and those the statistic was defined on (e.g. both classes present). */
  readonly resamples: number;
  readonly used: number;
}

/**
 * Paired bootstrap: `resamples` times, draw n indices with replacement (as counts per pair), and
 * compute `statistic(weights)` on both models' outputs for the same draw, so the pairing is kept.
 * `statistic` returns undefined where it is not defined on a draw (those draws are skipped).
 */
export function pairedBootstrap(
  n: number,
  statistic: (weights: Float64Array) => number | undefined,
  options: { readonly resamples: number; readonly seed: number; readonly confidence: number },
): BootstrapInterval | undefined {
  const full = statistic(new Float64Array(n).fill(1));
  if (full === undefined || n === 0) return undefined;
  const random = seededRandom(options.seed);
  const weights = new Float64Array(n);
  const values: number[] = [];
  for (let r = 0; r < options.resamples; r++) {
    weights.fill(0);
    for (let i = 0; i < n; i++) weights[Math.floor(random() * n)]! += 1;
    const v = statistic(weights);
    if (v !== undefined && Number.isFinite(v)) values.push(v);
  }
  if (values.length === 0) return undefined;
  values.sort((a, b) => a - b);
  const tail = (1 - options.confidence) / 2;
  return {
    estimate: full,
    low: quantile(values, tail),
    high: quantile(values, 1 - tail),
    confidence: options.confidence,
    resamples: options.resamples,
    used: values.length,
  };
}

/**
 * Scores sorted once, so a weighted ROC-AUC costs one pass per resample (ties count one half, as
 * in scikit-learn's roc_auc_score).
 */
export interface RankedScores {
  /** Indices in ascending score order. */
  readonly order: Int32Array;
  readonly scores: ArrayLike<number>;
  readonly positive: ArrayLike<boolean>;
}

export function rankScores(scores: ArrayLike<number>, positive: ArrayLike<boolean>): RankedScores {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i).sort(
    (a, b) => scores[a]! - scores[b]!,
  );
  return { order, scores, positive };
}

/** ROC-AUC with each pair counted `weights[i]` times; undefined without both classes. */
export function weightedAuc(ranked: RankedScores, weights: ArrayLike<number>): number | undefined {
  const { order, scores, positive } = ranked;
  let negativesBelow = 0;
  let area = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    let pos = 0;
    let neg = 0;
    while (j < order.length && scores[order[j]!] === scores[order[i]!]) {
      const k = order[j]!;
      if (positive[k]) pos += weights[k]!;
      else neg += weights[k]!;
      j++;
    }
    area += pos * (negativesBelow + neg / 2);
    negativesBelow += neg;
    positives += pos;
    i = j;
  }
  if (positives === 0 || negativesBelow === 0) return undefined;
  return area / (positives * negativesBelow);
}

/** Mean absolute error with each pair counted `weights[i]` times. */
export function weightedMae(
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  weights: ArrayLike<number>,
): number | undefined {
  let total = 0;
  let count = 0;
  for (let i = 0; i < predicted.length; i++) {
    const w = weights[i]!;
    if (w === 0) continue;
    total += w * Math.abs(predicted[i]! - actual[i]!);
    count += w;
  }
  return count === 0 ? undefined : total / count;
}
