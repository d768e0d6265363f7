/**
 * `POST /predict` (one record) and `POST /predict/batch` (up to MAX_BATCH_ROWS records), typed from
 * the model's features.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Prediction } from '../inference/outputs.js';
import {
  type Row,
  batchResponseSchema,
  batchSchema,
  predictResponseSchema,
  recordSchema,
  toJsonSchema,
} from '../model/schemas.js';
import type { ServiceContext } from '../context.js';
import type { ModelContract } from '../model/contract-types.js';
import { fastBatchCheck, fastRecordCheck } from '../model/fast-validation.js';
import { predictionIdOf } from '../monitoring/join-window.js';
import { admit, errorResponses, rowLimit, zodValidator } from './common.js';
import { tensorPredictRoutes } from './predict-tensors.js';

/** `POST /predict` and `POST /predict/batch` (a tensor model's own routes for a tensor model). */
export function predictRoutes(ctx: ServiceContext): FastifyPluginAsync {
  if (ctx.contract.kind === 'tensors') return tensorPredictRoutes(ctx);
  return async (app) => {
    const errors = errorResponses(400, 413, 415, 500, 503, 504);
    predictOneRoute(app, ctx, errors);
    predictBatchRoute(app, ctx, errors);
  };
}

/**
 * The answer to /predict, built without spreading objects on the hot path (the response schema
 * serializes exactly these members). A one-record request's predictionId is its request id
 * (predictionIdOf).
 */
function answerOf(contract: ModelContract) {
  const { name: model, version: modelVersion, threshold } = contract;
  return (p: Prediction, requestId: string): Record<string, unknown> =>
    'prediction' in p
      ? {
          prediction: p.prediction,
          outputs: p.outputs,
          predictionId: requestId,
          requestId,
          model,
          modelVersion,
        }
      : 'label' in p
        ? {
            label: p.label,
            probabilities: p.probabilities,
            outputs: p.outputs,
            predictionId: requestId,
            requestId,
            model,
            modelVersion,
            threshold,
          }
        : { outputs: p.outputs, requestId, model, modelVersion };
}

/** The `X-Entity-Id` header for the prediction log, when non-empty and at most 256 characters. */
function entityOf(request: FastifyRequest): { entityId?: string } {
  const entity = request.headers['x-entity-id'];
  return typeof entity === 'string' && entity.length > 0 && entity.length <= 256
    ? { entityId: entity }
    : {};
}

/** POST /predict: one record, validated, predicted, logged and answered. */
function predictOneRoute(
  app: FastifyInstance,
  ctx: ServiceContext,
  errors: Record<number, unknown>,
): void {
  const { contract } = ctx;
  const record = recordSchema(contract);
  const answer = answerOf(contract);
  app.post(
    '/predict',
    {
      schema: {
        tags: ['predict'],
        summary: `Predict one record with the ${contract.name} model`,
        body: { ...toJsonSchema(record, 'input'), examples: [ctx.exampleRow] },
        response: { 200: toJsonSchema(predictResponseSchema(contract)), ...errors },
      },
      validatorCompiler: zodValidator(record, fastRecordCheck(contract)),
      onRequest: admit(ctx),
    },
    async (request) => {
      const row = request.body as Row;
      const result = await ctx.predict([row], request.startedAt);
      const prediction = ctx.shape(result.outputs, 0);
      ctx.record({
        requestId: request.id,
        endpoint: 'predict',
        ...entityOf(request),
        rows: [row],
        predictions: [prediction],
        latencyMs: performance.now() - request.startedAt,
      });
      return answer(prediction, request.id);
    },
  );
}

/** POST /predict/batch: up to MAX_BATCH_ROWS records, each answered with its own predictionId. */
function predictBatchRoute(
  app: FastifyInstance,
  ctx: ServiceContext,
  errors: Record<number, unknown>,
): void {
  const { contract, config } = ctx;
  const batch = batchSchema(contract, config.maxBatchRows);
  const common = {
    model: contract.name,
    modelVersion: contract.version,
    ...(contract.threshold !== undefined ? { threshold: contract.threshold } : {}),
  };
  app.post(
    '/predict/batch',
    {
      schema: {
        tags: ['predict'],
        summary: `Predict up to ${config.maxBatchRows} records in one request`,
        body: { ...toJsonSchema(batch, 'input'), examples: [{ instances: [ctx.exampleRow] }] },
        response: { 200: toJsonSchema(batchResponseSchema(contract)), ...errors },
      },
      validatorCompiler: zodValidator(batch, fastBatchCheck(contract, config.maxBatchRows)),
      onRequest: admit(ctx),
      preValidation: rowLimit(config.maxBatchRows),
    },
    async (request) => {
      const rows = (request.body as { instances: Row[] }).instances;
      const result = await ctx.predict(rows, request.startedAt);
      const predictions = rows.map((_, i) => ctx.shape(result.outputs, i));
      ctx.record({
        requestId: request.id,
        endpoint: 'predict/batch',
        rows,
        predictions,
        latencyMs: performance.now() - request.startedAt,
      });
      const many = rows.length > 1;
      return {
        requestId: request.id,
        ...common,
        predictions: predictions.map((p, i) => ({
          ...p,
          predictionId: predictionIdOf(request.id, many ? i : undefined),
        })),
      };
    },
  );
}
