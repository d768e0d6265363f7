/**
 * Model outputs -> predictions: class probabilities keyed by label and the label chosen with the
 * model's decision threshold (binary), the most probable class (multiclass), or the value
 * (regression). Logits become probabilities by softmax, one positive-class column by 1 - p (after a
 * sigmoid when it is a logit), as the contract's `scores` says. Outputs that have no such
 * role are never dropped: they come back under `outputs`, by name, one value (or one array of
 * values) per row.
 */
import type { ModelContract } from '../model/contract-types.js';
import type { OutputTensor, Outputs } from './batcher.js';

export type RowValue = number | string | Array<number | string>;

export interface Classification {
  readonly label: string;
  readonly probabilities: Record<string, number>;
  readonly outputs?: Record<string, RowValue>;
}
export interface Regression {
  readonly prediction: number;
  readonly outputs?: Record<string, RowValue>;
}
export interface RawOutputs {
  readonly outputs: Record<string, RowValue>;
}
export type Prediction = Classification | Regression | RawOutputs;

export type Shaper = (outputs: Outputs, row: number) => Prediction;

/** One row of an output tensor: a scalar when the row holds one value, else an array. */
export function rowOf(t: OutputTensor, row: number): RowValue {
  const per = t.dims[0] ? t.data.length / t.dims[0] : t.data.length;
  const at = (i: number) => {
    const v = t.data[i]!;
    return typeof v === 'string' ? v : Number(v);
  };
  if (per === 1) return at(row);
  return Array.from({ length: per }, (_, i) => at(row * per + i));
}

function extrasOf(
  contract: ModelContract,
): (outputs: Outputs, row: number) => Record<string, RowValue> | undefined {
  const names = contract.extraOutputs;
  if (names.length === 0) return () => undefined;
  return (outputs, row) => {
    const out: Record<string, RowValue> = {};
    for (const name of names) out[name] = rowOf(outputs[name]!, row);
    return out;
  };
}

export function makeShaper(contract: ModelContract): Shaper {
  const extras = extrasOf(contract);
  if (contract.task === 'tensor')
    return (outputs, row) => ({ outputs: extras(outputs, row) ?? {} });
  if (contract.task === 'regression') {
    const name = contract.outputNames.prediction!;
    return (outputs, row) => {
      const t = outputs[name]!;
      const per = t.data.length / (t.dims[0] || 1);
      const more = extras(outputs, row);
      const prediction = Number(t.data[row * per]);
      return more ? { prediction, outputs: more } : { prediction };
    };
  }
  const name = contract.outputNames.probabilities!;
  const labels = contract.labels;
  const classes = labels.length;
  const threshold = contract.threshold;
  const positive =
    contract.positiveLabel !== undefined ? labels.indexOf(contract.positiveLabel) : -1;
  const binary = threshold !== undefined && positive >= 0 && classes === 2;
  const scoresOf = classProbabilities(contract);
  // One buffer per shaper: a row's probabilities are copied into its answer before the next row.
  const p = new Array<number>(classes);
  return (outputs, row) => {
    scoresOf(outputs[name]!.data as ArrayLike<number>, row, p);
    const probabilities: Record<string, number> = {};
    let best = 0;
    for (let c = 0; c < classes; c++) {
      probabilities[labels[c]!] = p[c]!;
      if (p[c]! > p[best]!) best = c;
    }
    const label = binary
      ? p[positive]! >= threshold
        ? labels[positive]!
        : labels[1 - positive]!
      : labels[best]!;
    const more = extras(outputs, row);
    return more ? { label, probabilities, outputs: more } : { label, probabilities };
  };
}

/**
 * One row's class probabilities, in label order, read from the class-probability output the way
 * the contract's `scores` says it holds them; written into `into` (a new array when not given).
 */
export function classProbabilities(
  contract: ModelContract,
): (data: ArrayLike<number>, row: number, into?: number[]) => number[] {
  const classes = contract.labels.length;
  const form = contract.scores ?? 'probabilities';
  return (data, row, into = new Array<number>(classes)) => {
    if (form === 'logits') return softmaxOf(data, row * classes, classes, into);
    if (form === 'probabilities') {
      for (let c = 0; c < classes; c++) into[c] = Number(data[row * classes + c]);
      return into;
    }
    const v = Number(data[row]);
    const p = form === 'positive-logit' ? 1 / (1 + Math.exp(-v)) : v;
    into[0] = 1 - p;
    into[1] = p;
    return into;
  };
}

/** The softmax of `classes` logits starting at `base` (one row of a [N, C] tensor), into `into`. */
export function softmaxOf(
  data: ArrayLike<number>,
  base = 0,
  classes: number = data.length - base,
  into: number[] = new Array<number>(classes),
): number[] {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, data[base + c]!);
  let total = 0;
  for (let c = 0; c < classes; c++) {
    into[c] = Math.exp(data[base + c]! - max);
    total += into[c]!;
  }
  for (let c = 0; c < classes; c++) into[c] = into[c]! / total;
  return into;
}
