/**
 * A classifier's scores become probabilities the way the model holds them (the contract's
 * `scores`): every class's probability as it is, logits by softmax, one positive-class column
 * (a sigmoid's probability, or a logit) as [1 - p, p]. /predict, V2's classification extension
 * and the challenger all read them through this one function.
 */
import { describe, expect, it } from 'vitest';
import { classProbabilities, makeShaper } from '../src/inference/outputs.js';
import type { ClassScores, ModelContract } from '../src/model/contract-types.js';

const base = {
  task: 'binary',
  labels: ['stayed', 'exited'],
  positiveLabel: 'exited',
  threshold: 0.5,
  outputNames: { probabilities: 'p' },
  extraOutputs: [],
} as unknown as ModelContract;
const contractOf = (scores: ClassScores | undefined, more: Partial<ModelContract> = {}) =>
  ({ ...base, ...(scores ? { scores } : {}), ...more }) as ModelContract;
const close = (got: number[], want: number[]) =>
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));

describe('class probabilities from the scores the model gives', () => {
  it('probabilities of every class are read as they are (the default)', () => {
    const data = Float32Array.from([0.25, 0.75, 0.9, 0.1]);
    expect(classProbabilities(contractOf(undefined))(data, 1)).toEqual([
      Math.fround(0.9),
      Math.fround(0.1),
    ]);
  });

  it('logits become their softmax', () => {
    const three = contractOf('logits', { task: 'multiclass', labels: ['a', 'b', 'c'] });
    const data = [1, 2, 3, 0, 0, Math.log(2)];
    close(classProbabilities(three)(data, 0), [
      Math.exp(1) / (Math.exp(1) + Math.exp(2) + Math.exp(3)),
      Math.exp(2) / (Math.exp(1) + Math.exp(2) + Math.exp(3)),
      Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)),
    ]);
    close(classProbabilities(three)(data, 1), [0.25, 0.25, 0.5]);
  });

  it("one column is the positive class's probability, or its logit", () => {
    close(classProbabilities(contractOf('positive-probability'))([0.2, 0.7], 1), [0.3, 0.7]);
    close(classProbabilities(contractOf('positive-logit'))([0, Math.log(3)], 0), [0.5, 0.5]);
    close(classProbabilities(contractOf('positive-logit'))([0, Math.log(3)], 1), [0.25, 0.75]);
  });

  it('/predict labels a one-column binary model with its threshold', () => {
    const shape = makeShaper(contractOf('positive-probability', { threshold: 0.35 }));
    const outputs = { p: { dims: [2, 1], data: Float32Array.from([0.3, 0.4]) } };
    expect(shape(outputs, 0)).toMatchObject({ label: 'stayed' });
    expect(shape(outputs, 1)).toMatchObject({ label: 'exited' });
    expect(
      (shape(outputs, 1) as { probabilities: Record<string, number> }).probabilities.stayed,
    ).toBeCloseTo(0.6, 6);
  });
});
