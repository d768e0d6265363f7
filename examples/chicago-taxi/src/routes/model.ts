/**
 * `GET /model` (what the service serves) and `GET /monitoring/drift` (PSI per feature).
 */
import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../errors.js';
import type { ServiceContext } from '../context.js';
import { errorResponses } from './common.js';

/** `GET /model` (what the service serves) and `GET /monitoring/drift` (PSI per feature). */
export function modelRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    const { config } = ctx;
    const metadata = modelMetadata(ctx);
    app.get(
      '/model',
      {
        schema: {
          tags: ['model'],
          summary: 'Model metadata: features, outputs, labels, threshold, training metrics',
        },
      },
      async () => metadata,
    );

    app.get(
      '/monitoring/drift',
      {
        schema: {
          tags: ['model'],
          summary: `Input drift: PSI per feature over the last ${config.driftWindow} predictions against the training baseline`,
          response: errorResponses(501),
        },
      },
      async () => driftReport(ctx),
    );
  };
}

/** The body of GET /model: the contract, the loaded artifacts and the serving limits. */
function modelMetadata(ctx: ServiceContext) {
  const { contract, model, config } = ctx;
  return {
    name: contract.name,
    version: contract.version,
    task: contract.task,
    description: contract.description,
    sha256: model.sha256,
    contractSha256: contract.sha256,
    bytes: model.bytes,
    kind: contract.kind,
    layout: contract.layout,
    batching: contract.batching,
    inputs: contract.inputs,
    outputs: contract.outputs,
    outputRoles: contract.outputNames,
    extraOutputs: contract.extraOutputs,
    origin: contract.origin ?? null,
    features: contract.features,
    labels: contract.labels,
    positiveLabel: contract.positiveLabel ?? null,
    threshold: contract.threshold ?? null,
    thresholdRationale: contract.thresholdRationale ?? null,
    unknownCategories: contract.unknownCategories,
    trainingMetrics: model.metrics,
    artifacts: {
      driftBaseline: model.driftBaseline !== null,
      background: model.background !== null,
      golden: model.golden !== null,
      metrics: model.metrics !== null,
      missing: model.missing,
    },
    serving: {
      workers: config.workers,
      maxBatchSize: config.maxBatchSize,
      maxBatchDelayMs: config.maxBatchDelayMs,
      maxQueue: config.maxQueue,
      queueTimeoutMs: config.queueTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      maxBatchRows: config.maxBatchRows,
      maxDynamicDim: config.maxDynamicDim,
      maxTensorElements: config.maxTensorElements,
    },
  };
}

/** The drift report, its PSI values published as gauges; a 501 when the model ships no baseline. */
function driftReport(ctx: ServiceContext) {
  const { contract } = ctx;
  if (!ctx.drift) {
    throw new HttpError(
      501,
      `drift monitoring is unavailable: the model ships no drift baseline${
        contract.artifacts.driftBaseline
          ? ` (${contract.artifacts.driftBaseline} is missing beside the model)`
          : ' (add drift_baseline.json beside the model)'
      }`,
    );
  }
  const report = ctx.drift.report();
  for (const f of report.features)
    if (f.psi !== null) ctx.metrics.driftPsi.set({ feature: f.name }, f.psi);
  return report;
}
