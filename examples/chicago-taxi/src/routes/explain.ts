/**
 * `POST /explain`: per-feature contributions for one record (Shapley values by permutation
 * sampling against the background sample shipped with the model), computed by a separate
 * low-priority worker so explanations never queue in front of predictions.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError, ValidationError } from '../errors.js';
import { type ExplainCost, explainCost, maxSamples } from '../inference/explain-budget.js';
import { type Row, recordSchema, toJsonSchema } from '../model/schemas.js';
import type { Explanation, ServiceContext } from '../context.js';
import type { ModelContract } from '../model/contract-types.js';
import { errorResponses, zodValidator } from './common.js';

/** The query string of /explain: `samples`, a whole number from 2 to 2000 (EXPLAIN_SAMPLES). */
const explainQuery = z.strictObject({
  samples: z
    .string()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(2, { error: 'must be at least 2' })
        .max(2000, { error: 'must be at most 2000' }),
    )
    .optional(),
});

/** `POST /explain`: one record's per-feature contributions, computed by the explanation worker. */
export function explainRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    const { contract } = ctx;
    const record = recordSchema(contract);
    const target = explainedOutput(contract);

    app.post(
      '/explain',
      {
        schema: {
          tags: ['model'],
          summary: 'Per-feature contributions to one prediction (permutation Shapley values)',
          querystring: toJsonSchema(explainQuery, 'input'),
          body: { ...toJsonSchema(record, 'input'), examples: [ctx.exampleRow] },
          response: errorResponses(400, 501, 503, 504),
        },
        validatorCompiler: ({ httpPart }) =>
          zodValidator(httpPart === 'querystring' ? explainQuery : record)({} as never),
        // Before the body is read: a busy explanation worker or a bad `samples` cost nothing.
        onRequest: admitExplanation(ctx),
      },
      async (request) => answerExplain(ctx, target, request),
    );
  };
}

/** The name of the output an explanation explains, given the column the worker explained. */
function explainedOutput(contract: ModelContract): (column: number) => string {
  return contract.task === 'regression'
    ? () => 'prediction'
    : contract.task === 'binary' && contract.positiveLabel !== undefined
      ? () => `P(${contract.positiveLabel})`
      : (column: number) => `P(${contract.labels[column]})`;
}

/** The onRequest hook of /explain: 400 for a bad `samples`, else the explanation admission. */
function admitExplanation(ctx: ServiceContext) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    const parsed = explainQuery.safeParse(request.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.length > 0 ? String(issue.path[0]) : 'query';
      done(new ValidationError([{ field, message: issue.message }]));
      return;
    }
    done(ctx.explainAdmission());
  };
}

/** The /explain handler: the record explained within the work budget, largest first. */
async function answerExplain(
  ctx: ServiceContext,
  target: (column: number) => string,
  request: FastifyRequest,
) {
  const { contract, model, config } = ctx;
  if (!ctx.explainAvailable) throw noBackground(contract);
  const row = request.body as Row;
  const samples = (request.query as { samples?: number }).samples ?? config.explainSamples;
  const cost = affordableCost(contract, config.explainMaxWork, row, samples);
  const started = performance.now();
  const result = await ctx.explain(row, samples, cost.chunkRows);
  const contributions = contributionsOf(contract, row, result);
  return {
    requestId: request.id,
    model: contract.name,
    modelVersion: contract.version,
    method: 'permutation-shapley',
    output: target(result.column),
    value: result.value,
    baseValue: result.baseValue,
    contributions,
    samples: result.samples,
    backgroundRows: model.background?.length ?? 0,
    modelEvaluations: result.evaluations,
    durationMs: Math.round((performance.now() - started) * 100) / 100,
  };
}

/** The 501 of a model that ships no background sample (or whose background file is missing). */
function noBackground(contract: ModelContract): HttpError {
  return new HttpError(
    501,
    `explanations are unavailable: the model ships no background sample${
      contract.artifacts.background
        ? ` (${contract.artifacts.background} is missing beside the model)`
        : ' (add background.json beside the model)'
    }`,
  );
}

/** The explanation's cost, or a 400 on `samples` when it exceeds EXPLAIN_MAX_WORK. */
function affordableCost(
  contract: ModelContract,
  maxWork: number,
  row: Row,
  samples: number,
): ExplainCost {
  const cost = explainCost(contract, row, samples);
  if (cost.work > maxWork) {
    const most = maxSamples(contract, cost, maxWork);
    throw new ValidationError([
      {
        field: 'samples',
        message: `${samples} samples x ${contract.features.length + 1} evaluations x ${cost.tokens} tokens = ${cost.work} exceeds EXPLAIN_MAX_WORK (${maxWork}): ${most >= 2 ? `ask for at most ${most} samples` : 'shorten the text'}`,
      },
    ]);
  }
  return cost;
}

/** Each feature's value and contribution (with its standard error), largest contribution first. */
function contributionsOf(contract: ModelContract, row: Row, result: Explanation) {
  return contract.features
    .map((f, i) => ({
      feature: f.name,
      value: row[f.name] ?? null,
      contribution: result.contributions[i]!,
      standardError: result.standardErrors[i]!,
    }))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
}
