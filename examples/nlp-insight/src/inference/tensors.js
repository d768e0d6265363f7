// @ts-check
/**
 * Rows <-> tensor data, shared by the main thread (which packs batches before handing them to a
 * worker) and the workers (which pack explanation coalitions). Plain JavaScript so the inference
 * worker runs as it is, with or without a build step.
 */

/**
 * @typedef {{ name: string, type: string, shape: ReadonlyArray<number | string> }} InputSpec
 * @typedef {{ name: string, input: string, column: number, tensorType: string, type: string }} FeatureSpec
 * @typedef {Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | string[]} TensorData
 * @typedef {{ name: string, type: string, dims: number[], data: TensorData }} PackedInput
 * @typedef {Record<string, number | string | null | undefined>} Row
 */

/** Columns of an input: 1 for `[N]` and `[N, 1]`, K for `[N, K]`. */
export function widthOf(/** @type {InputSpec} */ input) {
  const last = input.shape.length === 2 ? input.shape[1] : 1;
  return typeof last === 'number' ? last : 1;
}

/**
 * Zeroed data of `size` elements in the array onnxruntime-node takes for an element type (bool as
 * Uint8Array, strings as ""). The one place that maps element types to arrays.
 *
 * @param {string} type
 * @param {number} size
 * @returns {TensorData}
 */
export function allocateTensor(type, size) {
  switch (type) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int8':
      return new Int8Array(size);
    case 'int16':
      return new Int16Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'uint8':
    case 'bool':
      return new Uint8Array(size);
    case 'uint16':
      return new Uint16Array(size);
    case 'string':
      return new Array(size).fill('');
    default:
      throw new Error(`unsupported input element type ${type}`);
  }
}

/**
 * Packs rows into one tensor per graph input, in the graph's input order. A null (nullable feature)
 * becomes NaN for floats (the graph imputes it), 0 for integers and "" for strings.
 *
 * @param {ReadonlyArray<Row>} rows
 * @param {ReadonlyArray<InputSpec>} inputs
 * @param {ReadonlyArray<FeatureSpec>} features
 * @returns {PackedInput[]}
 */
export function packRows(rows, inputs, features) {
  const n = rows.length;
  /** @type {PackedInput[]} */
  const packed = inputs.map((input) => {
    const width = widthOf(input);
    return {
      name: input.name,
      type: input.type,
      dims: input.shape.length === 1 ? [n] : [n, width],
      data: allocateTensor(input.type, n * width),
    };
  });
  for (const f of features) {
    const index = inputs.findIndex((i) => i.name === f.input);
    const target = packed[index];
    if (!target) throw new Error(`feature ${f.name} names unknown input ${f.input}`);
    const width = target.dims.length === 2 ? /** @type {number} */ (target.dims[1]) : 1;
    const data = target.data;
    const name = f.name;
    if (Array.isArray(data)) {
      for (let r = 0, o = f.column; r < n; r++, o += width) {
        const v = /** @type {Row} */ (rows[r])[name];
        data[o] = v === null || v === undefined ? '' : String(v);
      }
    } else if (data instanceof BigInt64Array) {
      for (let r = 0, o = f.column; r < n; r++, o += width) {
        const v = /** @type {Row} */ (rows[r])[name];
        data[o] = typeof v === 'number' ? BigInt(Math.trunc(v)) : 0n;
      }
    } else {
      const isFloat = data instanceof Float32Array || data instanceof Float64Array;
      for (let r = 0, o = f.column; r < n; r++, o += width) {
        const v = /** @type {Row} */ (rows[r])[name];
        data[o] = typeof v === 'number' ? v : isFloat ? NaN : 0;
      }
    }
  }
  return packed;
}

/**
 * The wire format of a batch between the main thread and a worker: one array per element type
 * holding every input of that type back to back (input k of a type occupies n * width_k elements
 * starting at n * unitsBefore_k). A handful of arrays cross the thread boundary per batch instead
 * of one object per input, which is what a model run costs most on the main thread.
 *
 * @typedef {{ name: string, type: string, width: number, rank: number, unitsBefore: number }} InputSlot
 * @typedef {{ slots: InputSlot[], units: Record<string, number> }} BatchLayout
 * @typedef {{ n: number, data: Record<string, TensorData> }} PackedBatch
 */

/** @param {ReadonlyArray<InputSpec>} inputs @returns {BatchLayout} */
export function batchLayout(inputs) {
  /** @type {Record<string, number>} */
  const units = {};
  const slots = inputs.map((input) => {
    const width = widthOf(input);
    const unitsBefore = units[input.type] ?? 0;
    units[input.type] = unitsBefore + width;
    return { name: input.name, type: input.type, width, rank: input.shape.length, unitsBefore };
  });
  return { slots, units };
}

/**
 * @param {ReadonlyArray<Row>} rows
 * @param {BatchLayout} layout
 * @param {ReadonlyArray<FeatureSpec>} features
 * @returns {PackedBatch}
 */
export function packBatch(rows, layout, features) {
  const n = rows.length;
  /** @type {Record<string, TensorData>} */
  const data = {};
  for (const [type, units] of Object.entries(layout.units))
    data[type] = allocateTensor(type, n * units);
  for (const f of features) {
    const slot = layout.slots.find((s) => s.name === f.input);
    if (!slot) throw new Error(`feature ${f.name} names unknown input ${f.input}`);
    const target = /** @type {TensorData} */ (data[slot.type]);
    const width = slot.width;
    const name = f.name;
    let o = n * slot.unitsBefore + f.column;
    if (Array.isArray(target)) {
      for (let r = 0; r < n; r++, o += width) {
        const v = /** @type {Row} */ (rows[r])[name];
        target[o] = v === null || v === undefined ? '' : String(v);
      }
    } else if (target instanceof BigInt64Array) {
      for (let r = 0; r < n; r++, o += width) {
        const v = /** @type {Row} */ (rows[r])[name];
        target[o] = typeof v === 'number' ? BigInt(Math.trunc(v)) : 0n;
      }
    } else {
      const fill = target instanceof Float32Array || target instanceof Float64Array ? NaN : 0;
      for (let r = 0; r < n; r++, o += width) {
        const v = /** @type {Row} */ (rows[r])[name];
        target[o] = typeof v === 'number' ? v : fill;
      }
    }
  }
  return { n, data };
}

/**
 * The inputs of a packed batch, as views (no copies).
 * @param {PackedBatch} batch
 * @param {BatchLayout} layout
 * @returns {PackedInput[]}
 */
export function unpackBatch(batch, layout) {
  const n = batch.n;
  return layout.slots.map((slot) => {
    const all = /** @type {TensorData} */ (batch.data[slot.type]);
    const from = n * slot.unitsBefore;
    const to = from + n * slot.width;
    const data = Array.isArray(all)
      ? all.slice(from, to)
      : /** @type {Float32Array} */ (all).subarray(from, to);
    return {
      name: slot.name,
      type: slot.type,
      dims: slot.rank === 1 ? [n] : [n, slot.width],
      data,
    };
  });
}

/**
 * Output data as plain numbers/strings: int64 tensors (BigInt64Array) become Float64Array so they
 * cross threads and serialise to JSON.
 *
 * @param {unknown} data
 * @returns {Float32Array | Float64Array | Int32Array | string[] | number[]}
 */
export function plainData(data) {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    const out = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
    return out;
  }
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array)
    return data.slice();
  if (ArrayBuffer.isView(data))
    return Array.from(/** @type {ArrayLike<number>} */ (/** @type {unknown} */ (data)));
  if (Array.isArray(data)) return data.map(String);
  throw new Error('unsupported output tensor data');
}

/**
 * Data as onnxruntime-node takes it for an element type: int64 as BigInt64Array, bool as
 * Uint8Array; other typed arrays and string arrays as they are.
 *
 * @param {string} type
 * @param {unknown} data
 */
export function toOrtData(type, data) {
  if (type === 'int64' && !(data instanceof BigInt64Array)) {
    const values = /** @type {ArrayLike<number>} */ (data);
    const out = new BigInt64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = BigInt(Math.trunc(Number(values[i])));
    return out;
  }
  if (type === 'bool' && !(data instanceof Uint8Array)) {
    return Uint8Array.from(/** @type {ArrayLike<number>} */ (data), (v) => (v ? 1 : 0));
  }
  return data;
}

/**
 * Rows [from, to) of a tensor whose first dimension is the batch; rows past the end repeat the
 * last row (padding for a graph that takes a fixed number of rows).
 *
 * @param {PackedInput} input
 * @param {number} from
 * @param {number} size
 * @returns {PackedInput}
 */
function chunkOf(input, from, size) {
  const n = /** @type {number} */ (input.dims[0]);
  const per = n === 0 ? 0 : input.data.length / n;
  const take = Math.min(size, n - from);
  const data = /** @type {any} */ (
    Array.isArray(input.data)
      ? new Array(size * per)
      : new /** @type {any} */ (input.data.constructor)(size * per)
  );
  for (let r = 0; r < size; r++) {
    const source = from + Math.min(r, take - 1);
    for (let k = 0; k < per; k++) data[r * per + k] = input.data[source * per + k];
  }
  return { name: input.name, type: input.type, dims: [size, ...input.dims.slice(1)], data };
}

/**
 * Runs rows in chunks of `size`, the outputs joined along the batch dimension. With `pad` (a graph
 * that takes exactly `size` rows per run) the last chunk is padded and the padding's results
 * dropped; without, the last chunk is just shorter.
 *
 * @template {{ dims: number[], data: any }} O
 * @param {PackedInput[]} inputs
 * @param {number} size
 * @param {(chunk: PackedInput[]) => Promise<Record<string, O>>} runChunk
 * @param {boolean} [pad]
 * @returns {Promise<Record<string, O>>}
 */
export async function runInChunks(inputs, size, runChunk, pad = true) {
  const n = /** @type {number} */ (inputs[0]?.dims[0] ?? 0);
  if (n === size || (!pad && n < size)) return runChunk(inputs);
  /** @type {Record<string, { dims: number[], parts: any[], rows: number }>} */
  const joined = {};
  for (let from = 0; from < n; from += size) {
    const take = Math.min(size, n - from);
    const out = await runChunk(inputs.map((input) => chunkOf(input, from, pad ? size : take)));
    for (const [name, tensor] of Object.entries(out)) {
      const per = tensor.dims[0] ? tensor.data.length / tensor.dims[0] : tensor.data.length;
      const part = Array.isArray(tensor.data)
        ? tensor.data.slice(0, take * per)
        : tensor.data.subarray(0, take * per);
      const entry = (joined[name] ??= { dims: tensor.dims, parts: [], rows: 0 });
      entry.parts.push(part);
      entry.rows += take;
    }
  }
  /** @type {Record<string, any>} */
  const result = {};
  for (const [name, { dims, parts, rows }] of Object.entries(joined)) {
    const length = parts.reduce((a, p) => a + p.length, 0);
    const first = parts[0];
    const data = Array.isArray(first) ? [] : new first.constructor(length);
    let offset = 0;
    for (const p of parts) {
      if (Array.isArray(data)) data.push(...p);
      else data.set(p, offset);
      offset += p.length;
    }
    result[name] = { dims: [rows, ...dims.slice(1)], data };
  }
  return result;
}
