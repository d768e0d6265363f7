/**
 * `POST /explain`: per-feature contributions for one record (Shapley values by permutation
 * sampling against the background sample shipped with the model), computed by a separate
 * low-priority worker so explanations never queue in front of predictions.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HttpError, ValidationError } from '../errors.js';
import { explainCost, maxSamples } from '../inference/explain-budget.js';
import { type Row, recordSchema, toJsonSchema } from '../model/schemas.js';
import type { ServiceContext } from '../context.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorResponses, zodValidator } from './common.js';

export function explainRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    const { contract, model, config } = ctx;

    const record = recordSchema(contract);
    const query = z.strictObject({
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
    const target =
      contract.task === 'regression'
        ? () => 'prediction'
        : contract.task === 'binary' && contract.positiveLabel !== undefined
          ? () => `P(${contract.positiveLabel})`
          : (column: number) => `P(${contract.labels[column]})`;

    app.post(
      '/explain',
      {
        schema: {
          tags: ['model'],
          summary: 'Per-feature contributions to one prediction (permutation Shapley values)',
          querystring: toJsonSchema(query, 'input'),
          body: { ...toJsonSchema(record, 'input'), examples: [ctx.exampleRow] },
          response: errorResponses(400, 501, 503, 504),
        },
        validatorCompiler: ({ httpPart }) =>
          zodValidator(httpPart === 'querystring' ? query : record)({} as never),
        // Before the body is read: a busy explanation worker or a bad `samples` cost nothing.
        onRequest: (request: FastifyRequest, _reply: FastifyReply, done) => {
          const parsed = query.safeParse(request.query);
          if (!parsed.success) {
            const issue = parsed.error.issues[0]!;
            const field = issue.path.length > 0 ? String(issue.path[0]) : 'query';
            done(new ValidationError([{ field, message: issue.message }]));
            return;
          }
          done(ctx.explainAdmission());
        },
      },
      async (request) => {
        if (!ctx.explainAvailable) {
          throw new HttpError(
            501,
            `explanations are unavailable: the model ships no background sample${
              contract.artifacts.background
                ? ` (${contract.artifacts.background} is missing beside the model)`
                : ' (add background.json beside the model)'
            }`,
          );
        }
        const row = request.body as Row;
        const samples = (request.query as { samples?: number }).samples ?? config.explainSamples;
        const cost = explainCost(contract, row, samples);
        if (cost.work > config.explainMaxWork) {
          const most = maxSamples(contract, cost, config.explainMaxWork);
          throw new ValidationError([
            {
              field: 'samples',
              message: `${samples} samples x ${contract.features.length + 1} evaluations x ${cost.tokens} tokens = ${cost.work} exceeds EXPLAIN_MAX_WORK (${config.explainMaxWork}): ${most >= 2 ? `ask for at most ${most} samples` : 'shorten the text'}`,
            },
          ]);
        }
        const started = performance.now();
        const result = await ctx.explain(row, samples, cost.chunkRows);
        const contributions = contract.features
          .map((f, i) => ({
            feature: f.name,
            value: row[f.name] ?? null,
            contribution: result.contributions[i]!,
            standardError: result.standardErrors[i]!,
          }))
          .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
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
      },
    );
  };
}
