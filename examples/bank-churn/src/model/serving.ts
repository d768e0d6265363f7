/**
 * What the service feeds the worker, derived from the contract in one place: the inputs it packs
 * (a transformer's text, a feature matrix's resolved width) and example tensors for tensor models.
 */
import { allocateTensor, type TensorData } from '../inference/tensors.js';
import type { ModelContract, TensorInfo } from './contract-types.js';

/**
 * The inputs the service packs requests into: the graph's own, except that a text model's
 * tokenizer turns one `text` string per row into the graph's token tensors, and a feature matrix
 * with a symbolic width takes its width from the features.
 */
export function servingInputs(contract: ModelContract): TensorInfo[] {
  if (contract.kind === 'text') return [{ name: 'text', type: 'string', shape: ['batch'] }];
  if (contract.kind === 'records' && contract.layout === 'matrix') {
    const input = contract.inputs[0]!;
    return [{ ...input, shape: [input.shape[0]!, contract.features.length] }];
  }
  return contract.inputs.map((i) => ({ ...i, shape: [...i.shape] }));
}

export interface ExampleTensor {
  readonly name: string;
  readonly type: string;
  readonly dims: number[];
  readonly data: TensorData;
}

/** Zero-filled tensors in the shapes the generator ran the model with (warm-up, examples). */
export function exampleTensors(contract: ModelContract): ExampleTensor[] {
  return contract.inputs.map((input) => {
    const dims = [
      ...(contract.exampleShapes?.[input.name] ??
        input.shape.map((d) => (typeof d === 'number' ? d : 1))),
    ];
    const size = dims.reduce((a, b) => a * b, 1);
    return { name: input.name, type: input.type, dims, data: allocateTensor(input.type, size) };
  });
}

/** `/predict` body of a tensor model: each input as nested arrays of zeros. */
export function exampleTensorBody(contract: ModelContract): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const t of exampleTensors(contract)) {
    const flat = Array.from(t.data as ArrayLike<unknown>, (v) =>
      typeof v === 'bigint' ? Number(v) : t.type === 'bool' ? Boolean(v) : v,
    );
    body[t.name] = nest(flat, t.dims);
  }
  return body;
}

function nest(flat: unknown[], dims: readonly number[]): unknown {
  if (dims.length === 0) return flat[0];
  if (dims.length === 1) return flat.slice(0, dims[0]);
  const per = flat.length / dims[0]!;
  return Array.from({ length: dims[0]! }, (_, i) =>
    nest(flat.slice(i * per, (i + 1) * per), dims.slice(1)),
  );
}
