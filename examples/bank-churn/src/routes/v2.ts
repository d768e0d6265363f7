/**
 * The Open Inference Protocol (KServe V2) REST surface, so KServe and Triton clients work:
 *
 *   GET  /v2                                   server metadata
 *   GET  /v2/health/live, /v2/health/ready     health
 *   GET  /v2/models/{name}[/versions/{v}]      model metadata
 *   GET  /v2/models/{name}[/versions/{v}]/ready
 *   POST /v2/models/{name}[/versions/{v}]/infer
 *
 * Inputs are accepted as the graph's own tensors (one per column, or one [N, K] matrix) or, for a
 * matrix model, one [N] tensor per feature (MLServer's "pd" content type). Data may be flat or
 * nested (row-major). Numbers of any numeric datatype are coerced to the graph's element type and
 * validated like `/predict` (ranges, categories, lengths). Outputs are the graph's tensors, as they
 * come out of the model; a probabilities output also answers Triton's classification extension
 * (`"parameters": {"classification": k}`), and so does every numeric [batch, C] output of a tensor
 * model (an image network's logits: its raw values ranked, `"value:index"`, as Triton does).
 * Errors are `{"error": "..."}`.
 */
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  FastifySchemaCompiler,
} from 'fastify';
import { z } from 'zod';
import { type FieldIssue, HttpError, ValidationError } from '../errors.js';
import type { Outputs } from '../inference/batcher.js';
import { parseTensors, v2DatatypeOf } from '../inference/tensor-request.js';
import { classProbabilities } from '../inference/outputs.js';
import { widthOf } from '../inference/tensors.js';
import {
  attachBinaryInputs,
  encodeBinaryOutputs,
  splitBinaryBody,
  wantsBinaryOutputs,
} from '../inference/v2-binary.js';
import { datatypeIssue } from '../inference/datatype-range.js';
import { servingInputs } from '../model/serving.js';
import type { ModelContract, TensorInfo } from '../model/contract-types.js';
import { fastInferRequestCheck, fastRecordCheck } from '../model/fast-validation.js';
import { type Row, issuesOf, recordSchema, toJsonSchema } from '../model/schemas.js';
import { serviceInfo } from '../service-info.js';
import type { ServiceContext } from '../context.js';
import { admit, errorResponses, zodValidator } from './common.js';
import { publicRoute } from '../http/auth.js';

export const v2Datatypes = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
const numericDatatypes: ReadonlySet<string> = new Set(
  v2Datatypes.filter((d) => d !== 'BOOL' && d !== 'BYTES'),
);

export { v2DatatypeOf };

/**
 * A tensor as V2 metadata shows it: -1 for a dimension the client chooses, including the batch
 * dimension of a graph with a fixed batch (the service runs any number of rows in chunks).
 */
function v2Tensor(t: TensorInfo, batched: boolean) {
  return {
    name: t.name,
    datatype: v2DatatypeOf(t.type),
    shape: t.shape.map((d, k) => (typeof d === 'number' && !(batched && k === 0) ? d : -1)),
  };
}

/** GET /v2/models/{name} (and gRPC ModelMetadata). */
export function modelMetadataOf(contract: ModelContract) {
  const batched = contract.batching.mode !== 'none';
  return {
    name: contract.name,
    versions: [contract.version],
    platform: 'onnx_onnxv1',
    inputs: servingInputs(contract).map((t) => v2Tensor(t, batched)),
    outputs: contract.outputs.map((t) => v2Tensor(t, batched)),
  };
}

/** A 404 (gRPC NOT_FOUND) unless the request names the served model (and version, if any). */
export function checkModelName(contract: ModelContract, name: string, version?: string): void {
  if (name !== contract.name)
    throw new HttpError(
      404,
      `model "${name}" is not served here; this server serves "${contract.name}"`,
    );
  if (version !== undefined && version !== contract.version) {
    throw new HttpError(
      404,
      `model "${name}" has no version "${version}"; the served version is "${contract.version}"`,
    );
  }
}

/** GET /v2 (and gRPC ServerMetadata). */
export const serverMetadata = {
  name: serviceInfo.name,
  version: serviceInfo.version,
  extensions: ['classification', 'binary_tensor_data'],
};

const parameterValue = z.union([z.string(), z.number(), z.boolean()]);
export const inferRequestSchema = z.strictObject({
  id: z.string().max(256).optional(),
  parameters: z.record(z.string(), parameterValue).optional(),
  inputs: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(256),
        // [] is a scalar (e.g. a sample rate input).
        shape: z.array(z.number().int().min(0)).max(8),
        datatype: z.enum(v2Datatypes, { error: `must be one of ${v2Datatypes.join(', ')}` }),
        parameters: z.record(z.string(), parameterValue).optional(),
        // Absent when the tensor travels in the binary section (binary_data_size).
        data: z.array(z.unknown()).optional(),
      }),
    )
    .min(1, { error: 'must list at least one input tensor' }),
  outputs: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(256),
        parameters: z.record(z.string(), parameterValue).optional(),
      }),
    )
    .optional(),
});
export type InferRequest = z.infer<typeof inferRequestSchema>;
type InputTensor = InferRequest['inputs'][number];

function flatten(data: unknown): unknown[] {
  if (ArrayBuffer.isView(data))
    return Array.from(data as unknown as ArrayLike<unknown>, (v) =>
      typeof v === 'bigint' ? Number(v) : v,
    );
  if (!Array.isArray(data))
    throw new ValidationError([
      { field: 'data', message: 'is missing (or give parameters.binary_data_size)' },
    ]);
  if (!data.some(Array.isArray)) return data as unknown[];
  const out: unknown[] = [];
  // Depth-first, so nested data keeps its row-major order.
  const walk = (value: unknown, depth: number) => {
    if (depth > 8) throw new ValidationError([{ field: 'data', message: 'is nested too deeply' }]);
    if (Array.isArray(value)) for (const v of value) walk(v, depth + 1);
    else out.push(value);
  };
  walk(data, 0);
  return out;
}

export interface ParsedInfer {
  readonly rows: Row[];
  readonly outputs: ReadonlyArray<{ name: string; classification?: number }>;
}

/** V2 tensors -> validated records. Throws ValidationError naming the tensor (and row) at fault. */
export function parseInfer(
  request: InferRequest,
  contract: ModelContract,
  maxRows: number,
): ParsedInfer {
  const layout = inputLayout(request, contract);
  const issues: FieldIssue[] = [];
  // Every tensor: shape matches data, element datatype fits the feature(s), same row count.
  let rowCount: number | undefined;
  const flat = new Map<string, FlatTensor>();
  for (const name of layout.expected) {
    const tensor = flatTensor(layout.byName.get(name)!, layout, contract);
    if ('message' in tensor) {
      issues.push(tensor);
      continue;
    }
    if (rowCount !== undefined && tensor.rows !== rowCount) {
      issues.push({
        field: `inputs.${name}`,
        message: `has ${tensor.rows} rows but other inputs have ${rowCount}`,
      });
      continue;
    }
    rowCount = tensor.rows;
    flat.set(name, tensor);
  }
  if (issues.length > 0) throw new ValidationError(issues);
  const n = rowCount ?? 0;
  if (n < 1)
    throw new ValidationError([{ field: 'inputs', message: 'must hold at least one row' }]);
  if (n > maxRows)
    throw new ValidationError([
      { field: 'inputs', message: `must hold at most ${maxRows} rows (MAX_BATCH_ROWS), got ${n}` },
    ]);
  return {
    rows: recordsOf(flat, n, layout.perFeature, contract),
    outputs: requestedOutputs(request, contract),
  };
}

/** Which tensors a request sent, and which layout it used: the graph's inputs, or one per feature. */
interface InputLayout {
  readonly byName: Map<string, InputTensor>;
  readonly perFeature: boolean;
  /** The tensor names that layout takes. */
  readonly expected: readonly string[];
}

/** A tensor's elements in row-major order, with its row width and row count. */
interface FlatTensor {
  readonly values: unknown[];
  readonly width: number;
  readonly rows: number;
}

function inputLayout(request: InferRequest, contract: ModelContract): InputLayout {
  const issues: FieldIssue[] = [];
  const byName = new Map<string, InputTensor>();
  for (const t of request.inputs) {
    if (byName.has(t.name)) issues.push({ field: `inputs.${t.name}`, message: 'appears twice' });
    byName.set(t.name, t);
  }
  const graphNames = servingInputs(contract).map((i) => i.name);
  const featureNames = contract.features.map((f) => f.name);
  const names = [...byName.keys()];
  // Which layout did the client use: the graph's tensors, or one tensor per feature?
  const perFeature =
    contract.layout === 'matrix' &&
    names.length > 0 &&
    names.every((n) => featureNames.includes(n)) &&
    !names.every((n) => graphNames.includes(n));
  const expected = perFeature ? featureNames : graphNames;
  for (const n of names) {
    if (!expected.includes(n)) {
      issues.push({
        field: `inputs.${n}`,
        message: `unknown input; the model takes ${expected.join(', ')}${contract.layout === 'matrix' ? ` (or one [N] tensor per feature: ${featureNames.join(', ')})` : ''}`,
      });
    }
  }
  for (const n of expected)
    if (!byName.has(n)) issues.push({ field: `inputs.${n}`, message: 'is missing' });
  if (issues.length > 0) throw new ValidationError(issues);
  return { byName, perFeature, expected };
}

/** One input tensor checked (shape against data, shape against the model, datatype, range) and flattened. */
function flatTensor(
  t: InputTensor,
  { perFeature }: InputLayout,
  contract: ModelContract,
): FlatTensor | FieldIssue {
  const field = `inputs.${t.name}`;
  const size = t.shape.reduce((a, b) => a * b, 1);
  let values: unknown[];
  try {
    values = flatten(t.data);
  } catch (error) {
    if (error instanceof ValidationError) return { field, message: error.issues[0]!.message };
    throw error;
  }
  if (values.length !== size) {
    return {
      field,
      message: `shape [${t.shape.join(', ')}] holds ${size} elements but data has ${values.length}`,
    };
  }
  const graphInput = perFeature
    ? undefined
    : servingInputs(contract).find((i) => i.name === t.name)!;
  const width = graphInput ? widthOf(graphInput) : 1;
  const okShape =
    width === 1
      ? t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1)
      : t.shape.length === 2 && t.shape[1] === width;
  if (!okShape) {
    return {
      field,
      message: `shape must be ${width === 1 ? '[N] or [N, 1]' : `[N, ${width}]`}, got [${t.shape.join(', ')}]`,
    };
  }
  const isString = perFeature
    ? contract.features.find((f) => f.name === t.name)!.tensorType === 'string'
    : graphInput!.type === 'string';
  if (isString ? t.datatype !== 'BYTES' : !numericDatatypes.has(t.datatype)) {
    return {
      field,
      message: `datatype must be ${isString ? 'BYTES' : 'a numeric datatype (FP32, FP64, INT64, ...)'}, got ${t.datatype}`,
    };
  }
  const outOfRange = datatypeIssue(t.datatype, values);
  if (outOfRange) return { field: `${field}[${outOfRange.index}]`, message: outOfRange.message };
  return { values, width, rows: t.shape[0]! };
}

/** The tensors' rows as records, validated with the same schema as /predict (its compiled fast path first). */
function recordsOf(
  flat: ReadonlyMap<string, FlatTensor>,
  n: number,
  perFeature: boolean,
  contract: ModelContract,
): Row[] {
  const issues: FieldIssue[] = [];
  const schema = recordSchema(contract);
  const fast = fastRecordCheck(contract);
  const rows: Row[] = [];
  for (let r = 0; r < n; r++) {
    const raw: Record<string, unknown> = {};
    for (const f of contract.features) {
      const source = perFeature ? flat.get(f.name)! : flat.get(f.input)!;
      raw[f.name] = source.values[r * source.width + (perFeature ? 0 : f.column)];
    }
    if (fast(raw)) {
      rows.push(raw as Row);
      continue;
    }
    const result = schema.safeParse(raw);
    if (result.success) rows.push(result.data);
    else {
      for (const issue of issuesOf(result.error)) {
        const f = contract.features.find((x) => x.name === issue.field);
        const where = !f
          ? issue.field
          : perFeature || contract.layout === 'columns'
            ? `inputs.${f.name}[${r}]`
            : `inputs.${f.input}[${r}][${f.column}] (${f.name})`;
        issues.push({ field: where, message: issue.message });
      }
      if (issues.length >= 20) break;
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return rows;
}

/** The outputs a request asks for (all of them by default), with Triton's classification parameter. */
export function requestedOutputs(
  request: InferRequest,
  contract: ModelContract,
): ParsedInfer['outputs'] {
  const issues: FieldIssue[] = [];
  const outputNames = contract.outputs.map((o) => o.name);
  const outputs = (
    request.outputs ?? outputNames.map((name) => ({ name, parameters: undefined }))
  ).map((o) => {
    if (!outputNames.includes(o.name)) {
      issues.push({
        field: `outputs.${o.name}`,
        message: `unknown output; the model has ${outputNames.join(', ')}`,
      });
      return { name: o.name };
    }
    const k = o.parameters?.classification;
    if (k === undefined) return { name: o.name };
    const problem = classificationProblem(contract, o.name, k);
    if (problem) {
      issues.push({ field: `outputs.${o.name}.parameters.classification`, message: problem });
      return { name: o.name };
    }
    return { name: o.name, classification: k as number };
  });
  if (issues.length > 0) throw new ValidationError(issues);
  return outputs;
}

/**
 * What an output can be ranked by: a classifier's class probabilities (`classes` known), or a
 * tensor model's numeric output of rank 2, [batch, C] (`classes` from the graph, or known only
 * when it runs); undefined when it cannot be ranked.
 */
function rankable(
  contract: ModelContract,
  name: string,
): { readonly classes: number | undefined } | undefined {
  if (name === contract.outputNames.probabilities) return { classes: contract.labels.length };
  const info = contract.outputs.find((o) => o.name === name);
  if (contract.task !== 'tensor' || !info || info.shape.length !== 2) return undefined;
  if (info.type === 'string' || info.type === 'bool') return undefined;
  const width = info.shape[1];
  return { classes: typeof width === 'number' ? width : undefined };
}

/** Why `k` cannot rank output `name` (Triton's classification extension), or undefined. */
function classificationProblem(
  contract: ModelContract,
  name: string,
  k: unknown,
): string | undefined {
  const ranked = rankable(contract, name);
  if (!ranked) {
    return contract.task === 'tensor'
      ? 'classification ranks a numeric output of shape [batch, classes]; this output is not one'
      : 'only the class-probability output supports classification';
  }
  const most = ranked.classes ?? Number.MAX_SAFE_INTEGER;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > most) {
    return ranked.classes
      ? `must be a whole number from 1 to ${ranked.classes}`
      : 'must be a whole number of at least 1';
  }
  return undefined;
}

/**
 * The top `k` of each row, best first, as Triton's classification extension writes them:
 * `"value:index"`, with `:label` when the classes have labels.
 */
function topK(
  scores: (row: number) => ArrayLike<number>,
  rows: number,
  k: number,
  labels: readonly string[],
): string[] {
  const data: string[] = [];
  for (let r = 0; r < rows; r++) {
    const values = scores(r);
    const order = Array.from({ length: values.length }, (_, c) => c);
    order.sort((a, b) => values[b]! - values[a]!);
    for (const c of order.slice(0, k)) {
      const label = labels[c];
      data.push(label === undefined ? `${values[c]}:${c}` : `${values[c]}:${c}:${label}`);
    }
  }
  return data;
}

/** Every output the run produced (or the requested ones) as V2 tensors. */
export function outputTensorsOf(
  contract: ModelContract,
  outputs: Outputs,
  requested: ParsedInfer['outputs'] = contract.outputs.map((o) => ({ name: o.name })),
  /** Keep typed arrays (the binary encoder copies them whole); JSON needs plain arrays. */
  typed = false,
) {
  return requested.map(({ name, classification }) => {
    const n = outputs[name]!.dims[0] ?? 1;
    const tensor = outputs[name]!;
    const info = contract.outputs.find((o) => o.name === name)!;
    if (classification !== undefined && name === contract.outputNames.probabilities) {
      // Logits (or one positive-class column) are ranked, and reported, as probabilities.
      const probabilitiesOf = classProbabilities(contract);
      const values = tensor.data as ArrayLike<number>;
      const data = topK((r) => probabilitiesOf(values, r), n, classification, contract.labels);
      return { name, datatype: 'BYTES', shape: [n, classification], data };
    }
    if (classification !== undefined) {
      // A tensor model's [batch, C] output: its own values, ranked as they come out.
      const values = Array.from(tensor.data as ArrayLike<number | bigint>, Number);
      const width = n > 0 ? values.length / n : 0;
      const k = Math.min(classification, width);
      const row = (r: number) => values.slice(r * width, (r + 1) * width);
      return { name, datatype: 'BYTES', shape: [n, k], data: topK(row, n, k, []) };
    }
    return {
      name,
      datatype: v2DatatypeOf(info.type),
      shape: [...tensor.dims],
      data:
        Array.isArray(tensor.data) || typed
          ? tensor.data
          : Array.from(tensor.data as ArrayLike<number>),
    };
  });
}

/**
 * A validated V2 request run through the model: the rows (or tensors) are checked like every V2
 * request, batched, logged under `endpoint`, and answered as a V2 response. REST and gRPC share it.
 * Throws a ValidationError (400 / INVALID_ARGUMENT) or the batcher's HttpError (503, 504, 500).
 */
export async function runInfer(
  ctx: ServiceContext,
  body: InferRequest,
  requested: ParsedInfer['outputs'],
  call: {
    readonly requestId: string;
    readonly startedAt: number;
    readonly endpoint: string;
    /** Keep outputs as typed arrays (binary encodings copy them whole). */
    readonly typed: boolean;
    /** The deadline counts REQUEST_TIMEOUT_MS from here (default `startedAt`). */
    readonly deadlineFrom?: number;
  },
) {
  const { contract, config } = ctx;
  let outputs: Outputs;
  if (contract.kind === 'tensors') {
    const work = parseTensors(body.inputs, contract, {
      maxDim: config.maxDynamicDim,
      maxElements: config.maxTensorElements,
      maxRows: config.maxBatchRows,
    });
    outputs = (await ctx.predictTensors(work, call.deadlineFrom ?? call.startedAt)).outputs;
    ctx.recordTensors({
      requestId: call.requestId,
      endpoint: call.endpoint,
      inputs: work.tensors,
      outputs,
      latencyMs: performance.now() - call.startedAt,
    });
  } else {
    const { rows } = parseInfer(body, contract, config.maxBatchRows);
    outputs = (await ctx.predict(rows, call.deadlineFrom ?? call.startedAt)).outputs;
    ctx.record({
      requestId: call.requestId,
      endpoint: call.endpoint,
      rows,
      predictions: rows.map((_, i) => ctx.shape(outputs, i)),
      latencyMs: performance.now() - call.startedAt,
    });
  }
  return {
    model_name: contract.name,
    model_version: contract.version,
    id: body.id ?? call.requestId,
    // What POST /feedback names these predictions by: this id for one row, "<id>:<row>"
    // for row i of several (tensor models have no feedback).
    ...(contract.kind === 'tensors' ? {} : { parameters: { prediction_id: call.requestId } }),
    outputs: outputTensorsOf(contract, outputs, requested, call.typed),
  };
}

/** Binary-extension bodies are validated after their header is split off (see inferBody). */
function binaryOrJson(json: FastifySchemaCompiler<unknown>): FastifySchemaCompiler<unknown> {
  return (route) => {
    const validate = json(route) as (data: unknown) => { value?: unknown; error?: Error };
    return (data: unknown) => (Buffer.isBuffer(data) ? { value: data } : validate(data));
  };
}

/** The two paths of every model route: the model alone, or the model at a version. */
const modelBases = ['/v2/models/:name', '/v2/models/:name/versions/:version'];

/** The V2 REST surface: server metadata and health, then each model route at both its paths. */
export function v2Routes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    const errors = errorResponses(400, 404, 413, 415, 500, 503, 504);
    const modelMetadata = modelMetadataOf(ctx.contract);
    acceptBinaryBodies(app, ctx.config.bodyLimitBytes);
    serverRoutes(app, ctx);
    for (const base of modelBases) {
      modelMetadataRoute(app, ctx, base, modelMetadata);
      modelReadyRoute(app, ctx, base);
      inferRoute(app, ctx, base, errors);
    }
  };
}

/**
 * The binary tensor data extension: a JSON header of Inference-Header-Content-Length bytes, then
 * the tensors' raw bytes. Such bodies arrive as application/octet-stream, kept as a Buffer.
 */
function acceptBinaryBodies(app: FastifyInstance, bodyLimit: number): void {
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit },
    (_request, payload, done) => done(null, payload),
  );
}

/** The request as JSON, with binary tensors decoded into their `data`. */
function inferBody(request: FastifyRequest): InferRequest {
  const raw = request.headers['inference-header-content-length'];
  if (raw === undefined) {
    if (Buffer.isBuffer(request.body))
      throw new HttpError(
        400,
        'an application/octet-stream body needs the Inference-Header-Content-Length header',
      );
    return request.body as InferRequest;
  }
  const body = Buffer.isBuffer(request.body)
    ? request.body
    : Buffer.from(JSON.stringify(request.body));
  const { header, binary } = splitBinaryBody(body, Number(raw));
  const parsed = inferRequestSchema.safeParse(header);
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error));
  return { ...parsed.data, inputs: attachBinaryInputs(parsed.data, binary) } as InferRequest;
}

/** A 404 unless the route's `name` (and `version`, if given) are the served model's. */
function checkModel(contract: ModelContract, request: FastifyRequest): void {
  const { name, version } = request.params as { name: string; version?: string };
  checkModelName(contract, name, version);
}

/** Whether the service can answer predictions now (V2 readiness, server and model alike). */
function isReady(ctx: ServiceContext): boolean {
  return ctx.health().ready;
}

/** GET /v2 (server metadata), /v2/health/live and /v2/health/ready: open, like every probe. */
function serverRoutes(app: FastifyInstance, ctx: ServiceContext): void {
  app.get(
    '/v2',
    { config: publicRoute, schema: { tags: ['v2'], summary: 'Server metadata' } },
    async () => serverMetadata,
  );
  app.get(
    '/v2/health/live',
    {
      config: publicRoute,
      schema: {
        tags: ['v2'],
        summary: 'Server liveness (503 once the workers cannot be restored)',
      },
    },
    async (_request, reply) => {
      const { live } = ctx.health();
      if (!live) reply.code(503);
      return { live };
    },
  );
  app.get(
    '/v2/health/ready',
    {
      config: publicRoute,
      schema: { tags: ['v2'], summary: 'Server readiness (503 when not ready)' },
    },
    async (_request, reply) => {
      if (!isReady(ctx)) reply.code(503);
      return { ready: isReady(ctx) };
    },
  );
}

/** GET {base}: the model's metadata (a 404 for another model or version). */
function modelMetadataRoute(
  app: FastifyInstance,
  ctx: ServiceContext,
  base: string,
  modelMetadata: ReturnType<typeof modelMetadataOf>,
): void {
  app.get(
    base,
    { schema: { tags: ['v2'], summary: 'Model metadata', response: errorResponses(404) } },
    async (request) => {
      checkModel(ctx.contract, request);
      return modelMetadata;
    },
  );
}

/** GET {base}/ready: the model's readiness, 503 when not ready (404 for another model). */
function modelReadyRoute(app: FastifyInstance, ctx: ServiceContext, base: string): void {
  app.get(
    `${base}/ready`,
    {
      // A health probe of the protocol (KServe's readiness): open like /v2/health/ready.
      config: publicRoute,
      schema: {
        tags: ['v2'],
        summary: 'Model readiness (503 when not ready)',
        response: errorResponses(404),
      },
    },
    async (request, reply: FastifyReply) => {
      checkModel(ctx.contract, request);
      if (!isReady(ctx)) reply.code(503);
      return { name: ctx.contract.name, ready: isReady(ctx) };
    },
  );
}

/** POST {base}/infer: admitted, validated (JSON or binary), run, answered as JSON or binary. */
function inferRoute(
  app: FastifyInstance,
  ctx: ServiceContext,
  base: string,
  errors: Record<number, unknown>,
): void {
  app.post(
    `${base}/infer`,
    {
      schema: {
        tags: ['v2'],
        summary: 'Inference (Open Inference Protocol)',
        body: toJsonSchema(inferRequestSchema, 'input'),
        response: errors,
      },
      validatorCompiler: binaryOrJson(
        zodValidator(inferRequestSchema, fastInferRequestCheck(v2Datatypes)),
      ),
      onRequest: admit(ctx),
    },
    async (request, reply) => answerInfer(ctx, request, reply),
  );
}

/** The infer handler: model checked, body decoded, model run, outputs encoded as asked. */
async function answerInfer(ctx: ServiceContext, request: FastifyRequest, reply: FastifyReply) {
  checkModel(ctx.contract, request);
  const body = inferBody(request);
  const requested = requestedOutputs(body, ctx.contract);
  const binary = wantsBinaryOutputs(body);
  const anyBinary = binary === 'all' || binary.size > 0;
  const response = await runInfer(ctx, body, requested, {
    requestId: request.id,
    startedAt: request.startedAt,
    endpoint: 'v2/infer',
    typed: anyBinary,
  });
  if (anyBinary) {
    const encoded = encodeBinaryOutputs(response, binary);
    reply
      .header('inference-header-content-length', String(encoded.headerLength))
      .type('application/octet-stream');
    return encoded.body;
  }
  return response;
}
