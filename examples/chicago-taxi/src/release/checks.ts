/**
 * The gates of a new model version, as pure functions of what `model:check` measured: each returns
 * a `GateResult` saying what was compared, the numbers, and pass or fail.
 */
import type { Golden } from '../model/artifacts.js';
import { floorsFrom, lowerIsBetter, sliceValue } from '../monitoring/performance.js';
import type { FairnessGate, Gates } from './gates.js';

export interface GateResult {
  readonly gate: 'contract' | 'metrics' | 'parity' | 'fairness' | 'latency';
  readonly passed: boolean;
  /** Not applicable to this model (no golden cases, no fairness declared...): passes, says why. */
  readonly skipped?: string;
  readonly summary: string;
  readonly details: readonly string[];
}

/** What `/predict/batch` answers for one row. */
export type Served = {
  label?: string;
  probabilities?: Record<string, number>;
  prediction?: number;
};

type Task = 'binary' | 'multiclass' | 'regression';

/**
 * Each metric the task reports must hold against the current model's value moved by the tolerance
 * (and against any absolute floor of the gates file).
 */
export function metricsGate(
  current: Readonly<Record<string, unknown>> | null,
  next: Readonly<Record<string, unknown>> | null,
  task: Task,
  gates: Gates['metrics'],
): GateResult {
  if (!next)
    return fail('metrics', 'the new model has no metrics.json: its quality cannot be compared');
  const floors: Record<string, number> = {
    ...(current ? floorsFrom(current, task, gates.tolerance) : {}),
    ...gates.floors,
  };
  const details: string[] = [];
  let passed = true;
  for (const [metric, floor] of Object.entries(floors)) {
    const value = next[metric];
    if (typeof value !== 'number') {
      passed = false;
      details.push(`${metric}: missing from the new metrics.json (floor ${round(floor)})`);
      continue;
    }
    const breached = lowerIsBetter.has(metric) ? value > floor : value < floor;
    if (breached) passed = false;
    const was =
      typeof current?.[metric] === 'number' ? ` (current ${round(current[metric] as number)})` : '';
    details.push(
      `${metric}: ${round(value)} ${breached ? 'breaches' : 'holds'} ${lowerIsBetter.has(metric) ? 'ceiling' : 'floor'} ${round(floor)}${was}`,
    );
  }
  if (Object.keys(floors).length === 0)
    return skip(
      'metrics',
      'no metric to compare (no current metrics.json, no floors in the gates file)',
    );
  return {
    gate: 'metrics',
    passed,
    summary: passed ? 'every metric holds its floor' : 'a metric breaches its floor',
    details,
  };
}

/** The new model, served, reproduces its own golden predictions (its training framework's). */
export function parityGate(
  golden: Golden | null,
  served: readonly Served[],
  labels: readonly string[],
  gates: Gates['parity'],
): GateResult {
  if (!golden) return fail('parity', 'the new model ships no golden.json: parity cannot be proven');
  const details: string[] = [];
  golden.cases.forEach((c, i) => {
    const s = served[i];
    if (!s) {
      details.push(`case ${i}: no prediction`);
      return;
    }
    if ('prediction' in c) {
      const tolerance = Math.max(
        gates.relativeTolerance * Math.abs(c.prediction),
        gates.relativeTolerance,
      );
      if (Math.abs((s.prediction ?? NaN) - c.prediction) > tolerance || s.prediction === undefined)
        details.push(`case ${i}: served ${s.prediction}, golden ${c.prediction}`);
      return;
    }
    labels.forEach((l, k) => {
      const got = s.probabilities?.[l];
      if (got === undefined || Math.abs(got - c.probabilities[k]!) > gates.probabilityTolerance)
        details.push(`case ${i}: P(${l}) served ${got}, golden ${c.probabilities[k]}`);
    });
  });
  const n = golden.cases.length;
  return details.length === 0
    ? { gate: 'parity', passed: true, summary: `${n} golden cases reproduced`, details: [] }
    : {
        gate: 'parity',
        passed: false,
        summary: `${details.length} of ${n} golden values differ`,
        details: details.slice(0, 10),
      };
}

/**
 * Disparate impact: the rate of the favorable outcome in each group of the protected attribute;
 * the lowest rate over the highest must reach `minRatio`.
 */
export function fairnessGate(
  spec: FairnessGate | null,
  inputs: ReadonlyArray<Readonly<Record<string, unknown>>>,
  served: readonly Served[],
  favorable: string | undefined,
): GateResult {
  if (!spec) return skip('fairness', 'no protected attribute declared in model-gates.json');
  const outcome = spec.favorableLabel ?? favorable;
  if (!outcome) return fail('fairness', 'a fairness gate needs a favorable label (favorableLabel)');
  const groups = new Map<string, { n: number; favorable: number }>();
  inputs.forEach((input, i) => {
    const group = sliceValue(
      { feature: spec.attribute, ...(spec.edges ? { edges: spec.edges } : {}) },
      input,
    );
    const g = groups.get(group) ?? { n: 0, favorable: 0 };
    g.n += 1;
    if (served[i]?.label === outcome) g.favorable += 1;
    groups.set(group, g);
  });
  const compared = [...groups].filter(([, g]) => g.n >= spec.minGroupSize);
  const details = [...groups].map(
    ([name, g]) =>
      `${spec.attribute}=${name}: ${g.favorable}/${g.n} "${outcome}" (${round(g.favorable / g.n)})${g.n < spec.minGroupSize ? ', too few to compare' : ''}`,
  );
  if (compared.length < 2)
    return fail(
      'fairness',
      `fewer than two groups of ${spec.attribute} with ${spec.minGroupSize} rows: give more data (fairness.data)`,
      details,
    );
  const rates = compared.map(([, g]) => g.favorable / g.n);
  const ratio = Math.max(...rates) === 0 ? 1 : Math.min(...rates) / Math.max(...rates);
  const passed = ratio >= spec.minRatio;
  return {
    gate: 'fairness',
    passed,
    summary: `disparate impact on ${spec.attribute}: ${round(ratio)} ${passed ? '>=' : '<'} ${spec.minRatio}`,
    details,
  };
}

/** The median of the new model's request latency over the current one's, measured alternately. */
export function latencyGate(
  currentMs: readonly number[],
  nextMs: readonly number[],
  gates: Gates['latency'],
): GateResult {
  const ratio = median(nextMs) / median(currentMs);
  const passed = ratio <= gates.maxRatio;
  return {
    gate: 'latency',
    passed,
    summary: `median ${round(median(nextMs))} ms vs ${round(median(currentMs))} ms: ratio ${round(ratio)} ${passed ? '<=' : '>'} ${gates.maxRatio}`,
    details: [`${nextMs.length} requests of ${gates.rows} rows to each model, alternating`],
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

function fail(gate: GateResult['gate'], summary: string, details: string[] = []): GateResult {
  return { gate, passed: false, summary, details };
}

function skip(gate: GateResult['gate'], reason: string): GateResult {
  return { gate, passed: true, skipped: reason, summary: `skipped: ${reason}`, details: [] };
}
