/**
 * The performance report: predictions joined with their ground truth, measured with the task's
 * metrics (quality.ts) overall and per slice, each with its sample count; below `minSamples` a
 * group's metrics are reported as insufficient rather than as noise. Floors (from the model's
 * metrics.json: the training-time value minus a tolerance) are checked only where there are enough
 * samples. The live monitor and the offline CLI both build their report here.
 */
import type { ModelContract, SliceSpec } from '../model/contract-types.js';
import {
  accuracy,
  atThreshold,
  averagePrecision,
  brier,
  macroF1,
  regressionMetrics,
  rocAuc,
} from './quality.js';

/** A prediction the service made, with the ground truth that came back for it. */
export interface JoinedPrediction {
  /** The features the prediction was made from (slices read them). */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Classifiers: the predicted label and each label's probability. */
  readonly label?: string;
  readonly probabilities?: Readonly<Record<string, number>>;
  /** Regressors: the predicted value. */
  readonly value?: number;
  /** The truth: a label (classifiers) or a value (regressors). */
  readonly actual: string | number;
}

export interface QualitySettings {
  readonly task: 'binary' | 'multiclass' | 'regression';
  /** Binary: the positive label, and the decision threshold on its probability. */
  readonly positiveLabel?: string;
  readonly threshold?: number;
  readonly slices: readonly SliceSpec[];
  readonly minSamples: number;
  /** Metric name -> the lowest acceptable value (highest, for errors: see `lowerIsBetter`). */
  readonly floors: Readonly<Record<string, number>>;
}

export type Metrics = Readonly<Record<string, number>>;

export interface GroupReport {
  readonly samples: number;
  /** The metrics, or 'insufficient' below the minimum sample size. */
  readonly metrics: Metrics | 'insufficient';
}

export interface FloorCheck {
  readonly metric: string;
  readonly floor: number;
  readonly value: number | null;
  /** null: not enough samples to say. */
  readonly breached: boolean | null;
}

export interface PerformanceReport {
  readonly task: QualitySettings['task'];
  readonly minSamples: number;
  readonly overall: GroupReport;
  readonly slices: ReadonlyArray<{
    readonly feature: string;
    readonly groups: ReadonlyArray<GroupReport & { readonly value: string }>;
  }>;
  readonly floors: readonly FloorCheck[];
}

/** Errors: a floor on them is a ceiling. */
export const lowerIsBetter: ReadonlySet<string> = new Set(['brier', 'mae', 'rmse', 'log_loss']);

/** The task's metrics of one group of joined predictions (only those defined for it). */
export function metricsOf(rows: readonly JoinedPrediction[], settings: QualitySettings): Metrics {
  const out: Record<string, number | undefined> = {};
  if (settings.task === 'binary') {
    const positive = settings.positiveLabel ?? '1';
    const pairs = rows.map((r) => ({
      score: r.probabilities?.[positive] ?? 0,
      actual: String(r.actual) === positive,
    }));
    Object.assign(out, {
      roc_auc: rocAuc(pairs),
      pr_auc: averagePrecision(pairs),
      brier: brier(pairs),
      ...atThreshold(pairs, settings.threshold ?? 0.5),
    });
  } else if (settings.task === 'multiclass') {
    const pairs = rows.map((r) => ({ predicted: String(r.label), actual: String(r.actual) }));
    Object.assign(out, { accuracy: accuracy(pairs), macro_f1: macroF1(pairs) });
  } else {
    const pairs = rows.map((r) => ({ predicted: Number(r.value), actual: Number(r.actual) }));
    Object.assign(out, regressionMetrics(pairs) ?? {});
  }
  return Object.fromEntries(
    Object.entries(out).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
}

function groupReport(rows: readonly JoinedPrediction[], settings: QualitySettings): GroupReport {
  return {
    samples: rows.length,
    metrics: rows.length < settings.minSamples ? 'insufficient' : metricsOf(rows, settings),
  };
}

/** The group a row falls in for a slice: the category, or the band "[lo, hi)" of a number. */
export function sliceValue(spec: SliceSpec, inputs: Readonly<Record<string, unknown>>): string {
  const raw = inputs[spec.feature];
  if (raw === null || raw === undefined) return '(missing)';
  if (!spec.edges || typeof raw !== 'number') return String(raw);
  const edges = spec.edges;
  const i = edges.findIndex((e) => raw < e);
  if (i === 0) return `< ${edges[0]}`;
  if (i === -1) return `>= ${edges[edges.length - 1]}`;
  return `${edges[i - 1]} - ${edges[i]}`;
}

/**
 * The order of a slice's groups: numeric bands from the lowest up, then "(missing)"; categories
 * alphabetically (their rank is equal, the name decides).
 */
function groupOrder(spec: SliceSpec): (value: string) => number {
  const edges = spec.edges;
  return (value) => {
    if (value === '(missing)') return Number.MAX_SAFE_INTEGER;
    if (!edges) return 0;
    if (value.startsWith('< ')) return -1;
    if (value.startsWith('>= ')) return edges.length;
    return edges.indexOf(Number(value.split(' - ')[0]));
  };
}

export function performanceReport(
  rows: readonly JoinedPrediction[],
  settings: QualitySettings,
): PerformanceReport {
  const overall = groupReport(rows, settings);
  const slices = settings.slices.map((spec) => {
    const groups = new Map<string, JoinedPrediction[]>();
    for (const r of rows) {
      const v = sliceValue(spec, r.inputs);
      const group = groups.get(v);
      if (group) group.push(r);
      else groups.set(v, [r]);
    }
    const rank = groupOrder(spec);
    return {
      feature: spec.feature,
      groups: [...groups.entries()]
        .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
        .map(([value, g]) => ({ value, ...groupReport(g, settings) })),
    };
  });
  const floors = Object.entries(settings.floors).map(([metric, floor]) => {
    const value = overall.metrics === 'insufficient' ? undefined : overall.metrics[metric];
    if (value === undefined) return { metric, floor, value: null, breached: null };
    const breached = lowerIsBetter.has(metric) ? value > floor : value < floor;
    return { metric, floor, value, breached };
  });
  return { task: settings.task, minSamples: settings.minSamples, overall, slices, floors };
}

/**
 * Floors from the model's metrics.json: each metric the task reports that was measured at training
 * time, moved by `tolerance` (relative) in the direction of "worse".
 */
export function floorsFrom(
  trained: Readonly<Record<string, unknown>>,
  task: QualitySettings['task'],
  tolerance: number,
): Record<string, number> {
  const names =
    task === 'binary'
      ? ['roc_auc', 'pr_auc', 'brier']
      : task === 'multiclass'
        ? ['accuracy', 'macro_f1']
        : ['mae', 'rmse', 'r2'];
  const floors: Record<string, number> = {};
  for (const name of names) {
    const v = trained[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    floors[name] = lowerIsBetter.has(name) ? v * (1 + tolerance) : v - Math.abs(v) * tolerance;
  }
  return floors;
}

/**
 * The settings of a model's live quality: its task's metrics, its decision threshold, the slices
 * and sample size of its sidecar (or none and 200), floors from its training metrics. Undefined for
 * tensor models (no label or value to compare).
 */
export function settingsFor(
  contract: ModelContract,
  trained: Readonly<Record<string, unknown>> | undefined,
): QualitySettings | undefined {
  if (contract.task === 'tensor') return undefined;
  // Without a monitoring section in the sidecar: no slices, the defaults of its schema.
  const m = contract.monitoring ?? { slices: [], minSamples: 200, tolerance: 0.05 };
  const task =
    contract.task === 'regression'
      ? 'regression'
      : contract.labels.length === 2
        ? 'binary'
        : 'multiclass';
  return {
    task,
    ...(task === 'binary'
      ? {
          positiveLabel: contract.positiveLabel ?? contract.labels[1]!,
          threshold: contract.threshold ?? 0.5,
        }
      : {}),
    slices: m.slices,
    minSamples: m.minSamples,
    floors: trained ? floorsFrom(trained, task, m.tolerance) : {},
  };
}
