/**
 * The Open Inference Protocol's binary tensor data extension (Triton's `binary_tensor_data`), as
 * pure functions; the V2 routes do the HTTP part.
 *
 * A body is a JSON header of `Inference-Header-Content-Length` bytes followed by the raw bytes of
 * the tensors that carry `parameters.binary_data_size`, in the order they are listed. Raw bytes are
 * little-endian, row-major, without padding: BOOL is one byte (0 or 1), FP16 two, and each BYTES
 * element is a 4-byte little-endian length followed by that many bytes (tritonclient's
 * `serialize_byte_tensor`). A client asks for binary outputs with the request parameter
 * `binary_data_output: true` (all outputs) or an output's `binary_data: true`; the response then
 * carries `parameters.binary_data_size` in place of `data` on those outputs.
 */
import { isUtf8 } from 'node:buffer';
import { HttpError, ValidationError } from '../errors.js';

type Parameters = Record<string, unknown>;

/** A tensor's data decoded from the binary section. */
export type BinaryTensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

type NumericArray = Exclude<BinaryTensorData, string[]>;
interface NumericKind {
  readonly size: number;
  readonly of: (buffer: ArrayBuffer, byteOffset: number, length: number) => NumericArray;
  readonly alloc: (length: number) => NumericArray;
  readonly is: (data: unknown) => boolean;
}
function kind<T extends NumericArray>(ctor: {
  readonly BYTES_PER_ELEMENT: number;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  new (length: number): T;
}): NumericKind {
  return {
    size: ctor.BYTES_PER_ELEMENT,
    of: (buffer, byteOffset, length) => new ctor(buffer, byteOffset, length),
    alloc: (length) => new ctor(length),
    is: (data) => data instanceof ctor,
  };
}

/** How each fixed-size datatype is laid out (FP16 travels as Uint16 bit patterns). */
const numericKinds: Readonly<Record<string, NumericKind>> = {
  BOOL: kind(Uint8Array),
  UINT8: kind(Uint8Array),
  UINT16: kind(Uint16Array),
  UINT32: kind(Uint32Array),
  UINT64: kind(BigUint64Array),
  INT8: kind(Int8Array),
  INT16: kind(Int16Array),
  INT32: kind(Int32Array),
  INT64: kind(BigInt64Array),
  FP16: kind(Uint16Array),
  FP32: kind(Float32Array),
  FP64: kind(Float64Array),
};

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes -> typed array of `kind`: a view when aligned (and the platform is little-endian), else a copy. */
function typedArrayOf(bytes: Buffer, k: NumericKind): NumericArray {
  const length = bytes.length / k.size;
  if (littleEndian && bytes.byteOffset % k.size === 0)
    return k.of(bytes.buffer as ArrayBuffer, bytes.byteOffset, length);
  const copy = k.alloc(length);
  const raw = Buffer.from(copy.buffer, copy.byteOffset, copy.byteLength);
  bytes.copy(raw);
  if (!littleEndian) swapBytes(raw, k.size);
  return copy;
}

function swapBytes(raw: Buffer, size: number): void {
  if (size === 2) raw.swap16();
  else if (size === 4) raw.swap32();
  else if (size === 8) raw.swap64();
}

/**
 * The little-endian bytes of a typed array: a view of its memory (the caller copies it into the
 * body), or on a big-endian platform a byte-swapped copy.
 */
function bytesOf(data: NumericArray): Buffer {
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (littleEndian) return raw;
  const copy = Buffer.from(raw);
  swapBytes(copy, data.BYTES_PER_ELEMENT);
  return copy;
}

// ---------------------------------------------------------------------------------------------
// FP16

let halfTable: Float32Array | undefined;

/** float32 value of every half-precision bit pattern (built once, 256 KB). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const fraction = h & 0x3ff;
    table[h] =
      exponent === 0
        ? sign * fraction * 2 ** -24
        : exponent === 0x1f
          ? fraction === 0
            ? sign * Infinity
            : NaN
          : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  halfTable = table;
  return table;
}

/** Half-precision bits -> float32 values. */
export function halfToFloat(bits: Uint16Array): Float32Array {
  const table = halfToFloatTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * A number -> half-precision bits, rounding to nearest even. Rounding through float32 first is
 * exact here (float32 carries more than 2 * 11 + 2 significand bits, so no double-rounding error).
 */
export function floatToHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let fraction = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (fraction === 0 ? 0 : 0x200);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): value = m * 2^-24.
    if (e < -10) return sign;
    fraction |= 0x800000;
    const shift = 14 - e;
    let half = fraction >>> shift;
    const rest = fraction & ((1 << shift) - 1);
    const middle = 1 << (shift - 1);
    if (rest > middle || (rest === middle && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (fraction >>> 13);
  const rest = fraction & 0x1fff;
  // A carry out of the fraction bumps the exponent, up to infinity: both correct.
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * Splits a binary-extension body into its JSON header and the binary section after it.
 * `headerLength` is the `Inference-Header-Content-Length` header as a number.
 */
export function splitBinaryBody(
  body: Buffer,
  headerLength: number,
): { header: unknown; binary: Buffer } {
  if (!Number.isSafeInteger(headerLength) || headerLength < 0)
    throw new HttpError(
      400,
      `Inference-Header-Content-Length must be a whole number of bytes, got ${String(headerLength)}`,
    );
  if (headerLength > body.length)
    throw new HttpError(
      400,
      `Inference-Header-Content-Length is ${headerLength} but the body has only ${body.length} bytes`,
    );
  let header: unknown;
  try {
    header = JSON.parse(body.toString('utf8', 0, headerLength), refusePoisoning);
  } catch (error) {
    throw new HttpError(
      400,
      `the first ${headerLength} bytes of the body (Inference-Header-Content-Length) are not JSON: ${(error as Error).message}`,
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new HttpError(
      400,
      `the first ${headerLength} bytes of the body (Inference-Header-Content-Length) must be a JSON object`,
    );
  return { header, binary: body.subarray(headerLength) };
}

/** The header bypasses Fastify's JSON parser, so refuse prototype poisoning the way it does. */
function refusePoisoning(key: string, value: unknown): unknown {
  if (
    key === '__proto__' ||
    (key === 'constructor' &&
      typeof value === 'object' &&
      value !== null &&
      Object.hasOwn(value, 'prototype'))
  )
    throw new SyntaxError(`the key "${key}" is not allowed`);
  return value;
}

/** An input tensor of a V2 request header. */
export interface BinaryInputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly parameters?: Parameters;
  readonly data?: unknown;
}

export type WithBinaryData<T extends BinaryInputTensor> = Omit<T, 'data'> & {
  readonly data?: T['data'] | BinaryTensorData;
};

/**
 * The header's inputs with the binary section decoded into `data` for every input that carries
 * `parameters.binary_data_size` (that parameter removed). Numeric data becomes a typed array (a view
 * of `binary` when aligned), FP16 a Float32Array, BOOL a Uint8Array of 0/1, BYTES UTF-8 strings.
 * Throws a 400 naming the input when a size disagrees with the datatype or shape, or the binary
 * section holds more or fewer bytes than the inputs declare.
 */
export function attachBinaryInputs<T extends BinaryInputTensor>(
  header: { readonly inputs: readonly T[] },
  binary: Buffer,
): WithBinaryData<T>[] {
  let offset = 0;
  const inputs = header.inputs.map((input): WithBinaryData<T> => {
    const parameters = input.parameters;
    if (parameters === undefined || !Object.hasOwn(parameters, 'binary_data_size')) return input;
    const field = `inputs.${input.name}`;
    const fail = (message: string): never => {
      throw new ValidationError([{ field, message }]);
    };
    const size = parameters.binary_data_size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      fail(
        `parameters.binary_data_size must be a whole number of bytes, got ${JSON.stringify(size)}`,
      );
    const byteSize = size as number;
    if (input.data !== undefined)
      fail('has both data and parameters.binary_data_size; send the tensor one way');
    const count = elementCount(input.shape, fail);
    if (offset + byteSize > binary.length)
      fail(
        `parameters.binary_data_size is ${byteSize} but only ${binary.length - offset} bytes of binary data remain after the inputs before it`,
      );
    const bytes = binary.subarray(offset, offset + byteSize);
    offset += byteSize;

    let data: BinaryTensorData;
    if (input.datatype === 'BYTES') data = decodeBytes(bytes, count, input.shape, fail);
    else {
      const k = numericKinds[input.datatype];
      if (!k) return fail(`datatype ${input.datatype} cannot be sent as binary data`);
      if (byteSize % k.size !== 0)
        fail(
          `parameters.binary_data_size ${byteSize} is not a multiple of the ${k.size}-byte ${input.datatype} element`,
        );
      if (byteSize / k.size !== count)
        fail(
          `shape [${input.shape.join(', ')}] holds ${count} ${input.datatype} elements (${count * k.size} bytes) but parameters.binary_data_size is ${byteSize} (${byteSize / k.size} elements)`,
        );
      const typed = typedArrayOf(bytes, k);
      data = input.datatype === 'FP16' ? halfToFloat(typed as Uint16Array) : typed;
    }
    const { binary_data_size: _size, ...rest } = parameters;
    const { parameters: _parameters, data: _data, ...tensor } = input;
    return {
      ...tensor,
      ...(Object.keys(rest).length > 0 ? { parameters: rest } : {}),
      data,
    } as unknown as WithBinaryData<T>;
  });
  if (offset !== binary.length)
    throw new ValidationError([
      {
        field: 'inputs',
        message: `the binary data holds ${binary.length} bytes but the inputs' parameters.binary_data_size add up to ${offset}`,
      },
    ]);
  return inputs;
}

function elementCount(shape: readonly number[], fail: (message: string) => never): number {
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      fail(`shape [${shape.join(', ')}] must hold whole, non-negative dimensions`);
    count *= d;
  }
  if (!Number.isSafeInteger(count)) fail(`shape [${shape.join(', ')}] holds too many elements`);
  return count;
}

/** BYTES: 4-byte little-endian length, then that many bytes, per element; elements as UTF-8 text. */
function decodeBytes(
  bytes: Buffer,
  count: number,
  shape: readonly number[],
  fail: (message: string) => never,
): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    const i = out.length;
    if (i === count)
      fail(
        `shape [${shape.join(', ')}] holds ${count} BYTES elements but parameters.binary_data_size leaves ${bytes.length - at} bytes after them`,
      );
    if (at + 4 > bytes.length)
      fail(
        `BYTES element ${i} is cut off inside its 4-byte length prefix (binary_data_size too small?)`,
      );
    const length = bytes.readUInt32LE(at);
    at += 4;
    if (at + length > bytes.length)
      fail(
        `BYTES element ${i} declares ${length} bytes but only ${bytes.length - at} remain in its binary_data_size`,
      );
    const element = bytes.subarray(at, at + length);
    if (!isUtf8(element)) fail(`BYTES element ${i} is not valid UTF-8 text`);
    out.push(element.toString('utf8'));
    at += length;
  }
  if (out.length !== count)
    fail(
      `shape [${shape.join(', ')}] holds ${count} BYTES elements but the binary data has ${out.length}`,
    );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Responses

/** Which outputs the client wants as binary data: every one, or the named ones. */
export function wantsBinaryOutputs(request: {
  readonly parameters?: Parameters;
  readonly outputs?: ReadonlyArray<{ readonly name: string; readonly parameters?: Parameters }>;
}): ReadonlySet<string> | 'all' {
  const all = flag(request.parameters, 'binary_data_output', 'parameters.binary_data_output');
  if (request.outputs === undefined) return all ? 'all' : new Set();
  const names = new Set<string>();
  for (const o of request.outputs) {
    // An output's own binary_data overrides the request's binary_data_output.
    const own = flag(o.parameters, 'binary_data', `outputs.${o.name}.parameters.binary_data`);
    if (own ?? all) names.add(o.name);
  }
  return names;
}

function flag(parameters: Parameters | undefined, key: string, field: string): boolean | undefined {
  const value = parameters?.[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new ValidationError([
    { field, message: `must be true or false, got ${JSON.stringify(value)}` },
  ]);
}

/** An output tensor of a V2 response. */
export interface OutputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly parameters?: Parameters;
  readonly data: ArrayLike<number | bigint | string | boolean>;
}

/**
 * The response as a binary-extension body: the JSON header (outputs in `binaryOutputs` carry
 * `parameters.binary_data_size` instead of `data`) followed by those outputs' raw bytes, in order.
 * `headerLength` goes into the response's Inference-Header-Content-Length header. A typed array of
 * the datatype's own kind is copied as it is (for FP16: a Uint16Array holds half-precision bits).
 */
export function encodeBinaryOutputs(
  response: { readonly outputs: readonly OutputTensor[] },
  binaryOutputs: ReadonlySet<string> | 'all',
): { body: Buffer; headerLength: number } {
  const sections: Buffer[] = [];
  const outputs = response.outputs.map((o) => {
    if (binaryOutputs !== 'all' && !binaryOutputs.has(o.name))
      return { ...o, data: ArrayBuffer.isView(o.data) ? jsonValues(o.data) : o.data };
    const bytes = encodeTensor(o);
    sections.push(bytes);
    const { data: _data, ...rest } = o;
    return { ...rest, parameters: { ...o.parameters, binary_data_size: bytes.length } };
  });
  const header = Buffer.from(JSON.stringify({ ...response, outputs }), 'utf8');
  // The one copy of each output's bytes: into the body.
  return { body: Buffer.concat([header, ...sections]), headerLength: header.length };
}

/** Typed-array data left in the JSON part: a plain array (bigints as numbers). */
function jsonValues(data: ArrayLike<number | bigint | string | boolean>): unknown[] {
  return Array.from(data, (v) => (typeof v === 'bigint' ? Number(v) : v));
}

/** One output tensor's raw bytes (the binary extension's layout; also gRPC raw_output_contents). */
export function encodeTensor(o: OutputTensor): Buffer {
  const { data, datatype } = o;
  if (datatype === 'BYTES') return encodeBytes(data);
  const k = numericKinds[datatype];
  if (!k) throw new Error(`output ${o.name}: datatype ${datatype} has no binary encoding`);
  if (k.is(data)) return bytesOf(data as unknown as NumericArray);
  const out = k.alloc(data.length);
  if (datatype === 'FP16') {
    const bits = out as Uint16Array;
    for (let i = 0; i < data.length; i++) bits[i] = floatToHalfBits(Number(data[i]));
  } else if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      out[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
    }
  } else if (datatype === 'BOOL') {
    const bools = out as Uint8Array;
    for (let i = 0; i < data.length; i++) bools[i] = data[i] ? 1 : 0;
  } else if (
    ArrayBuffer.isView(data) &&
    !(data instanceof BigInt64Array || data instanceof BigUint64Array)
  ) {
    // Another numeric typed array: converted natively.
    (out as Float64Array).set(data as unknown as Float64Array);
  } else {
    const numbers = out as Float64Array;
    for (let i = 0; i < data.length; i++) numbers[i] = Number(data[i]);
  }
  return bytesOf(out);
}

function encodeBytes(data: ArrayLike<number | bigint | string | boolean>): Buffer {
  const strings = Array.from(data, String);
  let total = 4 * strings.length;
  const lengths = strings.map((s) => Buffer.byteLength(s, 'utf8'));
  for (const n of lengths) total += n;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < strings.length; i++) {
    out.writeUInt32LE(lengths[i]!, at);
    at += 4;
    at += out.write(strings[i]!, at, 'utf8');
  }
  return out;
}
