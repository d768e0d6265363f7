/**
 * Open Inference Protocol (KServe V2) conformance, against the REST specification
 * (github.com/kserve/open-inference-protocol, specification/protocol/inference_rest.md): the
 * payload examples of the specification, with this model's tensors in place of `input0`/`output0`,
 * and the JSON shapes the specification's OpenAPI defines for each answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { contract } from '../src/model/contract.js';
import { servingInputs } from '../src/model/serving.js';
import { v2Datatypes } from '../src/routes/v2.js';
import { type TestService, expectNoStack, startService } from './helpers/service.js';

let svc: TestService;
let example: Record<string, number | string | null>;
beforeAll(async () => {
  svc = await startService();
  example = svc.service.context.exampleRow;
});
afterAll(() => svc.close());

// The specification's schemas ($metadata_server_response, $metadata_model_response, ...).
const tensorMetadata = z.object({
  name: z.string(),
  datatype: z.enum(v2Datatypes),
  shape: z.array(z.number().int()),
});
const serverMetadata = z.object({
  name: z.string(),
  version: z.string(),
  extensions: z.array(z.string()),
});
const modelMetadata = z.object({
  name: z.string(),
  versions: z.array(z.string()).optional(),
  platform: z.string(),
  inputs: z.array(tensorMetadata),
  outputs: z.array(tensorMetadata),
});
const responseOutput = z.object({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  datatype: z.enum(v2Datatypes),
  parameters: z.record(z.string(), z.unknown()).optional(),
  data: z.array(z.union([z.number(), z.string(), z.boolean()])),
});
const inferenceResponse = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  outputs: z.array(responseOutput),
});
const errorResponse = z.object({ error: z.string() });

const infer = `/v2/models/${contract.name}/infer`;

/** The inputs the service takes, e.g. a text model's `text` before its tokenizer. */
const inputs = servingInputs(contract);

/** The model's inputs as V2 tensors for `rows` records (the graph's own layout). */
function tensors(rows: Array<Record<string, unknown>>, nested = false) {
  return inputs.map((input) => {
    const features = contract.features
      .filter((f) => f.input === input.name)
      .sort((a, b) => a.column - b.column);
    const values = rows.map((r) => features.map((f) => r[f.name] ?? null));
    return {
      name: input.name,
      shape: input.shape.length === 1 ? [rows.length] : [rows.length, features.length],
      datatype: input.type === 'string' ? 'BYTES' : 'FP32',
      data: nested && input.shape.length === 2 ? values : values.flat(),
    };
  });
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('health and metadata', () => {
  it('GET /v2 is the server metadata', async () => {
    const res = await svc.get('/v2');
    expect(res.statusCode).toBe(200);
    expect(serverMetadata.parse(res.json()).extensions).toContain('classification');
  });

  it('GET /v2/health/live and /v2/health/ready are 200 when live and ready', async () => {
    expect((await svc.get('/v2/health/live')).statusCode).toBe(200);
    expect((await svc.get('/v2/health/ready')).statusCode).toBe(200);
  });

  it.each([
    `/v2/models/${contract.name}`,
    `/v2/models/${contract.name}/versions/${contract.version}`,
  ])('GET %s is the model metadata, with -1 for variable dimensions', async (url) => {
    const res = await svc.get(url);
    expect(res.statusCode).toBe(200);
    const body = modelMetadata.parse(res.json());
    expect(body.name).toBe(contract.name);
    expect(body.versions).toEqual([contract.version]);
    expect(body.platform).toBe('onnx_onnxv1');
    expect(body.inputs.map((i) => i.name)).toEqual(inputs.map((i) => i.name));
    expect(body.outputs.map((o) => o.name)).toEqual(contract.outputs.map((o) => o.name));
    for (const t of body.inputs) expect(t.shape[0]).toBe(-1);
    for (const t of [...body.inputs, ...body.outputs])
      expect(t.shape.every((d) => d === -1 || d > 0)).toBe(true);
  });

  it.each([
    `/v2/models/${contract.name}/ready`,
    `/v2/models/${contract.name}/versions/${contract.version}/ready`,
  ])('GET %s is 200 with the model ready', async (url) => {
    const res = await svc.get(url);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ name: contract.name, ready: true });
  });

  it.each([
    '/v2/models/no-such-model',
    `/v2/models/${contract.name}/versions/0.0.0-nope`,
    '/v2/models/no-such-model/ready',
  ])('GET %s is 404 with an error object', async (url) => {
    const res = await svc.get(url);
    expect(res.statusCode).toBe(404);
    errorResponse.parse(res.json());
  });
});

describe('inference', () => {
  it('answers the specification example request (id echoed, requested output only)', async () => {
    const output = contract.outputs[contract.outputs.length - 1]!.name;
    const res = await svc.post(infer, {
      id: '42',
      inputs: tensors([example]),
      outputs: [{ name: output }],
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = inferenceResponse.parse(res.json());
    expect(body.id).toBe('42');
    expect(body.model_name).toBe(contract.name);
    expect(body.model_version).toBe(contract.version);
    expect(body.outputs.map((o) => o.name)).toEqual([output]);
    for (const o of body.outputs) expect(o.data).toHaveLength(product(o.shape));
  });

  it('returns every output when none is requested, with the graph datatypes and a batch dimension', async () => {
    const rows = (svc.service.context.model.background ?? [example, example, example]).slice(0, 3);
    const res = await svc.post(infer, { inputs: tensors(rows) });
    expect(res.statusCode, res.body).toBe(200);
    const body = inferenceResponse.parse(res.json());
    expect(body.outputs.map((o) => o.name)).toEqual(contract.outputs.map((o) => o.name));
    for (const o of body.outputs) {
      expect(o.shape[0]).toBe(rows.length);
      expect(o.data).toHaveLength(product(o.shape));
    }
    expect(typeof body.id).toBe('string');
  });

  it('accepts nested (row-major) data the same as flat data', async () => {
    const rows = [example, example];
    const flat = (await svc.post(infer, { inputs: tensors(rows) })).json();
    const nested = await svc.post(infer, { inputs: tensors(rows, true) });
    expect(nested.statusCode, nested.body).toBe(200);
    expect(nested.json().outputs).toEqual(flat.outputs);
  });

  it('answers concurrent requests (coalesced into shared model runs) each with its own rows', async () => {
    const rows = (svc.service.context.model.background ?? [example, example, example]).slice(0, 3);
    const sizes = [1, 2, 3, 1, 3, 2, 1, 2, 3, 1];
    const alone = await Promise.all(
      [1, 2, 3].map((n) =>
        svc.post(infer, { inputs: tensors(rows.slice(0, n)) }).then((r) => r.json()),
      ),
    );
    const together = await Promise.all(
      sizes.map((n) => svc.post(infer, { inputs: tensors(rows.slice(0, n)) })),
    );
    together.forEach((res, i) => {
      expect(res.statusCode).toBe(200);
      const body = inferenceResponse.parse(res.json());
      for (const o of body.outputs) {
        expect(o.shape[0]).toBe(sizes[i]);
        expect(o.data).toHaveLength(product(o.shape));
      }
      expect(body.outputs).toEqual(alone[sizes[i]! - 1].outputs);
    });
  });

  it('works on the versioned path too', async () => {
    const res = await svc.post(`/v2/models/${contract.name}/versions/${contract.version}/infer`, {
      inputs: tensors([example]),
    });
    expect(res.statusCode).toBe(200);
  });

  it('supports the classification extension on the probability output', async (ctx) => {
    if (!contract.outputNames.probabilities) return ctx.skip();
    const res = await svc.post(infer, {
      inputs: tensors([example]),
      outputs: [{ name: contract.outputNames.probabilities, parameters: { classification: 2 } }],
    });
    expect(res.statusCode, res.body).toBe(200);
    const [out] = inferenceResponse.parse(res.json()).outputs;
    expect(out!.datatype).toBe('BYTES');
    expect(out!.shape).toEqual([1, 2]);
    for (const entry of out!.data as string[]) {
      const [value, index, label] = entry.split(':');
      expect(Number(value)).toBeGreaterThanOrEqual(0);
      expect(contract.labels[Number(index)]).toBe(label);
    }
  });
});

describe('inference errors are 400 {"error"} naming the tensor', () => {
  const first = () => inputs[0]!.name;
  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'a missing input',
      () => ({ inputs: tensors([example]).slice(1) }),
      inputs.length > 1
        ? new RegExp(`inputs\\.${first()}: is missing`)
        : /inputs: must list at least one input tensor/,
    ],
    [
      'an unknown input',
      () => ({
        inputs: [...tensors([example]), { name: 'bogus', shape: [1], datatype: 'FP32', data: [1] }],
      }),
      /inputs\.bogus: unknown input/,
    ],
    [
      'shape and data disagree',
      () => ({
        inputs: tensors([example]).map((t, i) =>
          i === 0 ? { ...t, shape: [2, ...t.shape.slice(1)] } : t,
        ),
      }),
      /holds 2|holds \d+ elements/,
    ],
    [
      'an unknown datatype',
      () => ({
        inputs: tensors([example]).map((t, i) => (i === 0 ? { ...t, datatype: 'FP128' } : t)),
      }),
      /datatype/,
    ],
    [
      'a wrong datatype',
      () => ({
        inputs: tensors([example]).map((t, i) =>
          i === 0 ? { ...t, datatype: t.datatype === 'BYTES' ? 'FP32' : 'BYTES' } : t,
        ),
      }),
      /datatype must be/,
    ],
    [
      'an unknown output',
      () => ({ inputs: tensors([example]), outputs: [{ name: 'nope' }] }),
      /outputs\.nope: unknown output/,
    ],
    ['no inputs', () => ({ inputs: [] }), /inputs/],
    ['an unknown top-level field', () => ({ inputs: tensors([example]), bogus: 1 }), /bogus/],
  ];
  it.each(cases)('%s', async (_label, body, message) => {
    const res = await svc.post(infer, body());
    expect(res.statusCode, res.body).toBe(400);
    const parsed = errorResponse.parse(res.json());
    expect(parsed.error).toMatch(message);
    expectNoStack(res.body);
  });

  it('a value its declared datatype cannot hold is refused (INT8 619)', async (ctx) => {
    const numeric = tensors([example]).findIndex((t) => t.datatype !== 'BYTES');
    if (numeric < 0) return ctx.skip();
    const body = {
      inputs: tensors([example]).map((t, i) =>
        i === numeric
          ? { ...t, datatype: 'INT8', data: t.data.map((_, j) => (j === 0 ? 619 : 1)) }
          : t,
      ),
    };
    const res = await svc.post(infer, body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().details[0]).toEqual({
      field: `inputs.${body.inputs[numeric]!.name}[0]`,
      message: '619 is not an INT8 (whole numbers -128 to 127)',
    });
  });

  it('a value out of range names the tensor and the row', async () => {
    const f = contract.features[0]!;
    const bad = {
      ...example,
      [f.name]:
        f.type === 'number' || f.type === 'integer' ? (f.max !== undefined ? f.max + 1 : 'x') : 42,
    };
    const res = await svc.post(infer, { inputs: tensors([example, bad]) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(new RegExp(`inputs\\.${f.input}\\[1\\]`));
  });

  it('an unknown model is 404', async () => {
    const res = await svc.post('/v2/models/nope/infer', { inputs: tensors([example]) });
    expect(res.statusCode).toBe(404);
    errorResponse.parse(res.json());
  });

  it('malformed JSON is 400', async () => {
    const res = await svc.post(infer, '{"inputs": [');
    expect(res.statusCode).toBe(400);
    errorResponse.parse(res.json());
  });
});
