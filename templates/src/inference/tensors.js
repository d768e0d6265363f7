// @ts-check
/**
 * Rows <-> tensor data, shared by the main thread (which packs batches before handing them to a
 * worker) and the workers (which pack explanation coalitions). Plain JavaScript so the inference
 * worker runs as it is, with or without a build step.
 */

/**
 * @typedef {{ name: string, type: string, shape: ReadonlyArray<number | string> }} InputSpec
 * @typedef {{ name: string, input: string, column: number, tensorType: string, type: string }} FeatureSpec
 * @typedef {Float32Array | Float64Array | Int32Array | BigInt64Array | string[]} TensorData
 * @typedef {{ name: string, type: string, dims: number[], data: TensorData }} PackedInput
 * @typedef {Record<string, number | string | null | undefined>} Row
 */

/** Columns of an input: 1 for `[N]` and `[N, 1]`, K for `[N, K]`. */
export function widthOf(/** @type {InputSpec} */ input) {
  const last = input.shape.length === 2 ? input.shape[1] : 1;
  return typeof last === 'number' ? last : 1;
}

/**
 * @param {string} type
 * @param {number} size
 * @returns {TensorData}
 */
function allocate(type, size) {
  switch (type) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'int64':
      return new BigInt64Array(size);
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
      data: allocate(input.type, n * width),
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
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array) return data.slice();
  if (ArrayBuffer.isView(data)) return Array.from(/** @type {ArrayLike<number>} */ (/** @type {unknown} */ (data)));
  if (Array.isArray(data)) return data.map(String);
  throw new Error('unsupported output tensor data');
}
