/**
 * Weights kept beside the graph: ONNX "external data". `torch.onnx.export` writes every tensor of
 * 1 KiB or more to `<model>.onnx.data` by default since PyTorch 2.9 (external_data=True), as
 * `onnx.save_model(save_as_external_data=True)` and Hugging Face Optimum (`model.onnx_data`) do.
 * The project ships, publishes and loads one content-addressed `model.onnx`, so the weights are
 * read back into the graph here. A data file that is missing, outside the model's folder, shorter
 * than the graph says, or a model that would outgrow protobuf's 2 GiB is refused with the fix.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { UserError } from '../../errors.js';
import { allNodes } from './facts.js';
import { type GraphProto, type ModelProto, type TensorProto, int64ToNumber } from './onnx.js';

/** TensorProto.DataLocation.EXTERNAL. */
const external = 1;
/** A serialized ModelProto must stay under 2 GiB (protobuf's limit, enforced by onnxruntime). */
export const maxModelBytes = 2 ** 31 - 1;

/** Bytes per element of ONNX's fixed-size element types (4-bit types: half a byte). */
const elementBytes: Readonly<Record<number, number>> = {
  1: 4,
  2: 1,
  3: 1,
  4: 2,
  5: 2,
  6: 4,
  7: 8,
  9: 1,
  10: 2,
  11: 8,
  12: 4,
  13: 8,
  14: 8,
  15: 16,
  16: 2,
  17: 1,
  18: 1,
  19: 1,
  20: 1,
  21: 0.5,
  22: 0.5,
  23: 0.5,
};

export interface ExternalFile {
  /** As the graph names it, relative to the model's folder. */
  readonly location: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface InlinedWeights {
  /** The same model with every external tensor's bytes in `raw_data` (the input is not touched). */
  readonly model: ModelProto;
  readonly files: readonly ExternalFile[];
  readonly tensors: number;
  /** Bytes moved into the graph. */
  readonly bytes: number;
}

interface ExternalRef {
  readonly tensor: TensorProto;
  readonly location: string;
  readonly offset: number;
  readonly length: number | undefined;
}

/** Every tensor the model holds: initializers and attribute tensors, in every (sub)graph. */
export function* tensorsOf(model: ModelProto): Generator<TensorProto> {
  const graphs: GraphProto[] = model.graph ? [model.graph] : [];
  for (const node of allNodes(model)) {
    for (const a of node.attribute) {
      if (a.t) yield a.t;
      yield* a.tensors;
      if (a.g) graphs.push(a.g);
      graphs.push(...a.graphs);
    }
  }
  for (const g of graphs) {
    yield* g.initializer;
    for (const s of g.sparse_initializer ?? []) {
      if (s.values) yield s.values;
      if (s.indices) yield s.indices;
    }
  }
}

/** True when some tensor's bytes live outside the model file. */
export function usesExternalData(model: ModelProto): boolean {
  for (const t of tensorsOf(model)) if (t.data_location === external) return true;
  return false;
}

/**
 * Reads every external tensor's bytes into the graph. `modelBytes` is the file's size, for the
 * 2 GiB check. Undefined when the model has no external data.
 */
export async function inlineExternalData(
  model: ModelProto,
  modelPath: string,
  modelBytes: number,
  clone: (m: ModelProto) => ModelProto,
): Promise<InlinedWeights | undefined> {
  if (!usesExternalData(model)) return undefined;
  const copy = clone(model);
  const refs = [...tensorsOf(copy)]
    .filter((t) => t.data_location === external)
    .map((t) => externalRef(t, modelPath));
  const total = refs.reduce((sum, r) => sum + (r.length ?? 0), 0);
  if (modelBytes + total > maxModelBytes) throw tooLarge(modelPath, refs, modelBytes + total);
  const files = new Map<string, Buffer>();
  for (const location of new Set(refs.map((r) => r.location))) {
    files.set(location, await readDataFile(modelPath, location));
  }
  let bytes = 0;
  for (const ref of refs) {
    const data = sliceOf(modelPath, ref, files.get(ref.location)!);
    bytes += data.byteLength;
    ref.tensor.raw_data = data;
    ref.tensor.external_data = [];
    delete ref.tensor.data_location;
  }
  if (modelBytes + bytes > maxModelBytes) throw tooLarge(modelPath, refs, modelBytes + bytes);
  return {
    model: copy,
    files: [...files].map(([location, data]) => ({
      location,
      sha256: createHash('sha256').update(data).digest('hex'),
      bytes: data.byteLength,
    })),
    tensors: refs.length,
    bytes,
  };
}

/** One line for the model's lineage. */
export function describeInlining(w: InlinedWeights): string {
  const files = w.files.map((f) => `${f.location} (sha256 ${f.sha256.slice(0, 12)}…)`).join(', ');
  return `the weights of ${w.tensors} tensor${w.tensors === 1 ? '' : 's'} (${formatBytes(w.bytes)}) read from ${files} into the graph: the project ships one self-contained model.onnx`;
}

function externalRef(tensor: TensorProto, modelPath: string): ExternalRef {
  const entry = (key: string) => tensor.external_data.find((e) => e.key === key)?.value;
  const name = tensor.name ?? '(unnamed)';
  const location = entry('location');
  if (!location) {
    throw new UserError(
      `${modelPath}: tensor "${name}" is marked as external data but names no file (no "location"): re-export the model`,
    );
  }
  const normal = normalize(location);
  if (isAbsolute(location) || normal === '..' || normal.startsWith(`..${sep}`)) {
    throw new UserError(
      `${modelPath}: tensor "${name}" reads its weights from "${location}", outside the model's folder, which is not read: keep the data file beside the model (onnx.save_model(..., location="${basename(location)}"))`,
    );
  }
  const offset = Number(entry('offset') ?? '0');
  const lengthText = entry('length');
  const length = lengthText === undefined ? undefined : Number(lengthText);
  if (!Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && !(length >= 0))) {
    throw new UserError(
      `${modelPath}: tensor "${name}" has an invalid offset or length in ${location}: re-export the model`,
    );
  }
  return { tensor, location: normal, offset, length };
}

async function readDataFile(modelPath: string, location: string): Promise<Buffer> {
  const path = join(dirname(modelPath), location);
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(
        `${modelPath} keeps its weights in ${location} (external data), which is not beside it: copy ${location} next to ${basename(modelPath)}, or re-export with the weights inside (torch.onnx.export(..., external_data=False))`,
      );
    }
    throw new UserError(
      `${modelPath}: cannot read its weights file ${path}: ${(err as Error).message}`,
    );
  }
}

function sliceOf(modelPath: string, ref: ExternalRef, file: Buffer): Buffer {
  const name = ref.tensor.name ?? '(unnamed)';
  const end = ref.length === undefined ? file.byteLength : ref.offset + ref.length;
  if (end > file.byteLength) {
    throw new UserError(
      `${modelPath}: ${ref.location} is ${file.byteLength} bytes, but tensor "${name}" needs bytes ${ref.offset} to ${end}: the data file is truncated or from another export; copy it again from the export`,
    );
  }
  const data = file.subarray(ref.offset, end);
  const expected = expectedBytes(ref.tensor);
  if (expected !== undefined && expected !== data.byteLength) {
    throw new UserError(
      `${modelPath}: tensor "${name}" needs ${expected} bytes, but ${ref.location} gives it ${data.byteLength}: the data file is from another export; copy the .onnx and its data file from the same export`,
    );
  }
  return data;
}

function expectedBytes(t: TensorProto): number | undefined {
  const size = elementBytes[t.data_type ?? 0];
  if (size === undefined) return undefined;
  const count = t.dims.reduce<number>((n, d) => n * int64ToNumber(d), 1);
  return Math.ceil(count * size);
}

function tooLarge(modelPath: string, refs: readonly ExternalRef[], bytes: number): UserError {
  const files = [...new Set(refs.map((r) => r.location))].join(', ');
  return new UserError(
    `${modelPath} with its weights in ${files} is ${formatBytes(bytes)}, more than the 2 GiB one ONNX file can hold, and the service loads one copy per worker thread: make it smaller (onnxruntime.quantization.quantize_dynamic to int8, or a distilled model) below 2 GiB`,
  );
}

function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
