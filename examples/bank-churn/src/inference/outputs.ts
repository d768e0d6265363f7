/**
 * Model outputs -> predictions: class probabilities keyed by label and the label chosen with the
 * model's decision threshold (binary), the most probable class (multiclass), or the value
 * (regression).
 */
import type { ModelContract } from '../model/contract-types.js';
import type { Outputs } from './batcher.js';

export interface Classification {
  readonly label: string;
  readonly probabilities: Record<string, number>;
}
export interface Regression {
  readonly prediction: number;
}
export type Prediction = Classification | Regression;

export type Shaper = (outputs: Outputs, row: number) => Prediction;

export function makeShaper(contract: ModelContract): Shaper {
  if (contract.task === 'regression') {
    const name = contract.outputNames.prediction!;
    return (outputs, row) => {
      const t = outputs[name]!;
      const per = t.data.length / (t.dims[0] || 1);
      return { prediction: Number(t.data[row * per]) };
    };
  }
  const name = contract.outputNames.probabilities!;
  const labels = contract.labels;
  const classes = labels.length;
  const threshold = contract.threshold;
  const positive =
    contract.positiveLabel !== undefined ? labels.indexOf(contract.positiveLabel) : -1;
  const binary = threshold !== undefined && positive >= 0 && classes === 2;
  return (outputs, row) => {
    const data = outputs[name]!.data as ArrayLike<number>;
    const base = row * classes;
    const probabilities: Record<string, number> = {};
    let best = 0;
    for (let c = 0; c < classes; c++) {
      const p = data[base + c]!;
      probabilities[labels[c]!] = p;
      if (p > data[base + best]!) best = c;
    }
    const label = binary
      ? data[base + positive]! >= threshold
        ? labels[positive]!
        : labels[1 - positive]!
      : labels[best]!;
    return { label, probabilities };
  };
}
