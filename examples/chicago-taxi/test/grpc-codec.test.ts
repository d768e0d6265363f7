/**
 * The gRPC codec's own refusals (what REST has no equivalent for) and its answers: a tensor's
 * contents in the wrong field, raw and typed data mixed, a raw entry per input; outputs as typed
 * contents (64-bit integers exact, as decimal strings) or as raw little-endian bytes.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { inferRequestOf, inferResponseOf, wantsRawOutputs } from '../src/grpc/codec.js';

const base = { model_name: 'm', model_version: '', id: '' };
const input = (contents: Record<string, unknown[]> | null, datatype = 'FP32') => ({
  name: 'x',
  datatype,
  shape: ['1', '2'],
  parameters: {},
  contents,
});

function refusal(message: Parameters<typeof inferRequestOf>[0]): string {
  try {
    inferRequestOf(message);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('not refused');
}

describe('ModelInferRequest -> the V2 request REST validates', () => {
  it('reads typed contents as JSON data, shapes and 64-bit integers as numbers, parameters by type', () => {
    const body = inferRequestOf({
      ...base,
      id: 'r1',
      parameters: { binary_data_output: { parameter_choice: 'bool_param', bool_param: true } },
      inputs: [
        input({ fp32_contents: [0.5, 2] }),
        { ...input({ int64_contents: ['7'] }, 'INT64'), name: 'n', shape: ['1'] },
      ],
      outputs: [
        {
          name: 'p',
          parameters: { classification: { parameter_choice: 'int64_param', int64_param: '2' } },
        },
      ],
    });
    expect(body).toEqual({
      id: 'r1',
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [1, 2], data: [0.5, 2] },
        { name: 'n', datatype: 'INT64', shape: [1], data: [7] },
      ],
      outputs: [{ name: 'p', parameters: { classification: 2 } }],
    });
  });

  it('decodes raw_input_contents with the binary extension, one entry per input', () => {
    const bytes = Buffer.from(new Float32Array([1.5, -2]).buffer);
    const body = inferRequestOf({ ...base, inputs: [input(null)], raw_input_contents: [bytes] });
    expect(Array.from(body.inputs[0]!.data as unknown as Float32Array)).toEqual([1.5, -2]);
    expect(
      refusal({ ...base, inputs: [input(null)], raw_input_contents: [bytes.subarray(0, 4)] }),
    ).toMatch(/inputs\.x: shape \[1, 2\] holds 2 FP32 elements/);
    expect(refusal({ ...base, inputs: [input(null)], raw_input_contents: [bytes, bytes] })).toMatch(
      /raw_input_contents: has 2 entries but the request has 1 inputs/,
    );
  });

  it('refuses contents in the wrong field, typed and raw data mixed, and an unknown datatype', () => {
    expect(refusal({ ...base, inputs: [input({ int64_contents: ['1', '2'] })] })).toMatch(
      /inputs\.x: datatype FP32 travels in contents\.fp32_contents, got contents\.int64_contents/,
    );
    expect(
      refusal({
        ...base,
        inputs: [input({ fp32_contents: [1, 2] })],
        raw_input_contents: [Buffer.alloc(8)],
      }),
    ).toMatch(/inputs\.x: has contents but the request uses raw_input_contents/);
    expect(refusal({ ...base, inputs: [input({ fp32_contents: [1, 2] }, 'FP16')] })).toMatch(
      /datatype FP16 has no typed contents: send it in raw_input_contents/,
    );
    // The REST schema's own message for a datatype that does not exist.
    expect(refusal({ ...base, inputs: [input({}, 'FLOAT')] })).toMatch(/inputs\.0\.datatype/);
  });
});

describe('the V2 response -> ModelInferResponse', () => {
  const response = {
    model_name: 'm',
    model_version: '1',
    id: 'r1',
    parameters: { prediction_id: 'r1' },
    outputs: [
      { name: 'label', datatype: 'INT64', shape: [2], data: new BigInt64Array([2n ** 60n, 1n]) },
      { name: 'p', datatype: 'FP32', shape: [2], data: new Float32Array([0.25, 0.75]) },
      { name: 'c', datatype: 'BYTES', shape: [1], data: ['0.75:1:yes'] },
    ],
  };

  it('answers typed contents, 64-bit integers exactly', () => {
    expect(inferResponseOf(response, false)).toEqual({
      model_name: 'm',
      model_version: '1',
      id: 'r1',
      parameters: { prediction_id: { string_param: 'r1' } },
      outputs: [
        {
          name: 'label',
          datatype: 'INT64',
          shape: [2],
          contents: { int64_contents: ['1152921504606846976', '1'] },
        },
        { name: 'p', datatype: 'FP32', shape: [2], contents: { fp32_contents: [0.25, 0.75] } },
        {
          name: 'c',
          datatype: 'BYTES',
          shape: [1],
          contents: { bytes_contents: [Buffer.from('0.75:1:yes')] },
        },
      ],
      raw_output_contents: [],
    });
  });

  it('answers raw little-endian bytes, one entry per output, when asked', () => {
    const raw = inferResponseOf(response, true);
    expect(raw.outputs.every((o) => !('contents' in o))).toBe(true);
    expect(raw.raw_output_contents[0]!.readBigInt64LE(0)).toBe(2n ** 60n);
    expect(raw.raw_output_contents[1]!.readFloatLE(4)).toBe(0.75);
    expect(raw.raw_output_contents[2]!.readUInt32LE(0)).toBe(10);
    const typed = inferRequestOf({ ...base, inputs: [input({ fp32_contents: [1, 2] })] });
    expect(wantsRawOutputs({ ...base }, typed, response.outputs)).toBe(false);
    expect(wantsRawOutputs({ ...base, raw_input_contents: [Buffer.alloc(8)] }, typed, [])).toBe(
      true,
    );
    expect(
      wantsRawOutputs({ ...base }, typed, [{ name: 'h', datatype: 'FP16', shape: [1], data: [1] }]),
    ).toBe(true);
  });
});
