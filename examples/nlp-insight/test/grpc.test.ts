/**
 * The Open Inference Protocol over gRPC, against the built server as a real process: health
 * through grpc.health.v1 (SERVING once ready, NOT_SERVING from SIGTERM on), metadata equal to the
 * REST V2 answers, ModelInfer with typed contents and with raw_input_contents answering exactly
 * what REST V2 answers for the same tensors, and a bad input refused with INVALID_ARGUMENT and
 * REST's 400 message. Records and tensor models alike (the request is built from the contract).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTensor, halfToFloat } from '../src/inference/v2-binary.js';
import { loadServices } from '../src/grpc/server.js';
import { contract } from '../src/model/contract.js';
import {
  type Call,
  type Tensor,
  callsOf,
  contentsField,
  requestTensors,
  typedInput,
} from './helpers/grpc.js';
import { type RunningServer, startServer } from './helpers/child.js';

const rawKinds: Record<string, new (b: ArrayBuffer, o: number, n: number) => ArrayLike<unknown>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/** raw_output_contents entry -> the JSON values REST would give. */
function decodeRaw(datatype: string, bytes: Buffer): unknown[] {
  if (datatype === 'BYTES') {
    const out: string[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = bytes.readUInt32LE(at);
      out.push(bytes.subarray(at + 4, at + 4 + n).toString('utf8'));
      at += 4 + n;
    }
    return out;
  }
  const Kind = rawKinds[datatype]!;
  const copy = new Uint8Array(bytes).buffer;
  const size = (Kind as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const typed = new Kind(copy, 0, bytes.length / size);
  const values = datatype === 'FP16' ? halfToFloat(typed as Uint16Array) : typed;
  return Array.from(values, (v) =>
    typeof v === 'bigint' ? Number(v) : datatype === 'BOOL' ? Boolean(v) : v,
  );
}

interface GrpcOutput {
  name: string;
  datatype: string;
  shape: string[];
  contents: Record<string, unknown[]> | null;
}

/** A ModelInferResponse's outputs as REST's JSON outputs. */
function outputsOf(response: { outputs: GrpcOutput[]; raw_output_contents: Buffer[] }) {
  return response.outputs.map((o, i) => {
    const raw = response.raw_output_contents[i];
    let data: unknown[];
    if (raw) data = decodeRaw(o.datatype, raw);
    else {
      const values = o.contents?.[contentsField[o.datatype]!] ?? [];
      data =
        o.datatype === 'BYTES'
          ? values.map((b) => (b as Buffer).toString('utf8'))
          : values.map((v) => (typeof v === 'string' ? Number(v) : v));
    }
    return { name: o.name, datatype: o.datatype, shape: o.shape.map(Number), data };
  });
}

const services = loadServices();
const dir = mkdtempSync(join(tmpdir(), 'mlservice-grpc-'));
const logPath = join(dir, 'predictions.jsonl');
let server: RunningServer;
let inference: Record<string, Call>;
let health: Record<string, Call>;
let clients: grpc.Client[] = [];
let tensors: Tensor[];

beforeAll(async () => {
  server = await startServer({ WORKERS: '1', PREDICTION_LOG_PATH: logPath });
  expect(server.grpcAddress, 'the listening and ready lines name the gRPC address').toBeDefined();
  const credentials = grpc.credentials.createInsecure();
  const inferenceClient = new services.inference(server.grpcAddress!, credentials);
  const healthClient = new services.health(server.grpcAddress!, credentials);
  clients = [inferenceClient, healthClient];
  inference = callsOf(inferenceClient, [
    'ServerLive',
    'ServerReady',
    'ModelReady',
    'ServerMetadata',
    'ModelMetadata',
    'ModelInfer',
  ]);
  health = callsOf(healthClient, ['Check']);
  tensors = await requestTensors();
});
afterAll(() => {
  for (const c of clients) c.close();
  server.process.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const rest = async (path: string, body?: unknown) => {
  const res = await fetch(new URL(path, server.address), {
    ...(body === undefined
      ? {}
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const infer = `/v2/models/${contract.name}/infer`;

describe('gRPC (GRPC_PORT) on the built server', () => {
  it('reports SERVING through grpc.health.v1 once ready, for the server and the inference service', async () => {
    expect(await health.Check!({ service: '' })).toEqual({ status: 'SERVING' });
    expect(await health.Check!({ service: 'inference.GRPCInferenceService' })).toEqual({
      status: 'SERVING',
    });
    await expect(health.Check!({ service: 'nope' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
    expect(await inference.ServerLive!({})).toEqual({ live: true });
    expect(await inference.ServerReady!({})).toEqual({ ready: true });
    expect(await inference.ModelReady!({ name: contract.name, version: '' })).toEqual({
      ready: true,
    });
  });

  it('answers ServerMetadata and ModelMetadata as GET /v2 and GET /v2/models/{name} do', async () => {
    expect(await inference.ServerMetadata!({})).toEqual((await rest('/v2')).body);
    const metadata = await inference.ModelMetadata!({ name: contract.name, version: '' });
    const shapes = (list: unknown) =>
      (list as Array<{ shape: string[] }>).map((t) => ({ ...t, shape: t.shape.map(Number) }));
    expect({
      ...metadata,
      inputs: shapes(metadata.inputs),
      outputs: shapes(metadata.outputs),
    }).toEqual((await rest(`/v2/models/${contract.name}`)).body);
    await expect(inference.ModelMetadata!({ name: 'other', version: '' })).rejects.toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: `model "other" is not served here; this server serves "${contract.name}"`,
    });
  });

  it('ModelInfer with typed contents, and with raw_input_contents, answers what REST V2 answers', async () => {
    const expected = await rest(infer, { inputs: tensors });
    expect(expected.status).toBe(200);
    const restOutputs = expected.body.outputs as Tensor[];

    if (tensors.every((t) => contentsField[t.datatype])) {
      const typed = await inference.ModelInfer!({
        model_name: contract.name,
        id: 'typed-1',
        inputs: tensors.map(typedInput),
      });
      expect(typed).toMatchObject({
        model_name: contract.name,
        model_version: contract.version,
        id: 'typed-1',
        raw_output_contents: [],
      });
      expect(outputsOf(typed as never)).toEqual(restOutputs);
    }

    const raw = await inference.ModelInfer!({
      model_name: contract.name,
      model_version: contract.version,
      inputs: tensors.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      raw_input_contents: tensors.map((t) => encodeTensor(t as never)),
    });
    expect((raw.raw_output_contents as Buffer[]).length).toBe(restOutputs.length);
    expect(outputsOf(raw as never)).toEqual(restOutputs);
    if (contract.kind !== 'tensors') {
      expect((raw.parameters as Record<string, unknown>).prediction_id).toMatchObject({
        string_param: expect.any(String),
      });
    }
  });

  it('refuses a bad input with INVALID_ARGUMENT and the message REST gives in its 400', async () => {
    const bad = [...tensors, { ...tensors[0]!, name: 'not_an_input' }];
    const refused = await rest(infer, { inputs: bad });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toContain('inputs.not_an_input');
    const call = inference.ModelInfer!({
      model_name: contract.name,
      inputs: bad.filter((t) => contentsField[t.datatype]).map(typedInput),
    });
    if (tensors.every((t) => contentsField[t.datatype]))
      await expect(call).rejects.toMatchObject({
        code: grpc.status.INVALID_ARGUMENT,
        details: refused.body.error,
      });
    else await call.catch(() => undefined);

    // A shape that does not hold the data: named as REST names it.
    const short = tensors.map((t, i) => (i === 0 ? { ...t, data: t.data.slice(1) } : t));
    const restShort = await rest(infer, { inputs: short });
    expect(restShort.status).toBe(400);
    await expect(
      inference.ModelInfer!({
        model_name: contract.name,
        inputs: short.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
        raw_input_contents: short.map((t) => encodeTensor(t as never)),
      }),
    ).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });

    await expect(
      inference.ModelInfer!({ model_name: 'other', inputs: tensors.map(typedInput) }),
    ).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('answers Watch with UNIMPLEMENTED (clients poll Check)', async () => {
    const stream = (
      clients[1] as unknown as { Watch: (r: unknown) => grpc.ClientReadableStream<unknown> }
    ).Watch({ service: '' });
    const error = await new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('counts gRPC calls under their own route in the request metrics', async () => {
    const metrics = await (await fetch(new URL('/metrics', server.address))).text();
    expect(metrics).toMatch(
      /^mlservice_requests_total\{route="\/inference\.GRPCInferenceService\/ModelInfer",status="200"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^mlservice_requests_total\{route="\/inference\.GRPCInferenceService\/ModelInfer",status="400"\} [1-9]/m,
    );
    expect(metrics).toMatch(
      /^mlservice_validation_errors_total\{route="\/inference\.GRPCInferenceService\/ModelInfer"\} [1-9]/m,
    );
  });

  it('turns NOT_SERVING on SIGTERM, then drains and exits 0; predictions were logged like REST V2', async () => {
    // An idle keep-alive HTTP connection: the drain gives such clients a moment to leave, and
    // gRPC clients the same moment to see NOT_SERVING before GOAWAY.
    expect((await fetch(new URL('/readyz', server.address))).status).toBe(200);
    const draining = new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        if (d.toString().includes('not ready any more, draining')) {
          server.process.stdout!.off('data', onData);
          resolve();
        }
      };
      server.process.stdout!.on('data', onData);
    });
    server.process.kill('SIGTERM');
    await draining;
    expect(await health.Check!({ service: '' })).toEqual({ status: 'NOT_SERVING' });
    expect(await inference.ServerReady!({})).toEqual({ ready: false });
    expect(await server.exited).toEqual({ code: 0, signal: null });

    const lines = readFileSync(logPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { endpoint: string });
    const grpcLines = lines.filter((l) => l.endpoint === 'grpc/infer');
    const restLines = lines.filter((l) => l.endpoint === 'v2/infer');
    expect(grpcLines.length).toBeGreaterThan(0);
    expect(Object.keys(grpcLines[0]!).sort()).toEqual(Object.keys(restLines[0]!).sort());
  });
});
