/**
 * Model runs at generation time: a smoke run of the served graph on generated rows (so that no
 * request the service accepts can hit a model error a check here would have found), runnable
 * example shapes for tensor models, and the proof that a rewritten graph answers like the
 * original.
 */
import { UserError } from '../errors.js';
import type { Feature, ModelContract, TensorInfo } from './contract.js';
import { type OrtTensor, type Session, ort } from './signature.js';

export type SampleRow = Record<string, number | string | null>;

/** Deterministic rows covering every feature: values inside their ranges, every category seen. */
export function sampleRows(features: readonly Feature[], count: number): SampleRow[] {
  const rows: SampleRow[] = [];
  for (let r = 0; r < count; r++) {
    const row: SampleRow = {};
    for (const f of features) row[f.name] = sampleValue(f, r);
    rows.push(row);
  }
  return rows;
}

function sampleValue(f: Feature, r: number): number | string {
  switch (f.type) {
    case 'category':
      return f.categories.length > 0 ? f.categories[r % f.categories.length]! : `value${r % 3}`;
    case 'text':
      return ['growth beats expectations', 'shares fell sharply', 'the report is due'][r % 3]!;
    default: {
      const lo = f.min ?? (f.max !== undefined ? f.max - 100 : -3);
      const hi = f.max ?? (f.min !== undefined ? f.min + 100 : 3);
      const t = ((r * 7919) % 97) / 96;
      const v = lo + (hi - lo) * t;
      return f.type === 'integer' ? Math.round(v) : Math.round(v * 1000) / 1000;
    }
  }
}

/** Rows -> one tensor per graph input (as the service packs them). */
export async function recordFeeds(
  rows: readonly SampleRow[],
  inputs: readonly TensorInfo[],
  features: readonly Feature[],
): Promise<Record<string, OrtTensor>> {
  const { Tensor } = await ort();
  const feeds: Record<string, OrtTensor> = {};
  const n = rows.length;
  for (const input of inputs) {
    const mine = features.filter((f) => f.input === input.name);
    const width = input.shape.length === 2 ? Math.max(1, mine.length) : 1;
    const dims = input.shape.length === 1 ? [n] : [n, width];
    const values = rows.flatMap((row) =>
      Array.from(
        { length: width },
        (_, c) => row[mine.find((f) => f.column === c)?.name ?? ''] ?? null,
      ),
    );
    feeds[input.name] = makeTensor(Tensor, input.type, values, dims);
  }
  return feeds;
}

function makeTensor(
  Tensor: Awaited<ReturnType<typeof ort>>['Tensor'],
  type: string,
  values: ReadonlyArray<number | string | null>,
  dims: number[],
): OrtTensor {
  switch (type) {
    case 'string':
      return new Tensor(
        'string',
        values.map((v) => (v === null ? '' : String(v))),
        dims,
      );
    case 'int64':
      return new Tensor(
        'int64',
        BigInt64Array.from(values, (v) => BigInt(Math.trunc(Number(v ?? 0)))),
        dims,
      );
    case 'int32':
      return new Tensor(
        'int32',
        Int32Array.from(values, (v) => Number(v ?? 0)),
        dims,
      );
    case 'float64':
      return new Tensor(
        'float64',
        Float64Array.from(values, (v) => (v === null ? NaN : Number(v))),
        dims,
      );
    default:
      return new Tensor(
        'float32',
        Float32Array.from(values, (v) => (v === null ? NaN : Number(v))),
        dims,
      );
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .slice(0, 300);
}

/**
 * Runs the served graph on generated rows, one at a time and (when requests are merged) several
 * at once; a failure is a refusal now rather than a 500 later.
 */
export async function smokeRecords(
  path: string,
  session: Session,
  contract: ModelContract,
): Promise<void> {
  const { batching } = contract;
  const sizes =
    batching.mode === 'fixed' ? [batching.size!] : batching.mode === 'merge' ? [1, 3] : [1];
  for (const n of sizes) {
    const rows = sampleRows(contract.features, n);
    try {
      await session.run(await recordFeeds(rows, contract.inputs, contract.features));
    } catch (err) {
      throw new UserError(
        `${path}: the model fails on ${n} generated row${n === 1 ? '' : 's'} (${firstLine(err)}): check its input shapes, or describe the features in a model.schema.json`,
      );
    }
  }
}

/** Candidate sizes for a dynamic non-batch dimension, smallest first. */
const candidateSizes = [1, 8, 16, 32, 64, 128, 224, 256, 512, 1024, 4096, 16000];

/**
 * Shapes a tensor model runs with: the batch dimension 1, fixed dimensions as they are, and each
 * dynamic dimension the smallest candidate size that runs (one size per dimension name).
 */
export async function exampleShapes(
  path: string,
  session: Session,
  inputs: readonly TensorInfo[],
): Promise<Record<string, number[]>> {
  // A dimension named like some input's leading dimension is the batch, wherever it stands.
  const leading = new Set(inputs.map((i) => i.shape[0]).filter((d) => typeof d === 'string'));
  const symbols = new Set<string>();
  for (const i of inputs)
    i.shape.forEach((d, k) => k > 0 && typeof d === 'string' && !leading.has(d) && symbols.add(d));
  let lastError: unknown;
  for (const size of symbols.size === 0 ? [1] : candidateSizes) {
    const shapes: Record<string, number[]> = {};
    for (const i of inputs) {
      shapes[i.name] = i.shape.map((d, k) =>
        typeof d === 'number' ? d : k === 0 || leading.has(d) ? 1 : size,
      );
    }
    try {
      await session.run(await zeroFeeds(inputs, shapes));
      return shapes;
    } catch (err) {
      lastError = err;
    }
  }
  throw new UserError(
    `${path}: the model did not run on zero-filled inputs of any tried size (${firstLine(lastError)}): describe a working example in model.schema.json or re-export with fixed sizes`,
  );
}

export async function zeroFeeds(
  inputs: readonly TensorInfo[],
  shapes: Readonly<Record<string, readonly number[]>>,
): Promise<Record<string, OrtTensor>> {
  const { Tensor } = await ort();
  const feeds: Record<string, OrtTensor> = {};
  for (const i of inputs) {
    const dims = [...shapes[i.name]!];
    const size = dims.reduce((a, b) => a * b, 1);
    feeds[i.name] = patternTensor(Tensor, i.type, new Array<number>(size).fill(0), dims);
  }
  return feeds;
}

/** A row whose label is not its most probable class; `best` is the most probable one. */
interface LabelMismatch {
  readonly row: number;
  readonly label: string;
  readonly best: string;
}

/**
 * Each row's label (the graph's label output) against its class probabilities: the rows whose
 * label is not the most probable class (within 1e-6, so a tie agrees either way).
 */
function labelMismatches(
  labels: ArrayLike<unknown>,
  probabilities: Float32Array,
  classes: readonly string[],
): LabelMismatch[] {
  const mismatches: LabelMismatch[] = [];
  for (let r = 0; r < labels.length; r++) {
    const row = Array.from(probabilities.subarray(r * classes.length, (r + 1) * classes.length));
    const best = Math.max(...row);
    const label = String(labels[r]);
    const index = classes.indexOf(label);
    if (index < 0 || row[index]! < best - 1e-6)
      mismatches.push({ row: r, label, best: classes[row.indexOf(best)]! });
  }
  return mismatches;
}

/** The served graph's label and probabilities outputs on `rows`. */
async function labelsAndProbabilities(
  session: Session,
  contract: ModelContract,
  rows: readonly SampleRow[],
) {
  const label = contract.outputNames.label!;
  const probabilities = contract.outputNames.probabilities!;
  const out = await session.run(await recordFeeds(rows, contract.inputs, contract.features), [
    label,
    probabilities,
  ]);
  return { labels: out[label]!.data, probabilities: out[probabilities]!.data as Float32Array };
}

/**
 * A classifier's label output against its own probabilities on generated rows: the sentence
 * saying where they disagree (how many rows, the first few), or undefined when each row's label is
 * its most probable class.
 */
export async function labelDisagreement(
  session: Session,
  contract: ModelContract,
  rows: readonly SampleRow[],
): Promise<string | undefined> {
  const out = await labelsAndProbabilities(session, contract, rows);
  const mismatches = labelMismatches(out.labels, out.probabilities, contract.labels);
  if (mismatches.length === 0) return undefined;
  const first = mismatches
    .slice(0, 3)
    .map((m) => `row ${m.row}: ${m.label} where ${m.best} is most probable`);
  return `onnxruntime's label disagreed with the probabilities on ${mismatches.length} of ${rows.length} generated rows (${first.join('; ')})`;
}

/**
 * Proves a ZipMap removal faithful: the original graph's labels (the ZipMap is not run when only
 * the label is fetched) equal the rewritten graph's exactly, and each row's most probable class
 * is its label. When the rewritten graph's label was recomputed from the probabilities (because
 * onnxruntime's own disagreed with them), each row's label must be its most probable class, and
 * the rows where the original's label differs are counted. Returns the sentence recorded in the
 * model's lineage.
 */
export async function proveZipMapRemoval(
  path: string,
  original: Session,
  served: Session,
  contract: ModelContract,
  rows: readonly SampleRow[],
  labelRecomputed = false,
): Promise<string> {
  const label = contract.outputNames.label;
  if (!label) return `no label output to compare; ${rows.length} rows ran`;
  const feeds = await recordFeeds(rows, contract.inputs, contract.features);
  const before = (await original.run(feeds, [label]))[label]!.data;
  const after = await labelsAndProbabilities(served, contract, rows);
  const notMostProbable = labelMismatches(after.labels, after.probabilities, contract.labels);
  const changed: string[] = [];
  for (let r = 0; r < rows.length; r++) {
    if (String(before[r]) !== String(after.labels[r]))
      changed.push(`row ${r}: label ${String(before[r])} became ${String(after.labels[r])}`);
  }
  const mismatches = [
    ...(labelRecomputed ? [] : changed),
    ...notMostProbable.map((m) => `row ${m.row}: label ${m.label} is not the most probable class`),
  ];
  if (mismatches.length > 0) {
    throw new UserError(
      `${path}: removing the ZipMap would change the answers (${mismatches.slice(0, 3).join('; ')}); export with zipmap=False instead`,
    );
  }
  if (labelRecomputed) {
    return `each row's label in the rewritten graph is its most probable class on ${rows.length} generated rows (the original graph's own label differed on ${changed.length} of them)`;
  }
  return `the original and rewritten graphs gave the same label on ${rows.length} generated rows, and each row's most probable class is its label`;
}

/**
 * Inputs that exercise the weights: generated rows for a records model; for tensors and token ids,
 * runnable shapes filled with a deterministic pattern (floats in [-1, 1], integers 0 and 1, so ids,
 * masks and token types stay valid).
 */
async function patternFeeds(
  path: string,
  session: Session,
  contract: ModelContract,
): Promise<Record<string, OrtTensor>> {
  if (contract.kind === 'records') {
    return recordFeeds(sampleRows(contract.features, 16), contract.inputs, contract.features);
  }
  const shapes = contract.exampleShapes ?? (await exampleShapes(path, session, contract.inputs));
  const { Tensor } = await ort();
  const feeds: Record<string, OrtTensor> = {};
  for (const input of contract.inputs) {
    const dims = [...shapes[input.name]!];
    const size = dims.reduce((a, b) => a * b, 1);
    const integral = !/^float|^string/.test(input.type);
    const values = Array.from({ length: size }, (_, k) =>
      integral ? k % 2 : ((k * 7919) % 97) / 48 - 1,
    );
    feeds[input.name] = patternTensor(Tensor, input.type, values, dims);
  }
  return feeds;
}

/**
 * Proves that two sessions of the same graph answer alike: every tensor output of `original`
 * equals `rewritten`'s bit for bit on generated inputs. `what` names the change in the refusal.
 */
export async function proveSameOutputs(
  path: string,
  original: Session,
  rewritten: Session,
  contract: ModelContract,
  what: string,
): Promise<string> {
  const fetches = original.outputMetadata.filter((m) => m.isTensor).map((m) => m.name);
  const feeds = () => patternFeeds(path, rewritten, contract);
  const before = await original.run(await feeds(), fetches);
  const after = await rewritten.run(await feeds(), fetches);
  for (const name of fetches) {
    const a = Array.from(before[name]!.data as ArrayLike<unknown>);
    const b = Array.from(after[name]!.data as ArrayLike<unknown>);
    const i = a.findIndex((v, k) => !Object.is(v, b[k]));
    if (a.length !== b.length || i >= 0) {
      throw new UserError(
        `${path}: ${what} changed output "${name}" (element ${Math.max(i, 0)}: ${String(a[i])} became ${String(b[i])}): report this with the model to create-mlops-service`,
      );
    }
  }
  return `the original and the rewritten graph gave bit-identical ${fetches.join(', ')} on generated inputs`;
}

const typedArrays: Readonly<Record<string, (values: number[]) => ArrayLike<unknown>>> = {
  float32: (v) => Float32Array.from(v),
  float64: (v) => Float64Array.from(v),
  // float16 travels as its bit patterns; 0 and 1 are valid (tiny) values.
  float16: (v) => Uint16Array.from(v, (x) => Math.abs(Math.round(x))),
  int8: (v) => Int8Array.from(v),
  uint8: (v) => Uint8Array.from(v),
  bool: (v) => Uint8Array.from(v),
  int16: (v) => Int16Array.from(v),
  uint16: (v) => Uint16Array.from(v),
  int32: (v) => Int32Array.from(v),
  uint32: (v) => Uint32Array.from(v),
  int64: (v) => BigInt64Array.from(v, (x) => BigInt(x)),
  uint64: (v) => BigUint64Array.from(v, (x) => BigInt(x)),
  // Zero is the empty text.
  string: (v) => v.map((x) => (x === 0 ? '' : String(x))),
};

function patternTensor(
  Tensor: Awaited<ReturnType<typeof ort>>['Tensor'],
  type: string,
  values: number[],
  dims: number[],
): OrtTensor {
  const make = typedArrays[type] ?? typedArrays.float32!;
  return new Tensor(type as 'float32', make(values) as Float32Array, dims);
}
