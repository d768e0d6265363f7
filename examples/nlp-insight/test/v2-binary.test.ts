/**
 * The binary tensor data extension (Triton's `binary_tensor_data`, docs/protocol/
 * extension_binary_data.md): bodies as tritonclient's HTTP client builds them (a JSON header of
 * Inference-Header-Content-Length bytes, then each binary input's little-endian row-major bytes,
 * BYTES elements as a 4-byte little-endian length and the bytes) decode to the tensors the client
 * meant; binary responses parse the way tritonclient's InferResult reads them; every malformed body
 * is a 400 that says what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { HttpError } from '../src/errors.js';
import {
  attachBinaryInputs,
  encodeBinaryOutputs,
  splitBinaryBody,
  wantsBinaryOutputs,
} from '../src/inference/v2-binary.js';

interface Input {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, string | number | boolean>;
  data?: unknown;
}

/** A request body as tritonclient.http builds it: compact JSON header, then the raw tensors. */
function tritonBody(inputs: Array<Input & { raw?: Buffer }>, extra: object = {}) {
  const header = JSON.stringify({
    inputs: inputs.map(({ raw, ...input }) =>
      raw === undefined
        ? input
        : { ...input, parameters: { ...input.parameters, binary_data_size: raw.length } },
    ),
    ...extra,
  });
  const raws = inputs.flatMap((i) => (i.raw ? [i.raw] : []));
  return {
    body: Buffer.concat([Buffer.from(header), ...raws]),
    headerLength: Buffer.byteLength(header),
  };
}

function decode(inputs: Array<Input & { raw?: Buffer }>) {
  const { body, headerLength } = tritonBody(inputs);
  const { header, binary } = splitBinaryBody(body, headerLength);
  return attachBinaryInputs(header as { inputs: Input[] }, binary);
}

/** tritonclient's serialize_byte_tensor: per element, a uint32 LE length and the bytes. */
function serializeBytes(values: string[]): Buffer {
  return Buffer.concat(
    values.flatMap((v) => {
      const bytes = Buffer.from(v, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

/** How tritonclient's InferResult reads a binary response: offsets accumulate in output order. */
function readResponse(body: Buffer, headerLength: number) {
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
  const buffer = body.subarray(headerLength);
  const sections: Record<string, Buffer> = {};
  let at = 0;
  for (const o of header.outputs) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    sections[o.name] = buffer.subarray(at, at + size);
    at += size;
  }
  expect(at).toBe(buffer.length);
  return { header, sections };
}

function error400(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).statusCode).toBe(400);
    return error as HttpError;
  }
  throw new Error('expected a 400, nothing was thrown');
}

describe('the exact bytes tritonclient sends', () => {
  // The specification's example (UINT32 [2, 2], BOOL [3]) plus BYTES, FP16 and INT64, written out
  // byte by byte from the specification rather than produced by this module.
  const header =
    '{"inputs":[' +
    '{"name":"input0","shape":[2,2],"datatype":"UINT32","parameters":{"binary_data_size":16}},' +
    '{"name":"input1","shape":[3],"datatype":"BOOL","parameters":{"binary_data_size":3}},' +
    '{"name":"input2","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":14}},' +
    '{"name":"input3","shape":[2],"datatype":"FP16","parameters":{"binary_data_size":4}},' +
    '{"name":"input4","shape":[1],"datatype":"INT64","parameters":{"binary_data_size":8}}' +
    '],"outputs":[{"name":"output0","parameters":{"binary_data":true}}]}';
  const binary = Buffer.from([
    // input0: 1, 2, 3, 0xdeadbeef as little-endian uint32
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde,
    // input1: true, false, true
    0x01, 0x00, 0x01,
    // input2: "hi" (length 2: 68 69), "hé!" (length 4: 68 c3 a9 21)
    0x02, 0x00, 0x00, 0x00, 0x68, 0x69, 0x04, 0x00, 0x00, 0x00, 0x68, 0xc3, 0xa9, 0x21,
    // input3: 1.0 (0x3c00), -2.0 (0xc000) as little-endian half floats
    0x00, 0x3c, 0x00, 0xc0,
    // input4: 2^53 + 1 as little-endian int64
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00,
  ]);
  const body = Buffer.concat([Buffer.from(header), binary]);

  it('decodes to the tensors the client meant', () => {
    const split = splitBinaryBody(body, header.length);
    expect(split.binary.length).toBe(16 + 3 + 14 + 4 + 8);
    const inputs = attachBinaryInputs(split.header as { inputs: Input[] }, split.binary);
    expect(inputs.map((i) => i.name)).toEqual(['input0', 'input1', 'input2', 'input3', 'input4']);
    expect(inputs[0]!.data).toEqual(new Uint32Array([1, 2, 3, 0xdeadbeef]));
    expect(inputs[1]!.data).toEqual(new Uint8Array([1, 0, 1]));
    expect(inputs[2]!.data).toEqual(['hi', 'hé!']);
    expect(inputs[3]!.data).toEqual(new Float32Array([1, -2]));
    expect(inputs[4]!.data).toEqual(new BigInt64Array([2n ** 53n + 1n]));
    // binary_data_size is consumed; the header's other fields stay.
    for (const input of inputs) expect(input.parameters).toBeUndefined();
    expect(inputs[0]).toMatchObject({ datatype: 'UINT32', shape: [2, 2] });
    expect(wantsBinaryOutputs(split.header as never)).toEqual(new Set(['output0']));
  });

  it('is what this module would itself write for those tensors', () => {
    const { body: written } = encodeBinaryOutputs(
      {
        outputs: [
          { name: 'input0', datatype: 'UINT32', shape: [2, 2], data: [1, 2, 3, 0xdeadbeef] },
          { name: 'input1', datatype: 'BOOL', shape: [3], data: [true, false, true] },
          { name: 'input2', datatype: 'BYTES', shape: [2], data: ['hi', 'hé!'] },
          { name: 'input3', datatype: 'FP16', shape: [2], data: [1, -2] },
          { name: 'input4', datatype: 'INT64', shape: [1], data: [2n ** 53n + 1n] },
        ],
      },
      'all',
    );
    expect(written.subarray(written.length - binary.length)).toEqual(binary);
  });
});

describe('the exact bytes of a binary response', () => {
  it('matches the specification example: FP32 [3, 2] as 24 bytes after the header', () => {
    const { body, headerLength } = encodeBinaryOutputs(
      {
        model_name: 'mymodel',
        outputs: [
          { name: 'output0', datatype: 'FP32', shape: [3, 2], data: [1, -2, 0.5, 0, 3, 4] },
        ],
      } as never,
      new Set(['output0']),
    );
    const header = JSON.parse(body.subarray(0, headerLength).toString('utf8'));
    expect(header).toEqual({
      model_name: 'mymodel',
      outputs: [
        {
          name: 'output0',
          datatype: 'FP32',
          shape: [3, 2],
          parameters: { binary_data_size: 24 },
        },
      ],
    });
    expect(body.length).toBe(headerLength + 24);
    expect(body.subarray(headerLength, headerLength + 8)).toEqual(
      Buffer.from([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]), // 1.0, -2.0
    );
  });

  it('keeps JSON outputs as JSON, binary ones in output order, other parameters kept', () => {
    const { body, headerLength } = encodeBinaryOutputs(
      {
        outputs: [
          { name: 'a', datatype: 'INT32', shape: [2], data: [7, -1] },
          { name: 'label', datatype: 'BYTES', shape: [1], data: ['yes'] },
          {
            name: 'p',
            datatype: 'FP64',
            shape: [2],
            parameters: { note: 'x' },
            data: new Float64Array([0.25, 0.75]),
          },
          { name: 'json', datatype: 'FP32', shape: [2], data: new Float32Array([0.5, 1.5]) },
        ],
      },
      new Set(['p', 'a', 'label']),
    );
    const { header, sections } = readResponse(body, headerLength);
    expect(header.outputs.map((o: { name: string }) => o.name)).toEqual([
      'a',
      'label',
      'p',
      'json',
    ]);
    expect(header.outputs[2].parameters).toEqual({ note: 'x', binary_data_size: 16 });
    expect(header.outputs[2].data).toBeUndefined();
    expect(header.outputs[3]).toEqual({
      name: 'json',
      datatype: 'FP32',
      shape: [2],
      data: [0.5, 1.5],
    });
    expect(sections.a).toEqual(Buffer.from([7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]));
    expect(sections.label).toEqual(Buffer.from([3, 0, 0, 0, 0x79, 0x65, 0x73]));
    expect(sections.p!.readDoubleLE(0)).toBe(0.25);
    expect(sections.p!.readDoubleLE(8)).toBe(0.75);
  });

  it('counts the header length in bytes, not characters', () => {
    const { body, headerLength } = encodeBinaryOutputs(
      {
        model_name: 'modèle-日本',
        outputs: [{ name: 'y', datatype: 'UINT8', shape: [1], data: [9] }],
      } as never,
      'all',
    );
    expect(body.length).toBe(headerLength + 1);
    expect(body[headerLength]).toBe(9);
    expect(JSON.parse(body.subarray(0, headerLength).toString('utf8')).model_name).toBe(
      'modèle-日本',
    );
  });
});

describe('round trips, response bytes read back as request bytes', () => {
  const cases: Array<{
    datatype: string;
    data: ArrayLike<number | bigint | string | boolean>;
    expected: unknown;
  }> = [
    { datatype: 'BOOL', data: [true, false, false, true], expected: new Uint8Array([1, 0, 0, 1]) },
    { datatype: 'UINT8', data: [0, 1, 128, 255], expected: new Uint8Array([0, 1, 128, 255]) },
    { datatype: 'UINT16', data: [0, 1, 65535, 300], expected: new Uint16Array([0, 1, 65535, 300]) },
    {
      datatype: 'UINT32',
      data: [0, 1, 2 ** 32 - 1, 70000],
      expected: new Uint32Array([0, 1, 2 ** 32 - 1, 70000]),
    },
    {
      datatype: 'UINT64',
      data: [0n, 1n, 2n ** 64n - 1n, 2n ** 53n + 1n],
      expected: new BigUint64Array([0n, 1n, 2n ** 64n - 1n, 2n ** 53n + 1n]),
    },
    { datatype: 'INT8', data: [-128, -1, 0, 127], expected: new Int8Array([-128, -1, 0, 127]) },
    {
      datatype: 'INT16',
      data: [-32768, -1, 0, 32767],
      expected: new Int16Array([-32768, -1, 0, 32767]),
    },
    {
      datatype: 'INT32',
      data: [-(2 ** 31), -1, 0, 2 ** 31 - 1],
      expected: new Int32Array([-(2 ** 31), -1, 0, 2 ** 31 - 1]),
    },
    {
      datatype: 'INT64',
      data: [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 3n],
      expected: new BigInt64Array([
        -(2n ** 63n),
        2n ** 63n - 1n,
        2n ** 53n + 1n,
        -(2n ** 53n) - 3n,
      ]),
    },
    {
      datatype: 'FP16',
      data: [1, -2, 0.5, 65504],
      expected: new Float32Array([1, -2, 0.5, 65504]),
    },
    {
      datatype: 'FP32',
      data: [Math.fround(0.1), -3.5, 1e30, -0],
      expected: new Float32Array([0.1, -3.5, 1e30, -0]),
    },
    {
      datatype: 'FP64',
      data: [0.1, -Number.MAX_VALUE, Number.MIN_VALUE, Math.PI],
      expected: new Float64Array([0.1, -Number.MAX_VALUE, Number.MIN_VALUE, Math.PI]),
    },
    {
      datatype: 'BYTES',
      data: ['', 'héllo', '日本語', '🙂', ''],
      expected: ['', 'héllo', '日本語', '🙂', ''],
    },
  ];

  for (const { datatype, data, expected } of cases) {
    it(`${datatype}`, () => {
      const shape = [data.length];
      const { body, headerLength } = encodeBinaryOutputs(
        { outputs: [{ name: 't', datatype, shape, data }] },
        'all',
      );
      const { header, binary } = splitBinaryBody(body, headerLength);
      const inputs = attachBinaryInputs(
        { inputs: (header as { outputs: Input[] }).outputs },
        binary,
      );
      expect(inputs[0]!.data).toEqual(expected);
      expect(inputs[0]).toMatchObject({ name: 't', datatype, shape });
    });
  }

  it('typed-array output data of the datatype own kind is written as it is', () => {
    const values = new BigInt64Array([2n ** 62n + 7n, -5n]);
    const { body, headerLength } = encodeBinaryOutputs(
      { outputs: [{ name: 'ids', datatype: 'INT64', shape: [2], data: values }] },
      'all',
    );
    const { sections } = readResponse(body, headerLength);
    expect(sections.ids!.readBigInt64LE(0)).toBe(2n ** 62n + 7n);
    expect(sections.ids!.readBigInt64LE(8)).toBe(-5n);
  });

  it('an empty tensor is zero bytes', () => {
    const inputs = decode([
      { name: 'e', datatype: 'FP32', shape: [0, 3], raw: Buffer.alloc(0) },
      { name: 's', datatype: 'BYTES', shape: [0], raw: Buffer.alloc(0) },
    ]);
    expect(inputs[0]!.data).toEqual(new Float32Array(0));
    expect(inputs[1]!.data).toEqual([]);
  });
});

describe('FP16', () => {
  const half = (bits: number[]) => {
    const raw = Buffer.alloc(bits.length * 2);
    bits.forEach((b, i) => raw.writeUInt16LE(b, i * 2));
    return raw;
  };
  const decodeHalf = (bits: number[]) =>
    Array.from(
      decode([{ name: 'h', datatype: 'FP16', shape: [bits.length], raw: half(bits) }])[0]!
        .data as Float32Array,
    );
  const encodeHalf = (values: number[]) => {
    const { body, headerLength } = encodeBinaryOutputs(
      { outputs: [{ name: 'h', datatype: 'FP16', shape: [values.length], data: values }] },
      'all',
    );
    const raw = body.subarray(headerLength);
    return values.map((_, i) => raw.readUInt16LE(i * 2));
  };

  it('decodes known bit patterns', () => {
    expect(
      decodeHalf([0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x3555, 0x0000, 0x8000, 0x7c00, 0xfc00]),
    ).toEqual([
      1,
      -2,
      65504,
      2 ** -14,
      2 ** -24,
      Math.fround(0.333251953125),
      0,
      -0,
      Infinity,
      -Infinity,
    ]);
    expect(decodeHalf([0x7e00])[0]).toBeNaN();
  });

  it('encodes with round-to-nearest-even, overflow to infinity, underflow to zero', () => {
    expect(
      encodeHalf([
        1,
        -2,
        65504,
        1 / 3,
        2 ** -24,
        2 ** -14,
        1 + 2 ** -11, // halfway between 0x3c00 and 0x3c01: to even 0x3c00
        1 + 3 * 2 ** -11, // halfway between 0x3c01 and 0x3c02: to even 0x3c02
        65519, // below the halfway point to 65536
        65520, // halfway: rounds to even, which is infinity
        1e9,
        -1e9,
        2 ** -25, // halfway between 0 and the smallest subnormal: to even 0
        2 ** -25 * 1.5, // above halfway: the smallest subnormal
        -0,
        Infinity,
      ]),
    ).toEqual([
      0x3c00, 0xc000, 0x7bff, 0x3555, 0x0001, 0x0400, 0x3c00, 0x3c02, 0x7bff, 0x7c00, 0x7c00,
      0xfc00, 0x0000, 0x0001, 0x8000, 0x7c00,
    ]);
    expect(encodeHalf([NaN])[0]! & 0x7c00).toBe(0x7c00);
    expect(encodeHalf([NaN])[0]! & 0x3ff).not.toBe(0);
  });
});

describe('alignment', () => {
  it('decodes multi-byte tensors that start at any offset of the body', () => {
    for (const pad of [0, 1, 2, 3, 5, 7]) {
      const f32 = Buffer.alloc(8);
      f32.writeFloatLE(1.5, 0);
      f32.writeFloatLE(-0.25, 4);
      const f64 = Buffer.alloc(8);
      f64.writeDoubleLE(Math.E, 0);
      const i64 = Buffer.alloc(8);
      i64.writeBigInt64LE(-(2n ** 60n), 0);
      const inputs = decode([
        { name: 'pad', datatype: 'UINT8', shape: [pad], raw: Buffer.alloc(pad, 0xaa) },
        { name: 'f32', datatype: 'FP32', shape: [2], raw: f32 },
        { name: 'f64', datatype: 'FP64', shape: [1], raw: f64 },
        { name: 'i64', datatype: 'INT64', shape: [1], raw: i64 },
      ]);
      expect(inputs[1]!.data).toEqual(new Float32Array([1.5, -0.25]));
      expect(inputs[2]!.data).toEqual(new Float64Array([Math.E]));
      expect(inputs[3]!.data).toEqual(new BigInt64Array([-(2n ** 60n)]));
    }
  });

  it('decodes a 3x224x224 FP32 image', () => {
    const n = 3 * 224 * 224;
    const image = new Float32Array(n);
    for (let i = 0; i < n; i++) image[i] = (i % 251) / 250;
    const raw = Buffer.from(image.buffer);
    const [input] = decode([{ name: 'image', datatype: 'FP32', shape: [1, 3, 224, 224], raw }]);
    const data = input!.data as Float32Array;
    expect(data).toBeInstanceOf(Float32Array);
    expect(Buffer.from(data.buffer, data.byteOffset, data.byteLength).equals(raw)).toBe(true);
  });
});

describe('inputs that keep their JSON data', () => {
  it('pass through untouched, alongside binary ones, with other parameters kept', () => {
    const raw = Buffer.alloc(4);
    raw.writeFloatLE(2.5);
    const inputs = decode([
      { name: 'json', datatype: 'INT64', shape: [2], data: [1, 2] },
      { name: 'bin', datatype: 'FP32', shape: [1], parameters: { content_type: 'np' }, raw },
    ]);
    expect(inputs[0]).toEqual({ name: 'json', datatype: 'INT64', shape: [2], data: [1, 2] });
    expect(inputs[1]).toEqual({
      name: 'bin',
      datatype: 'FP32',
      shape: [1],
      parameters: { content_type: 'np' },
      data: new Float32Array([2.5]),
    });
  });
});

describe('splitBinaryBody refuses', () => {
  const body = Buffer.from('{"inputs":[]}\x01\x02');

  it('splits a good body', () => {
    expect(splitBinaryBody(body, 13)).toEqual({
      header: { inputs: [] },
      binary: Buffer.from([1, 2]),
    });
  });

  it.each([NaN, 1.5, -1, Infinity])('a header length of %s', (length) => {
    expect(error400(() => splitBinaryBody(body, length)).message).toMatch(
      /Inference-Header-Content-Length must be a whole number of bytes/,
    );
  });

  it('a header length past the end of the body', () => {
    expect(error400(() => splitBinaryBody(body, 16)).message).toMatch(
      /Inference-Header-Content-Length is 16 but the body has only 15 bytes/,
    );
  });

  it('a header that is not JSON', () => {
    expect(error400(() => splitBinaryBody(body, 12)).message).toMatch(
      /first 12 bytes .* are not JSON/,
    );
    expect(error400(() => splitBinaryBody(body, 0)).message).toMatch(/are not JSON/);
  });

  it('a header that is JSON but not an object', () => {
    expect(error400(() => splitBinaryBody(Buffer.from('[1]'), 3)).message).toMatch(
      /must be a JSON object/,
    );
  });

  it('a header that poisons prototypes', () => {
    const poisoned = '{"inputs":[],"__proto__":{"admin":true}}';
    expect(error400(() => splitBinaryBody(Buffer.from(poisoned), poisoned.length)).message).toMatch(
      /__proto__/,
    );
  });
});

describe('attachBinaryInputs refuses, naming the input', () => {
  const f32 = (n: number) => Buffer.alloc(4 * n);

  it('a size that is not a multiple of the element size', () => {
    const e = error400(() =>
      decode([{ name: 'x', datatype: 'FP32', shape: [2], raw: Buffer.alloc(7) }]),
    );
    expect(e.message).toMatch(
      /inputs\.x: parameters\.binary_data_size 7 is not a multiple of the 4-byte FP32 element/,
    );
  });

  it('a size that disagrees with the shape', () => {
    const e = error400(() => decode([{ name: 'x', datatype: 'FP32', shape: [2, 3], raw: f32(5) }]));
    expect(e.message).toMatch(
      /inputs\.x: shape \[2, 3\] holds 6 FP32 elements \(24 bytes\) but parameters\.binary_data_size is 20/,
    );
  });

  it('BYTES with fewer elements than the shape', () => {
    const e = error400(() =>
      decode([{ name: 's', datatype: 'BYTES', shape: [3], raw: serializeBytes(['a', 'b']) }]),
    );
    expect(e.message).toMatch(
      /inputs\.s: shape \[3\] holds 3 BYTES elements but the binary data has 2/,
    );
  });

  it('BYTES with more elements than the shape', () => {
    const e = error400(() =>
      decode([{ name: 's', datatype: 'BYTES', shape: [1], raw: serializeBytes(['a', 'b']) }]),
    );
    expect(e.message).toMatch(
      /inputs\.s: shape \[1\] holds 1 BYTES elements but parameters\.binary_data_size leaves 5 bytes/,
    );
  });

  it('BYTES cut off inside a length prefix', () => {
    const raw = Buffer.concat([serializeBytes(['ab']), Buffer.from([1, 0])]);
    const e = error400(() => decode([{ name: 's', datatype: 'BYTES', shape: [2], raw }]));
    expect(e.message).toMatch(
      /inputs\.s: BYTES element 1 is cut off inside its 4-byte length prefix/,
    );
  });

  it('BYTES whose length runs past its binary_data_size', () => {
    const raw = serializeBytes(['abcdef']).subarray(0, 7);
    const e = error400(() =>
      decode([
        { name: 's', datatype: 'BYTES', shape: [1], raw },
        { name: 'after', datatype: 'UINT8', shape: [3], raw: Buffer.from([1, 2, 3]) },
      ]),
    );
    expect(e.message).toMatch(/inputs\.s: BYTES element 0 declares 6 bytes but only 3 remain/);
  });

  it('BYTES that are not UTF-8', () => {
    const raw = Buffer.from([2, 0, 0, 0, 0xc3, 0x28]);
    const e = error400(() => decode([{ name: 's', datatype: 'BYTES', shape: [1], raw }]));
    expect(e.message).toMatch(/inputs\.s: BYTES element 0 is not valid UTF-8/);
  });

  it('both data and binary_data_size', () => {
    const e = error400(() =>
      decode([{ name: 'x', datatype: 'FP32', shape: [1], data: [1], raw: f32(1) }]),
    );
    expect(e.message).toMatch(/inputs\.x: has both data and parameters\.binary_data_size/);
  });

  it('bytes left over after the last binary input', () => {
    const { body, headerLength } = tritonBody([
      { name: 'x', datatype: 'FP32', shape: [1], raw: f32(1) },
    ]);
    const { header, binary } = splitBinaryBody(
      Buffer.concat([body, Buffer.from([0])]),
      headerLength,
    );
    const e = error400(() => attachBinaryInputs(header as { inputs: Input[] }, binary));
    expect(e.message).toMatch(
      /inputs: the binary data holds 5 bytes but the inputs' parameters\.binary_data_size add up to 4/,
    );
  });

  it('bytes left over when no input is binary', () => {
    const e = error400(() =>
      attachBinaryInputs(
        { inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }] },
        Buffer.from([1]),
      ),
    );
    expect(e.message).toMatch(
      /holds 1 bytes but the inputs' parameters\.binary_data_size add up to 0/,
    );
  });

  it('a binary section that runs short', () => {
    const { body, headerLength } = tritonBody([
      { name: 'x', datatype: 'FP32', shape: [1], raw: f32(1) },
      { name: 'y', datatype: 'FP32', shape: [2], raw: f32(2) },
    ]);
    const { header, binary } = splitBinaryBody(body.subarray(0, body.length - 1), headerLength);
    const e = error400(() => attachBinaryInputs(header as { inputs: Input[] }, binary));
    expect(e.message).toMatch(
      /inputs\.y: parameters\.binary_data_size is 8 but only 7 bytes of binary data remain/,
    );
  });

  it.each([-4, 1.5, '4', true])('a binary_data_size of %j', (size) => {
    const e = error400(() =>
      attachBinaryInputs(
        {
          inputs: [
            { name: 'x', datatype: 'FP32', shape: [1], parameters: { binary_data_size: size } },
          ],
        },
        f32(1),
      ),
    );
    expect(e.message).toMatch(
      /inputs\.x: parameters\.binary_data_size must be a whole number of bytes/,
    );
  });

  it('a datatype with no binary layout', () => {
    const e = error400(() =>
      decode([{ name: 'x', datatype: 'BF16', shape: [1], raw: Buffer.alloc(2) }]),
    );
    expect(e.message).toMatch(/inputs\.x: datatype BF16 cannot be sent as binary data/);
  });
});

describe('wantsBinaryOutputs', () => {
  it('binary_data_output without an outputs list: every output', () => {
    expect(wantsBinaryOutputs({ parameters: { binary_data_output: true } })).toBe('all');
  });

  it('nothing asked: no output', () => {
    expect(wantsBinaryOutputs({})).toEqual(new Set());
    expect(wantsBinaryOutputs({ parameters: { binary_data_output: false } })).toEqual(new Set());
    expect(wantsBinaryOutputs({ outputs: [{ name: 'a' }] })).toEqual(new Set());
  });

  it("an output's binary_data, overriding binary_data_output either way", () => {
    expect(
      wantsBinaryOutputs({
        outputs: [
          { name: 'a', parameters: { binary_data: true } },
          { name: 'b', parameters: { binary_data: false } },
          { name: 'c' },
        ],
      }),
    ).toEqual(new Set(['a']));
    expect(
      wantsBinaryOutputs({
        parameters: { binary_data_output: true },
        outputs: [
          { name: 'a', parameters: { binary_data: true } },
          { name: 'b', parameters: { binary_data: false, classification: 2 } },
          { name: 'c' },
        ],
      }),
    ).toEqual(new Set(['a', 'c']));
  });

  it('refuses flags that are not true or false', () => {
    expect(
      error400(() => wantsBinaryOutputs({ parameters: { binary_data_output: 'true' } })).message,
    ).toMatch(/parameters\.binary_data_output: must be true or false, got "true"/);
    expect(
      error400(() =>
        wantsBinaryOutputs({ outputs: [{ name: 'p', parameters: { binary_data: 1 } }] }),
      ).message,
    ).toMatch(/outputs\.p\.parameters\.binary_data: must be true or false, got 1/);
  });
});
