/**
 * `POST /predict` of a tensor model: `{"<input>": <nested array>, ...}`, one member per graph
 * input, each shaped as the model's input (batch dimension included). The answer holds every
 * output by name as `{datatype, shape, data}` (data flat, row-major), as the V2 protocol does.
 * There is no `/predict/batch`: a tensor request carries its own batch dimension.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { type FieldIssue, ValidationError } from '../errors.js';
import {
  parseTensors,
  shapeOfNested,
  type TensorIn,
  v2DatatypeOf,
} from '../inference/tensor-request.js';
import { toJsonSchema } from '../model/schemas.js';
import type { ServiceContext } from '../context.js';
import type { ModelContract } from '../model/contract-types.js';
import { admit, errorResponses, zodValidator } from './common.js';
import { outputTensorsOf } from './v2.js';

/** `POST /predict` of a tensor model. */
export function tensorPredictRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    const { contract, config } = ctx;
    const body = tensorsBody(contract);
    const limits = {
      maxDim: config.maxDynamicDim,
      maxElements: config.maxTensorElements,
      maxRows: config.maxBatchRows,
    };
    app.post(
      '/predict',
      {
        schema: {
          tags: ['predict'],
          summary: `Run the ${contract.name} model on named tensors`,
          body: { ...toJsonSchema(body, 'input'), examples: [ctx.exampleBody] },
          response: errorResponses(400, 413, 415, 500, 503, 504),
        },
        validatorCompiler: zodValidator(body),
        onRequest: admit(ctx),
      },
      async (request) => {
        const work = parseTensors(
          tensorsOf(request.body as Record<string, unknown>, contract),
          contract,
          limits,
        );
        const result = await ctx.predictTensors(work, request.startedAt);
        ctx.recordTensors({
          requestId: request.id,
          endpoint: 'predict',
          inputs: work.tensors,
          outputs: result.outputs,
          latencyMs: performance.now() - request.startedAt,
        });
        const outputs = Object.fromEntries(
          outputTensorsOf(contract, result.outputs).map(({ name, ...t }) => [name, t]),
        );
        return {
          outputs,
          requestId: request.id,
          model: contract.name,
          modelVersion: contract.version,
        };
      },
    );
  };
}

/** The body: an object with one member per graph input, nothing else (described for OpenAPI). */
function tensorsBody(contract: ModelContract) {
  return z.strictObject(
    Object.fromEntries(
      contract.inputs.map((i) => [
        i.name,
        z
          .unknown()
          .describe(
            `${i.type} tensor [${i.shape.map((d) => (d === '' ? '?' : d)).join(', ')}] as nested arrays`,
          ),
      ]),
    ),
    {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? undefined
          : 'the body must be a JSON object of named tensors',
    },
  );
}

/** Each input's nested arrays as a tensor (its shape read from the nesting); 400 naming every input at fault. */
function tensorsOf(given: Record<string, unknown>, contract: ModelContract): TensorIn[] {
  const issues: FieldIssue[] = [];
  const tensors: TensorIn[] = [];
  for (const input of contract.inputs) {
    const value = given[input.name];
    if (value === undefined) {
      issues.push({ field: input.name, message: 'is required' });
      continue;
    }
    const shape = shapeOfNested(value);
    if (typeof shape === 'string') issues.push({ field: input.name, message: shape });
    else
      tensors.push({
        name: input.name,
        datatype: v2DatatypeOf(input.type),
        shape,
        data: shape.length === 0 ? [value] : value,
      });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return tensors;
}
