import { describe, expect, it } from 'vitest';
// @ts-expect-error: an ES module in JavaScript, checked by its own // @ts-check
import { cpuCeiling } from './model-cpu.mjs';

const ceiling = cpuCeiling as (work: {
  cores: number;
  bareCpuUs: number;
  modelCpuUs: number;
  clientCpuUs: number;
}) => number;

describe('the bound a model sets on a throughput ratio', () => {
  it('shares the cores between the bare work, the model and the load generator', () => {
    // bank-churn's 1000-row /predict/batch on 2 cores: the bare route parses the body in 980 µs,
    // the model takes 3,240 µs of CPU for the rows, the load generator 20 µs.
    const rps = ceiling({ cores: 2, bareCpuUs: 980, modelCpuUs: 3240, clientCpuUs: 20 });
    expect(rps).toBeCloseTo(2e6 / 4240, 6);
    // The bare route, bound to its one thread, serves at most 1e6 / 980 of them.
    expect(rps / (1e6 / 980)).toBeLessThan(0.5);
  });

  it("is the bare route's one thread when the model and the client are cheap", () => {
    expect(ceiling({ cores: 2, bareCpuUs: 25, modelCpuUs: 4, clientCpuUs: 16 })).toBeCloseTo(
      1e6 / 25,
      6,
    );
  });

  it('grows with the cores until that one thread binds', () => {
    const work = { bareCpuUs: 980, modelCpuUs: 3240, clientCpuUs: 20 };
    const on = (cores: number) => ceiling({ cores, ...work });
    expect(on(4)).toBeCloseTo(2 * on(2), 6);
    expect(on(64)).toBeCloseTo(1e6 / 980, 6);
  });
});
