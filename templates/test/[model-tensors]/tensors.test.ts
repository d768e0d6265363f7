/**
 * A tensor model served by name: every input checked against the model (name, datatype, shape,
 * bounds), every output returned, and the answers equal to onnxruntime-node run directly on the
 * same tensors, through /predict, V2 JSON and V2 binary, alone and concurrently.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contract } from '../src/model/contract.js';
import { projectRoot } from './helpers/build.js';
import { type TestService, expectNoStack, startService } from './helpers/service.js';

let svc: TestService;
let session: ort.InferenceSession;
beforeAll(async () => {
  svc = await startService({
    WORKERS: '2',
    MAX_DYNAMIC_DIM: '4096',
    MAX_TENSOR_ELEMENTS: '2000000',
  });
  session = await ort.InferenceSession.create(join(projectRoot, 'model', 'model.onnx'));
});
afterAll(async () => {
  await svc.close();
  await session.release();
});

const v2Types: Record<string, string> = {
  float32: 'FP32',
  float64: 'FP64',
  int64: 'INT64',
  int32: 'INT32',
  int16: 'INT16',
  uint16: 'UINT16',
  int8: 'INT8',
  uint8: 'UINT8',
  bool: 'BOOL',
  string: 'BYTES',
};
const infer = `/v2/models/${contract.name}/infer`;

interface Sample {
  readonly name: string;
  readonly type: string;
  readonly shape: number[];
  readonly values: number[];
}

/** Seeded inputs at the example shapes (batch dimension `rows` when the model batches). */
function sample(seed: number, rows = 1): Sample[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  return contract.inputs.map((input) => {
    const shape = [...(contract.exampleShapes?.[input.name] ?? [])];
    if (contract.batching.mode !== 'none' && shape.length > 0) shape[0] = rows;
    const size = shape.reduce((a, b) => a * b, 1);
    const float = input.type === 'float32' || input.type === 'float64';
    const values = Array.from({ length: size }, () => (float ? Math.fround(next() * 2 - 1) : 0));
    return { name: input.name, type: input.type, shape, values };
  });
}

function ortData(type: string, values: number[]) {
  switch (type) {
    case 'float64':
      return Float64Array.from(values);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(v));
    case 'int32':
      return Int32Array.from(values);
    case 'bool':
    case 'uint8':
      return Uint8Array.from(values);
    default:
      return Float32Array.from(values);
  }
}

/** onnxruntime-node directly: the reference every answer must equal. */
async function direct(
  inputs: Sample[],
): Promise<Record<string, { dims: number[]; data: number[] }>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const i of inputs)
    feeds[i.name] = new ort.Tensor(
      i.type as 'float32',
      ortData(i.type, i.values) as Float32Array,
      i.shape,
    );
  const out = await session.run(feeds);
  return Object.fromEntries(
    Object.entries(out).map(([n, t]) => [
      n,
      { dims: t.dims.map(Number), data: Array.from(t.data as ArrayLike<number | bigint>, Number) },
    ]),
  );
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++)
    expect(Math.abs(Number(actual[i]) - Number(expected[i]))).toBeLessThanOrEqual(
      1e-5 + 1e-5 * Math.abs(Number(expected[i])),
    );
}

function nested(values: number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  if (shape.length === 1) return values;
  const per = values.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) =>
    nested(values.slice(i * per, (i + 1) * per), shape.slice(1)),
  );
}

const jsonInputs = (inputs: Sample[]) =>
  inputs.map((i) => ({ name: i.name, datatype: v2Types[i.type], shape: i.shape, data: i.values }));

/** A V2 binary-extension body, built as tritonclient builds one. */
function binaryBody(
  inputs: Sample[],
  binaryOutput: boolean,
): { body: Buffer; headerLength: number } {
  const raw = inputs.map((i) => Buffer.from(ortData(i.type, i.values).buffer));
  const header = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((i, k) => ({
        name: i.name,
        datatype: v2Types[i.type],
        shape: i.shape,
        parameters: { binary_data_size: raw[k]!.byteLength },
      })),
      ...(binaryOutput ? { parameters: { binary_data_output: true } } : {}),
    }),
  );
  return { body: Buffer.concat([header, ...raw]), headerLength: header.byteLength };
}

describe('a challenger in shadow', () => {
  it('is not available for a tensor model, and the report says so', async () => {
    const res = await svc.get('/monitoring/challenger');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ enabled: false, reason: 'tensor models have no challenger' });
  });

  it('refuses to start with a model in CHALLENGER_DIR rather than ignore it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tensor-challenger-'));
    try {
      copyFileSync(join(projectRoot, 'model', 'model.onnx'), join(dir, 'model.onnx'));
      await expect(startService({ CHALLENGER_DIR: dir }, {}, { start: false })).rejects.toThrow(
        `a challenger is in ${dir}, but a tensor model cannot have one`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metadata and readiness', () => {
  it('V2 metadata lists every input and output, dimensions the client chooses as -1', async () => {
    const res = await svc.get(`/v2/models/${contract.name}`);
    expect(res.statusCode).toBe(200);
    const meta = res.json();
    expect(meta.inputs.map((i: { name: string }) => i.name)).toEqual(
      contract.inputs.map((i) => i.name),
    );
    expect(meta.outputs.map((o: { name: string }) => o.name)).toEqual(
      contract.outputs.map((o) => o.name),
    );
    for (const [k, input] of contract.inputs.entries())
      expect(meta.inputs[k].shape).toEqual(
        input.shape.map((d, j) =>
          typeof d === 'number' && !(j === 0 && contract.batching.mode !== 'none') ? d : -1,
        ),
      );
  });

  it('is ready once every worker warmed up on the example tensors', async () => {
    expect((await svc.get('/v2/health/ready')).statusCode).toBe(200);
  });
});

describe('answers equal onnxruntime-node run directly', () => {
  it('/predict with nested arrays returns every output by name', async () => {
    const inputs = sample(1);
    const body = Object.fromEntries(inputs.map((i) => [i.name, nested(i.values, i.shape)]));
    const res = await svc.post('/predict', body);
    expect(res.statusCode, res.body).toBe(200);
    const expected = await direct(inputs);
    const outputs = res.json().outputs as Record<string, { shape: number[]; data: number[] }>;
    expect(Object.keys(outputs).sort()).toEqual(contract.outputs.map((o) => o.name).sort());
    for (const [name, t] of Object.entries(expected)) {
      expect(outputs[name]!.shape).toEqual(t.dims);
      expectClose(outputs[name]!.data, t.data);
    }
  });

  it('V2 JSON infer', async () => {
    const inputs = sample(2);
    const res = await svc.post(infer, { id: 'json-1', inputs: jsonInputs(inputs) });
    expect(res.statusCode, res.body).toBe(200);
    const expected = await direct(inputs);
    const body = res.json();
    expect(body.id).toBe('json-1');
    for (const o of body.outputs) expectClose(o.data, expected[o.name]!.data);
  });

  it("Triton's classification extension ranks a [batch, C] output's own values", async (ctx) => {
    const ranked = contract.outputs.find(
      (o) => o.shape.length === 2 && o.type !== 'string' && o.type !== 'bool',
    );
    if (!ranked) return ctx.skip(); // no output of shape [batch, classes]
    const inputs = sample(4);
    const res = await svc.post(infer, {
      inputs: jsonInputs(inputs),
      outputs: [{ name: ranked.name, parameters: { classification: 2 } }],
    });
    expect(res.statusCode, res.body).toBe(200);
    const expected = (await direct(inputs))[ranked.name]!;
    const [out] = res.json().outputs as Array<{
      datatype: string;
      shape: number[];
      data: string[];
    }>;
    const rows = expected.dims[0]!;
    const width = expected.data.length / rows;
    const k = Math.min(2, width);
    expect(out!.datatype).toBe('BYTES');
    expect(out!.shape).toEqual([rows, k]);
    for (let r = 0; r < rows; r++) {
      const row = expected.data.slice(r * width, (r + 1) * width);
      const best = [...row.keys()].sort((a, b) => row[b]! - row[a]!).slice(0, k);
      out!.data.slice(r * k, (r + 1) * k).forEach((entry, j) => {
        const [value, index] = entry.split(':');
        expect(Number(index)).toBe(best[j]);
        expectClose([Number(value)], [row[best[j]!]!]);
      });
    }
    // More classes than the output has, or a string: a 400 naming the parameter.
    const bad = await svc.post(infer, {
      inputs: jsonInputs(inputs),
      outputs: [{ name: ranked.name, parameters: { classification: 'two' } }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatch(/classification.*whole number/);
  });

  it('V2 binary tensors in, binary tensors out', async () => {
    const inputs = sample(3);
    const { body, headerLength } = binaryBody(inputs, true);
    const res = await svc.service.app.inject({
      method: 'POST',
      url: infer,
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(headerLength),
      },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);
    const length = Number(res.headers['inference-header-content-length']);
    const raw = res.rawPayload;
    const header = JSON.parse(raw.subarray(0, length).toString('utf8'));
    const expected = await direct(inputs);
    let offset = length;
    for (const o of header.outputs) {
      const size = o.parameters.binary_data_size as number;
      const bytes = raw.subarray(offset, offset + size);
      offset += size;
      const info = contract.outputs.find((x) => x.name === o.name)!;
      const copy = new Uint8Array(bytes).buffer;
      const values =
        info.type === 'int64'
          ? Array.from(new BigInt64Array(copy), Number)
          : info.type === 'float64'
            ? Array.from(new Float64Array(copy))
            : Array.from(new Float32Array(copy));
      expectClose(values, expected[o.name]!.data);
    }
    expect(offset).toBe(raw.byteLength);
  });

  it('concurrent requests each get their own answers (coalesced or not)', async () => {
    const requests = Array.from({ length: 8 }, (_, k) => sample(100 + k));
    const answers = await Promise.all(
      requests.map((inputs) => svc.post(infer, { inputs: jsonInputs(inputs) })),
    );
    for (const [k, res] of answers.entries()) {
      expect(res.statusCode, res.body).toBe(200);
      const expected = await direct(requests[k]!);
      for (const o of res.json().outputs) expectClose(o.data, expected[o.name]!.data);
    }
  });

  it('several rows in one request, whatever the graph takes per run', async (ctx) => {
    if (contract.batching.mode === 'none') return ctx.skip();
    const rows = (contract.batching.size ?? 1) * 2 + 1;
    const inputs = sample(7, rows);
    const res = await svc.post(infer, { inputs: jsonInputs(inputs) });
    expect(res.statusCode, res.body).toBe(200);
    // The reference runs row by row when the graph's batch is fixed.
    const single = contract.batching.mode === 'fixed';
    const expected = single
      ? await Promise.all(
          Array.from({ length: rows }, (_, r) =>
            direct(
              inputs.map((i) => {
                const per = i.values.length / rows;
                return {
                  ...i,
                  shape: [1, ...i.shape.slice(1)],
                  values: i.values.slice(r * per, (r + 1) * per),
                };
              }),
            ),
          ),
        )
      : [await direct(inputs)];
    for (const o of res.json().outputs) {
      expect(o.shape[0]).toBe(rows);
      const want = expected.flatMap((e) => e[o.name]!.data);
      expectClose(o.data, want);
    }
  });
});

describe('bad tensors are a 400 naming the input, never a 500', () => {
  const first = contract.inputs[0]!;
  const good = () => jsonInputs(sample(9));
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'an unknown input',
      () => ({ inputs: [...good(), { name: 'nope', datatype: 'FP32', shape: [1], data: [1] }] }),
      /nope.*unknown input/,
    ],
    [
      'a missing input',
      () => ({
        inputs: good()
          .slice(1)
          .concat(contract.inputs.length === 1 ? [] : []),
      }),
      contract.inputs.length > 1 ? /is missing/ : /at least one input|is missing/,
    ],
    [
      'a wrong datatype',
      () => ({
        inputs: good().map((i, k) =>
          k === 0 ? { ...i, datatype: i.datatype === 'FP64' ? 'FP32' : 'FP64' } : i,
        ),
      }),
      /datatype must be/,
    ],
    [
      'a wrong rank',
      () => ({ inputs: good().map((i, k) => (k === 0 ? { ...i, shape: [...i.shape, 1] } : i)) }),
      /dimensions|elements/,
    ],
    [
      'data that does not fill the shape',
      () => ({ inputs: good().map((i, k) => (k === 0 ? { ...i, data: i.data.slice(1) } : i)) }),
      /elements/,
    ],
  ];
  // A dynamic dimension past MAX_DYNAMIC_DIM or, where every dimension but the batch is fixed,
  // a fixed dimension that differs from the model's.
  const dynamic = first.shape.findIndex((d, j) => j > 0 && typeof d === 'string');
  const changed =
    dynamic > 0 ? dynamic : first.shape.findIndex((d, j) => j > 0 && typeof d === 'number');
  if (changed > 0)
    cases.push([
      dynamic > 0
        ? 'a dynamic dimension past MAX_DYNAMIC_DIM'
        : 'a fixed dimension the model does not have',
      () => ({
        inputs: good().map((i, k) =>
          k === 0
            ? {
                ...i,
                shape: i.shape.map((d, j) => (j === changed ? (dynamic > 0 ? 5000 : d + 1) : d)),
              }
            : i,
        ),
      }),
      dynamic > 0 ? /MAX_DYNAMIC_DIM/ : /dimension \d+ must be \d+ as the model's shape/,
    ]);
  it.each(cases)('%s', async (_name, body, message) => {
    const res = await svc.post(infer, body());
    expect(res.statusCode, res.body).toBe(400);
    expectNoStack(res.body);
    expect(res.body).toMatch(message);
  });

  it('a request larger than MAX_TENSOR_ELEMENTS', async () => {
    const shape = first.shape.map((d, j) => (typeof d === 'number' ? d : j === 0 ? 1 : 4096));
    const size = shape.reduce((a, b) => a * b, 1);
    const res = await svc.post(infer, {
      inputs: [{ name: first.name, datatype: v2Types[first.type], shape, data: [] }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(
      size > 2_000_000 ? /MAX_TENSOR_ELEMENTS|MAX_DYNAMIC_DIM/ : /elements|is missing|must be/,
    );
  });

  it('ragged nested arrays on /predict', async () => {
    const inputs = sample(11);
    const body = Object.fromEntries(inputs.map((i) => [i.name, nested(i.values, i.shape)]));
    if (first.shape.length < 2) return;
    body[first.name] = [[1, 2], [3]];
    const res = await svc.post('/predict', body);
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/rectangular|dimensions|must be/);
  });
});

describe('observability', () => {
  const first = contract.inputs[0]!;
  it('logs tensor shapes and statistics, not the values', async () => {
    const res = await svc.post(infer, { id: 'logged', inputs: jsonInputs(sample(12)) });
    expect(res.statusCode).toBe(200);
    await svc.service.shutdown();
    const lines = readFileSync(svc.logPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const line = lines.find((l) => l.endpoint === 'v2/infer');
    expect(line.inputs[first.name]).toMatchObject({
      shape: expect.any(Array),
      elements: expect.any(Number),
    });
    expect(JSON.stringify(line).length).toBeLessThan(4000);
  });
});
