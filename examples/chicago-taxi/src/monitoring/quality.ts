/**
 * Model quality from predictions joined with their ground truth: the metrics of the model's task,
 * overall and per slice, with sample counts, and the floors they are held to. Pure functions: the
 * live monitor (GET /monitoring/performance) and the offline CLI (`npm run monitor`) call the same
 * code on the same pairs, so they agree to the last digit.
 *
 * Definitions follow scikit-learn's: ROC-AUC by ranks with ties averaged (`roc_auc_score`), PR-AUC
 * as average precision (`average_precision_score`), Brier (`brier_score_loss`), macro-F1
 * (`f1_score(average='macro')` over the labels seen in truth or predictions), R²
 * (`r2_score`).
 */

/** One prediction and what really happened, for a binary classifier. */
export interface BinaryPair {
  /** Probability of the positive class. */
  readonly score: number;
  /** Whether the positive class happened. */
  readonly actual: boolean;
}

export function rocAuc(pairs: readonly BinaryPair[]): number | undefined {
  const positives = pairs.filter((p) => p.actual).length;
  const negatives = pairs.length - positives;
  if (positives === 0 || negatives === 0) return undefined;
  const sorted = [...pairs].sort((a, b) => a.score - b.score);
  // Mann-Whitney U: the sum of the positives' ranks, ties given their average rank.
  let rankSum = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j]!.score === sorted[i]!.score) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (sorted[k]!.actual) rankSum += averageRank;
    i = j;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Average precision: the precision at each threshold, weighted by the recall it adds. */
export function averagePrecision(pairs: readonly BinaryPair[]): number | undefined {
  const positives = pairs.filter((p) => p.actual).length;
  if (positives === 0) return undefined;
  const sorted = [...pairs].sort((a, b) => b.score - a.score);
  let truePositives = 0;
  let previousRecall = 0;
  let ap = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j]!.score === sorted[i]!.score) {
      if (sorted[j]!.actual) truePositives++;
      j++;
    }
    // Everything scored at least this high is flagged: j predictions, truePositives of them right.
    const recall = truePositives / positives;
    ap += (recall - previousRecall) * (truePositives / j);
    previousRecall = recall;
    i = j;
  }
  return ap;
}

export function brier(pairs: readonly BinaryPair[]): number | undefined {
  if (pairs.length === 0) return undefined;
  return pairs.reduce((s, p) => s + (p.score - (p.actual ? 1 : 0)) ** 2, 0) / pairs.length;
}

/** Precision, recall and F1 of "score >= threshold" (scikit-learn's zero_division=0). */
export function atThreshold(
  pairs: readonly BinaryPair[],
  threshold: number,
): { precision: number; recall: number; f1: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const p of pairs) {
    const flagged = p.score >= threshold;
    if (flagged && p.actual) tp++;
    else if (flagged) fp++;
    else if (p.actual) fn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/** One predicted label and the true one. */
export interface LabelPair {
  readonly predicted: string;
  readonly actual: string;
}

export function accuracy(pairs: readonly LabelPair[]): number | undefined {
  if (pairs.length === 0) return undefined;
  return pairs.filter((p) => p.predicted === p.actual).length / pairs.length;
}

export function macroF1(pairs: readonly LabelPair[]): number | undefined {
  if (pairs.length === 0) return undefined;
  const labels = [...new Set(pairs.flatMap((p) => [p.predicted, p.actual]))];
  const f1s = labels.map((label) => {
    const tp = pairs.filter((p) => p.predicted === label && p.actual === label).length;
    const predicted = pairs.filter((p) => p.predicted === label).length;
    const actual = pairs.filter((p) => p.actual === label).length;
    return predicted + actual === 0 ? 0 : (2 * tp) / (predicted + actual);
  });
  return f1s.reduce((a, b) => a + b, 0) / labels.length;
}

/** One predicted value and the observed one. */
export interface ValuePair {
  readonly predicted: number;
  readonly actual: number;
}

export function regressionMetrics(
  pairs: readonly ValuePair[],
): { mae: number; rmse: number; r2: number | undefined } | undefined {
  const n = pairs.length;
  if (n === 0) return undefined;
  const mean = pairs.reduce((s, p) => s + p.actual, 0) / n;
  let absolute = 0;
  let squared = 0;
  let total = 0;
  for (const p of pairs) {
    absolute += Math.abs(p.predicted - p.actual);
    squared += (p.predicted - p.actual) ** 2;
    total += (p.actual - mean) ** 2;
  }
  return {
    mae: absolute / n,
    rmse: Math.sqrt(squared / n),
    r2: total === 0 ? undefined : 1 - squared / total,
  };
}
