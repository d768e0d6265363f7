/**
 * The paired comparison of a challenger with the champion on predictions whose truth came back:
 * McNemar's test on the labels (classifiers), a paired bootstrap of ΔAUC (binary) or ΔMAE
 * (regression), and the verdict. Promote only when every test of the task favours the challenger
 * significantly (McNemar p < alpha with more pairs only the challenger got right; the bootstrap
 * interval of ΔAUC above 0, of ΔMAE below 0).
 */
import type { Prediction } from '../inference/outputs.js';
import type { ChallengerSettings, ChallengerVerdict, Pair } from './challenger.js';
import {
  type BootstrapInterval,
  type McNemar,
  mcnemar,
  pairedBootstrap,
  rankScores,
  weightedAuc,
  weightedMae,
} from './paired-tests.js';
import type { QualitySettings } from './performance.js';

export interface Comparison {
  readonly tests: {
    readonly samples: number;
    readonly mcnemar?: McNemar;
    readonly accuracy?: { readonly champion: number; readonly challenger: number };
    readonly auc?: Delta;
    readonly mae?: Delta;
  };
  readonly verdict: { verdict: ChallengerVerdict; reason: string };
}

interface Delta {
  readonly champion: number;
  readonly challenger: number;
  /** challenger - champion, with its paired bootstrap interval. */
  readonly delta: BootstrapInterval | null;
}

interface Bootstrap {
  readonly resamples: number;
  readonly seed: number;
  readonly confidence: number;
}

export function compare(
  pairs: readonly Pair[],
  quality: QualitySettings,
  settings: Pick<ChallengerSettings, 'alpha' | 'resamples'>,
): Comparison {
  const bootstrap = { resamples: settings.resamples, seed: 42, confidence: 1 - settings.alpha };
  return quality.task === 'regression'
    ? compareValues(pairs, bootstrap)
    : compareLabels(pairs, quality, settings.alpha, bootstrap);
}

/** Regression: ΔMAE (challenger - champion) and its bootstrap interval. */
function compareValues(pairs: readonly Pair[], bootstrap: Bootstrap): Comparison {
  const n = pairs.length;
  const actual = pairs.map((p) => Number(p.actual));
  const a = pairs.map((p) => Number((p.champion as { prediction: number }).prediction));
  const b = pairs.map((p) => Number((p.challenger as { prediction: number }).prediction));
  const ones = new Float64Array(n).fill(1);
  const delta = pairedBootstrap(
    n,
    (w) => {
      const x = weightedMae(b, actual, w);
      const y = weightedMae(a, actual, w);
      return x === undefined || y === undefined ? undefined : x - y;
    },
    bootstrap,
  );
  const mae = {
    champion: weightedMae(a, actual, ones)!,
    challenger: weightedMae(b, actual, ones)!,
    delta: delta ?? null,
  };
  const interval = delta ? `ΔMAE ${fmt(delta.estimate)}, ${ci(delta, bootstrap)}` : '';
  return {
    tests: { samples: n, mae },
    verdict:
      delta !== undefined && delta.high < 0
        ? { verdict: 'promote', reason: `${interval} is below 0` }
        : {
            verdict: 'keep',
            reason: delta
              ? `${interval} does not exclude 0 in the challenger's favour`
              : 'ΔMAE is not defined on these pairs',
          },
  };
}

/** Classifiers: McNemar on the labels, and for a binary model ΔAUC too. */
function compareLabels(
  pairs: readonly Pair[],
  quality: QualitySettings,
  alpha: number,
  bootstrap: Bootstrap,
): Comparison {
  const n = pairs.length;
  const actual = pairs.map((p) => String(p.actual));
  const label = (p: Prediction) => (p as { label: string }).label;
  let b = 0; // champion right, challenger wrong
  let c = 0; // challenger right, champion wrong
  let championRight = 0;
  let challengerRight = 0;
  pairs.forEach((p, i) => {
    const x = label(p.champion) === actual[i];
    const y = label(p.challenger) === actual[i];
    if (x) championRight++;
    if (y) challengerRight++;
    if (x && !y) b++;
    if (y && !x) c++;
  });
  const test = mcnemar(b, c);
  const accuracy = { champion: championRight / n, challenger: challengerRight / n };
  const reasons = [
    `McNemar b=${b} (only the champion right), c=${c} (only the challenger right), p=${fmt(test.pValue)} (${test.method})`,
  ];
  const auc = quality.task === 'binary' ? aucDelta(pairs, actual, quality, bootstrap) : undefined;
  if (auc) {
    reasons.push(
      auc.delta
        ? `ΔAUC ${fmt(auc.delta.estimate)}, ${ci(auc.delta, bootstrap)}`
        : 'ΔAUC is not defined (one class only in the truth)',
    );
  }
  const promote =
    test.pValue < alpha &&
    c > b &&
    (auc === undefined || (auc.delta !== null && auc.delta.low > 0));
  return {
    tests: { samples: n, mcnemar: test, accuracy, ...(auc ? { auc } : {}) },
    verdict: {
      verdict: promote ? 'promote' : 'keep',
      reason: `${reasons.join('; ')}: ${
        promote
          ? `the challenger is better at alpha ${alpha}`
          : `not significantly better at alpha ${alpha}${quality.task === 'binary' ? ' (promotion needs McNemar and ΔAUC both in its favour)' : ''}`
      }`,
    },
  };
}

/** Binary: ROC-AUC of both on the positive class's probability, and the bootstrap of ΔAUC. */
function aucDelta(
  pairs: readonly Pair[],
  actual: readonly string[],
  quality: QualitySettings,
  bootstrap: Bootstrap,
): Delta {
  const positive = quality.positiveLabel ?? '1';
  const truth = actual.map((l) => l === positive);
  const score = (p: Prediction) =>
    (p as { probabilities?: Record<string, number> }).probabilities?.[positive] ?? 0;
  const rankedA = rankScores(
    pairs.map((p) => score(p.champion)),
    truth,
  );
  const rankedB = rankScores(
    pairs.map((p) => score(p.challenger)),
    truth,
  );
  const delta = pairedBootstrap(
    pairs.length,
    (w) => {
      const x = weightedAuc(rankedB, w);
      const y = weightedAuc(rankedA, w);
      return x === undefined || y === undefined ? undefined : x - y;
    },
    bootstrap,
  );
  const ones = new Float64Array(pairs.length).fill(1);
  return {
    champion: weightedAuc(rankedA, ones) ?? Number.NaN,
    challenger: weightedAuc(rankedB, ones) ?? Number.NaN,
    delta: delta ?? null,
  };
}

const ci = (d: BootstrapInterval, b: Bootstrap) =>
  `${pct(b.confidence)} CI [${fmt(d.low)}, ${fmt(d.high)}]`;
const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : String(x));
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
