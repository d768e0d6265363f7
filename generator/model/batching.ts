/**
 * What kind of model this is (records, tensors) and how requests may be batched, from the inputs'
 * shapes alone: a fixed leading dimension is honoured, inputs that share no batch dimension run
 * one request at a time.
 */
import { UserError } from '../errors.js';
import { type Batching, type TensorInfo, type TensorType, tensorElementTypes } from './contract.js';

const recordTypes: ReadonlySet<string> = new Set<TensorType>([
  'float32',
  'float64',
  'int64',
  'int32',
  'string',
]);
const tensorTypes: ReadonlySet<string> = new Set(tensorElementTypes);

const dimText = (shape: TensorInfo['shape']) =>
  `[${shape.map((d) => (d === '' ? '?' : d)).join(', ')}]`;

/**
 * Records: tabular or text models as scikit-learn-style exporters make them: every input [N] or
 * [N, K] of a type JSON can carry, one string or float matrix or one column per input. A single
 * float matrix with a symbolic width is a records model too (its features come from a sidecar).
 */
export function isRecordsModel(inputs: readonly TensorInfo[]): boolean {
  if (inputs.length === 0) return false;
  const ranksOk = inputs.every(
    (i) => recordTypes.has(i.type) && (i.shape.length === 1 || i.shape.length === 2),
  );
  if (!ranksOk) return false;
  if (inputs.length === 1) {
    const only = inputs[0]!;
    if (only.shape.length === 1) return true;
    const width = only.shape[1];
    if (typeof width === 'number') return width === 1 || only.type !== 'string';
    // A symbolic width: a float feature matrix (skl2onnx with None features) is a records model.
    return only.type === 'float32' || only.type === 'float64';
  }
  return inputs.every((i) => i.shape.length === 1 || i.shape[1] === 1);
}

/** Element types a tensor model may take; anything else is refused with the fix. */
export function checkTensorTypes(path: string, inputs: readonly TensorInfo[]): void {
  for (const i of inputs) {
    if (i.type === 'non-tensor') {
      throw new UserError(
        `${path}: input "${i.name}" is not a tensor (a sequence or map); the service feeds tensors only: re-export with tensor inputs`,
      );
    }
    if (!tensorTypes.has(i.type)) {
      throw new UserError(
        `${path}: input "${i.name}" has element type ${i.type}, which JSON and the V2 protocol cannot feed here: re-export the model with ${i.type === 'float16' ? 'float32' : 'a float32 or int64'} inputs`,
      );
    }
  }
}

/**
 * Merge when every input's leading dimension is the same dynamic dimension; fixed when they are
 * all the same number; otherwise each request runs alone. In a records model every leading
 * dimension is the row dimension (scikit-learn exporters leave it unnamed or name it per input).
 */
export function batchingOf(
  path: string,
  inputs: readonly TensorInfo[],
  records: boolean,
): Batching {
  const leads = inputs.map((i) => (i.shape.length === 0 ? undefined : i.shape[0]));
  const fixed = leads.filter((d): d is number => typeof d === 'number');
  if (fixed.length === leads.length && fixed.length > 0) {
    const size = fixed[0]!;
    if (fixed.every((d) => d === size) && size >= 1) return { mode: 'fixed', size };
    return { mode: 'none' };
  }
  const symbols = leads.filter((d): d is string => typeof d === 'string');
  if (symbols.length === leads.length) {
    const first = symbols[0]!;
    // Unnamed dynamic dimensions ("?") cannot be told apart: only one input may have one.
    if (records || (first !== '' && symbols.every((s) => s === first))) return { mode: 'merge' };
    if (symbols.length === 1) return { mode: 'merge' };
    return { mode: 'none' };
  }
  if (fixed.length > 0 && symbols.length > 0 && inputs.every((i) => i.shape.length <= 2)) {
    throw new UserError(
      `${path}: the inputs disagree on the batch dimension (${inputs.map((i) => `${i.name} ${dimText(i.shape)}`).join(', ')}): re-export with one batch dimension for every input`,
    );
  }
  return { mode: 'none' };
}
