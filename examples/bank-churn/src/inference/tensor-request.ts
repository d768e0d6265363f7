/**
 * Named tensors in (V2 `infer`, or `/predict` of a tensor model) -> validated tensors for the
 * graph. Every input's name, datatype and shape is checked against the model: fixed dimensions
 * must match, dynamic ones are bounded (MAX_DYNAMIC_DIM, MAX_TENSOR_ELEMENTS, MAX_BATCH_ROWS), a
 * dimension name shared by several inputs must have one value, numbers must fit the element type.
 * What passes here is what the graph can take, so a bad request is a 400, never a 500.
 */
import { type FieldIssue, ValidationError } from '../errors.js';
import type { ModelContract, TensorInfo } from '../model/contract-types.js';
import { allocateTensor, type PackedInput, type TensorData } from './tensors.js';

export type V2Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

const v2ByElementType: Record<string, V2Datatype> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int64: 'INT64',
  int32: 'INT32',
  int16: 'INT16',
  int8: 'INT8',
  uint64: 'UINT64',
  uint32: 'UINT32',
  uint16: 'UINT16',
  uint8: 'UINT8',
  bool: 'BOOL',
  string: 'BYTES',
};

export function v2DatatypeOf(type: string): V2Datatype {
  return v2ByElementType[type] ?? 'BYTES';
}

/** An input tensor as a client sent it: data flat or nested, JSON values or a typed array. */
export interface TensorIn {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  /** Absent only when a binary-extension client forgot both data and binary_data_size. */
  readonly data?: unknown;
}

export interface TensorLimits {
  /** Largest value of any dynamic dimension but the batch dimension. */
  readonly maxDim: number;
  /** Most elements one input tensor may hold. */
  readonly maxElements: number;
  /** Most rows along a batch dimension. */
  readonly maxRows: number;
}

export interface TensorWork {
  readonly tensors: PackedInput[];
  /** Rows along the batch dimension (1 when the inputs share none). */
  readonly rows: number;
  /** Requests merge only with the same key (same non-batch dimensions); null: never. */
  readonly key: string | null;
}

const integerRange: Record<string, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
const float32Max = 3.4028234663852886e38;

export function parseTensors(
  given: readonly TensorIn[],
  contract: ModelContract,
  limits: TensorLimits,
): TensorWork {
  const issues: FieldIssue[] = [];
  const byName = new Map<string, TensorIn>();
  for (const t of given) {
    if (byName.has(t.name)) issues.push({ field: `inputs.${t.name}`, message: 'appears twice' });
    byName.set(t.name, t);
  }
  const names = contract.inputs.map((i) => i.name);
  for (const t of given) {
    if (!names.includes(t.name))
      issues.push({
        field: `inputs.${t.name}`,
        message: `unknown input; the model takes ${names.join(', ')}`,
      });
  }
  for (const n of names)
    if (!byName.has(n)) issues.push({ field: `inputs.${n}`, message: 'is missing' });
  if (issues.length > 0) throw new ValidationError(issues);

  const symbols = new Map<string, { value: number; input: string }>();
  const tensors: PackedInput[] = [];
  for (const info of contract.inputs) {
    const t = byName.get(info.name)!;
    const field = `inputs.${info.name}`;
    const problem = checkDatatype(t, info) ?? checkShape(t.shape, info, contract, limits, symbols);
    if (problem) {
      issues.push({ field, message: problem });
      continue;
    }
    const size = t.shape.reduce((a, b) => a * b, 1);
    const converted = convertData(t.data, info.type, size);
    if (typeof converted === 'string') issues.push({ field, message: converted });
    else tensors.push({ name: info.name, type: info.type, dims: [...t.shape], data: converted });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  const { mode } = contract.batching;
  if (mode === 'none') return { tensors, rows: 1, key: null };
  const key = tensors.map((t) => t.dims.slice(1).join('x')).join('|');
  return { tensors, rows: tensors[0]!.dims[0]!, key };
}

function checkDatatype(t: TensorIn, info: TensorInfo): string | undefined {
  const expected = v2DatatypeOf(info.type);
  return t.datatype === expected
    ? undefined
    : `datatype must be ${expected} (the model's ${info.type}), got ${t.datatype}`;
}

function checkShape(
  shape: readonly number[],
  info: TensorInfo,
  contract: ModelContract,
  limits: TensorLimits,
  symbols: Map<string, { value: number; input: string }>,
): string | undefined {
  const expected = `[${info.shape.map((d) => (d === '' ? '?' : d)).join(', ')}]`;
  if (shape.length !== info.shape.length)
    return `shape must have ${info.shape.length} dimensions ${expected}, got [${shape.join(', ')}]`;
  const batched = contract.batching.mode !== 'none';
  for (let k = 0; k < shape.length; k++) {
    const d = shape[k]!;
    const want = info.shape[k]!;
    const isBatch = batched && k === 0;
    if (!Number.isInteger(d) || d < 1)
      return `dimension ${k} must be a whole number of at least 1, got ${d}`;
    if (isBatch) {
      if (d > limits.maxRows)
        return `dimension 0 (the batch) must be at most ${limits.maxRows} (MAX_BATCH_ROWS), got ${d}`;
    } else if (typeof want === 'number') {
      if (d !== want)
        return `dimension ${k} must be ${want} as the model's shape ${expected} says, got ${d}`;
    } else if (d > limits.maxDim) {
      return `dimension ${k} ("${want || '?'}") must be at most ${limits.maxDim} (MAX_DYNAMIC_DIM), got ${d}`;
    }
    if (typeof want === 'string' && want !== '') {
      const seen = symbols.get(want);
      if (seen && seen.value !== d)
        return `dimension ${k} ("${want}") is ${d} but input "${seen.input}" has ${want} = ${seen.value}; the model needs them equal`;
      if (!seen) symbols.set(want, { value: d, input: info.name });
    }
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (size > limits.maxElements)
    return `holds ${size} elements, more than ${limits.maxElements} (MAX_TENSOR_ELEMENTS)`;
  return undefined;
}

type Converted = PackedInput['data'];

/** JSON values (flat or nested) or a typed array -> the element type's array, or a problem. */
function convertData(data: unknown, type: string, size: number): Converted | string {
  const flat = ArrayBuffer.isView(data) ? (data as unknown as ArrayLike<unknown>) : flatten(data);
  if (typeof flat === 'string') return flat;
  if (flat.length !== size) return `the shape holds ${size} elements but data has ${flat.length}`;
  if (type === 'string') {
    const out: string[] = new Array<string>(size);
    for (let i = 0; i < size; i++) {
      const v = flat[i];
      if (typeof v !== 'string') return `data[${i}] must be a string, got ${typeof v}`;
      out[i] = v;
    }
    return out;
  }
  if (type === 'bool') {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const v = flat[i];
      if (v === true || v === 1) out[i] = 1;
      else if (v !== false && v !== 0) return `data[${i}] must be true or false`;
    }
    return out;
  }
  if (type === 'int64') return toInt64(flat, size);
  // Numeric types only here: strings, bool and int64 were handled above.
  const out = allocateTensor(type, size) as Exclude<TensorData, BigInt64Array | string[]>;
  const range = integerRange[type];
  for (let i = 0; i < size; i++) {
    const v = Number(flat[i]);
    if (typeof flat[i] !== 'number' && !ArrayBuffer.isView(data))
      return `data[${i}] must be a number, got ${typeof flat[i]}`;
    if (!Number.isFinite(v)) return `data[${i}] must be a finite number`;
    if (
      range
        ? !Number.isInteger(v) || v < range[0] || v > range[1]
        : type === 'float32' && Math.abs(v) > float32Max
    )
      return range
        ? `data[${i}] must be a whole number from ${range[0]} to ${range[1]}`
        : `data[${i}] is out of the float32 range`;
    out[i] = v;
  }
  return out;
}

function toInt64(flat: ArrayLike<unknown>, size: number): BigInt64Array | string {
  if (flat instanceof BigInt64Array) return flat;
  const out = new BigInt64Array(size);
  for (let i = 0; i < size; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isSafeInteger(v))
      return `data[${i}] must be a whole number (INT64 beyond 2^53 needs the binary extension)`;
    out[i] = BigInt(v);
  }
  return out;
}

/** Nested arrays -> row-major flat values, or a problem. */
function flatten(data: unknown): unknown[] | string {
  if (!Array.isArray(data)) return 'data must be an array';
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (value: unknown, depth: number): string | undefined => {
    if (depth > 8) return 'data is nested too deeply';
    if (!Array.isArray(value)) {
      out.push(value);
      return undefined;
    }
    for (const v of value) {
      const problem = walk(v, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  };
  return walk(data, 0) ?? out;
}

/** The shape of nested arrays (`/predict` of a tensor model), or a problem if they are ragged. */
export function shapeOfNested(value: unknown): number[] | string {
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  const check = (v: unknown, depth: number): boolean =>
    depth === shape.length
      ? !Array.isArray(v)
      : Array.isArray(v) && v.length === shape[depth] && v.every((x) => check(x, depth + 1));
  return check(value, 0) ? shape : 'must be a rectangular nested array (every row the same length)';
}

/** Tensors of several requests joined along the batch dimension, in order. */
export function concatTensors(works: readonly TensorWork[]): PackedInput[] {
  if (works.length === 1) return works[0]!.tensors;
  return works[0]!.tensors.map((first, k) => {
    const parts = works.map((w) => w.tensors[k]!);
    const rows = parts.reduce((a, p) => a + p.dims[0]!, 0);
    const length = parts.reduce((a, p) => a + p.data.length, 0);
    let data: PackedInput['data'];
    if (Array.isArray(first.data)) {
      data = parts.flatMap((p) => p.data as string[]);
    } else {
      const joined = new (first.data.constructor as new (n: number) => Float32Array)(length);
      let offset = 0;
      for (const p of parts) {
        joined.set(p.data as Float32Array, offset);
        offset += p.data.length;
      }
      data = joined;
    }
    return { name: first.name, type: first.type, dims: [rows, ...first.dims.slice(1)], data };
  });
}

/** What the prediction log keeps of a tensor: its shape and a few statistics, not its values. */
export function summarize(t: {
  dims: readonly number[];
  data: ArrayLike<unknown>;
}): Record<string, unknown> {
  const n = t.data.length;
  if (n === 0 || typeof t.data[0] === 'string') return { shape: [...t.dims], elements: n };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = Number(t.data[i]);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { shape: [...t.dims], elements: n, min, max, mean: sum / n };
}
