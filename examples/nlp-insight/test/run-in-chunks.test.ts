/**
 * Model runs in chunks (inference/tensors.js): a graph with a fixed batch size gets exactly that
 * many rows per run, padded; any other graph gets at most MAX_BATCH_SIZE rows per run, unpadded,
 * so what one run allocates is bounded whatever a request holds. Either way the outputs come back
 * joined in row order.
 */
import { describe, expect, it } from 'vitest';
import { type PackedInput, runInChunks } from '../src/inference/tensors.js';

/** Five rows of two features, and a "model" that echoes its input rows and counts its runs. */
function fixture() {
  const input: PackedInput = {
    name: 'x',
    type: 'float32',
    dims: [5, 2],
    data: Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31, 40, 41]),
  };
  const runs: number[] = [];
  const model = async (chunk: PackedInput[]) => {
    const x = chunk[0]!;
    runs.push(x.dims[0]!);
    return { y: { dims: [...x.dims], data: Float32Array.from(x.data as Float32Array) } };
  };
  return { input, runs, model };
}

describe('runInChunks', () => {
  it('without padding: runs of at most the size, the last one shorter, outputs in order', async () => {
    const { input, runs, model } = fixture();
    const out = await runInChunks([input], 2, model, false);
    expect(runs).toEqual([2, 2, 1]);
    expect(out.y!.dims).toEqual([5, 2]);
    expect(Array.from(out.y!.data as Float32Array)).toEqual(Array.from(input.data as Float32Array));
  });

  it('without padding: rows that fit take one run', async () => {
    const { input, runs, model } = fixture();
    await runInChunks([input], 8, model, false);
    expect(runs).toEqual([5]);
  });

  it("with padding (a fixed batch graph): every run takes exactly the size, padding's outputs dropped", async () => {
    const { input, runs, model } = fixture();
    const out = await runInChunks([input], 2, model);
    expect(runs).toEqual([2, 2, 2]);
    expect(out.y!.dims).toEqual([5, 2]);
    expect(Array.from(out.y!.data as Float32Array)).toEqual(Array.from(input.data as Float32Array));
  });
});
