/**
 * The quality metrics and the performance report, against the numbers scikit-learn gives for the
 * same data (roc_auc_score, average_precision_score, brier_score_loss, precision/recall/f1_score,
 * accuracy_score, f1_score(average='macro'), mean_absolute_error, mean_squared_error, r2_score),
 * ties included.
 */
import { describe, expect, it } from 'vitest';
import {
  floorsFrom,
  type JoinedPrediction,
  performanceReport,
  sliceValue,
} from '../src/monitoring/performance.js';
import {
  accuracy,
  atThreshold,
  averagePrecision,
  brier,
  macroF1,
  regressionMetrics,
  rocAuc,
} from '../src/monitoring/quality.js';

const actual = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0];
const scores = [0.9, 0.1, 0.35, 0.8, 0.35, 0.2, 0.35, 0.6, 0.05, 0.7, 0.2, 0.4];
const binary = actual.map((a, i) => ({ score: scores[i]!, actual: a === 1 }));

describe('metrics, as scikit-learn computes them', () => {
  it('binary: ROC-AUC and average precision with tied scores, Brier, precision/recall/F1 at 0.35', () => {
    expect(rocAuc(binary)).toBeCloseTo(0.8571428571428571, 12);
    expect(averagePrecision(binary)).toBeCloseTo(0.8499999999999999, 12);
    expect(brier(binary)).toBeCloseTo(0.14333333333333334, 12);
    const at = atThreshold(binary, 0.35);
    expect(at.precision).toBeCloseTo(0.625, 12);
    expect(at.recall).toBeCloseTo(1, 12);
    expect(at.f1).toBeCloseTo(0.7692307692307693, 12);
  });

  it('binary metrics are undefined, not NaN, when one class is missing', () => {
    expect(rocAuc(binary.filter((p) => p.actual))).toBeUndefined();
    expect(averagePrecision(binary.filter((p) => !p.actual))).toBeUndefined();
  });

  it('multiclass: accuracy and macro-F1 over the labels seen', () => {
    const truth = ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'a'];
    const predicted = ['a', 'b', 'b', 'a', 'c', 'c', 'b', 'a'];
    const pairs = truth.map((t, i) => ({ actual: t, predicted: predicted[i]! }));
    expect(accuracy(pairs)).toBeCloseTo(0.625, 12);
    expect(macroF1(pairs)).toBeCloseTo(0.5857142857142857, 12);
  });

  it('regression: MAE, RMSE, R²', () => {
    const observed = [3.0, 5.5, 2.0, 7.25, 4.0];
    const predicted = [2.5, 6.0, 2.0, 8.0, 3.0];
    const m = regressionMetrics(observed.map((a, i) => ({ actual: a, predicted: predicted[i]! })))!;
    expect(m.mae).toBeCloseTo(0.55, 12);
    expect(m.rmse).toBeCloseTo(0.6422616289332564, 12);
    expect(m.r2).toBeCloseTo(0.8800872093023255, 12);
  });
});

describe('the performance report', () => {
  const rows: JoinedPrediction[] = binary.map((p, i) => ({
    inputs: { Geography: i % 3 === 0 ? 'France' : 'Spain', Age: 20 + i * 5 },
    label: p.score >= 0.35 ? 'exited' : 'stayed',
    probabilities: { exited: p.score, stayed: 1 - p.score },
    actual: p.actual ? 'exited' : 'stayed',
  }));
  const settings = {
    task: 'binary' as const,
    positiveLabel: 'exited',
    threshold: 0.35,
    slices: [{ feature: 'Geography' }, { feature: 'Age', edges: [40, 60] }],
    minSamples: 5,
    floors: { roc_auc: 0.9, brier: 0.2 },
  };

  it('reports overall and per slice with counts; small groups are insufficient, not noise', () => {
    const report = performanceReport(rows, settings);
    expect(report.overall.samples).toBe(12);
    expect(report.overall.metrics).toMatchObject({
      roc_auc: rocAuc(binary),
      f1: atThreshold(binary, 0.35).f1,
    });
    const geography = report.slices.find((s) => s.feature === 'Geography')!;
    expect(geography.groups.map((g) => [g.value, g.samples])).toEqual([
      ['France', 4],
      ['Spain', 8],
    ]);
    expect(geography.groups[0]!.metrics).toBe('insufficient');
    expect(geography.groups[1]!.metrics).not.toBe('insufficient');
    const age = report.slices.find((s) => s.feature === 'Age')!;
    // Bands in the order of their edges, not of their names.
    expect(age.groups.map((g) => g.value)).toEqual(['< 40', '40 - 60', '>= 60']);
    const missing = performanceReport([...rows, { ...rows[0]!, inputs: { Age: null } }], settings);
    expect(missing.slices.find((s) => s.feature === 'Age')!.groups.map((g) => g.value)).toEqual([
      '< 40',
      '40 - 60',
      '>= 60',
      '(missing)',
    ]);
  });

  it('checks floors (a ceiling for errors) only with enough samples', () => {
    const report = performanceReport(rows, settings);
    expect(report.floors).toEqual([
      { metric: 'roc_auc', floor: 0.9, value: rocAuc(binary), breached: true },
      { metric: 'brier', floor: 0.2, value: brier(binary), breached: false },
    ]);
    const few = performanceReport(rows.slice(0, 3), settings);
    expect(few.floors.every((f) => f.breached === null && f.value === null)).toBe(true);
  });

  it('takes floors from metrics.json, moved by the tolerance towards worse', () => {
    expect(floorsFrom({ roc_auc: 0.9, brier: 0.1, headline: {} }, 'binary', 0.05)).toEqual({
      roc_auc: 0.9 - 0.045,
      brier: 0.1 * 1.05,
    });
    expect(floorsFrom({ r2: 0.9, rmse: 4 }, 'regression', 0.1)).toEqual({
      r2: 0.9 - 0.09,
      rmse: 4 * 1.1,
    });
  });

  it('puts missing values and bands in their own groups', () => {
    expect(sliceValue({ feature: 'Age', edges: [40] }, {})).toBe('(missing)');
    expect(sliceValue({ feature: 'Age', edges: [40] }, { Age: 40 })).toBe('>= 40');
    expect(sliceValue({ feature: 'Age', edges: [40] }, { Age: 39.9 })).toBe('< 40');
  });
});
