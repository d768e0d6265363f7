/**
 * Ground truth and live quality:
 *
 *   POST /feedback                 {"feedback": [{"predictionId": "...", "label": "..."}]} (a
 *                                  regressor's: "value"), or "entityId" + "observedAt" instead
 *                                  of "predictionId"; at most MAX_BATCH_ROWS items
 *   GET  /monitoring/performance   the task's metrics over the joined pairs, overall and per
 *                                  slice, with the floors from metrics.json
 *
 * Feedback is validated like a prediction (a label the model does not have is a 400 naming it);
 * an id the window does not hold (unknown, expired, or already given its truth) is counted and
 * reported, not an error: truth often arrives late or twice. Every accepted item is written to the
 * feedback log (FEEDBACK_LOG_PATH), which the sidecar ships beside the prediction log.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ServiceContext } from '../context.js';
import type { FeedbackRecord, JoinOutcome } from '../monitoring/join-window.js';
import { toJsonSchema } from '../model/schemas.js';
import { errorResponses, zodValidator } from './common.js';

const id = z.string().min(1).max(256);

function feedbackSchema(ctx: ServiceContext) {
  const { contract, config } = ctx;
  const truth =
    contract.task === 'regression'
      ? { value: z.number().finite().describe('The observed value.') }
      : {
          label: z
            .enum(contract.labels as [string, ...string[]], {
              error: (iss) =>
                `must be one of the model's labels: ${contract.labels.join(', ')} (got ${JSON.stringify(iss.input)})`,
            })
            .describe('The observed class.'),
        };
  const item = z
    .strictObject({
      predictionId: id.optional().describe('The predictionId of the answer this truth is about.'),
      entityId: id.optional().describe('Or: the entity the prediction was made for...'),
      observedAt: z.iso
        .datetime({ offset: true })
        .optional()
        .describe(
          '...and when the truth was observed (the latest prediction before it is joined).',
        ),
      ...truth,
    })
    .refine((f) => (f.predictionId === undefined) !== (f.entityId === undefined), {
      error: 'give either predictionId or entityId (with observedAt)',
    });
  return z.strictObject({
    feedback: z
      .array(item)
      .min(1)
      .max(config.maxBatchRows, {
        error: `must hold at most ${config.maxBatchRows} items (MAX_BATCH_ROWS): split it`,
      }),
  });
}

const answerSchema = z.object({
  requestId: z.string(),
  accepted: z.number().int().describe('Items joined to a prediction of the window.'),
  unknown: z.number().int().describe('Items whose prediction the window does not hold.'),
  duplicates: z.number().int().describe('Items for a prediction that already had its truth.'),
  unknownIds: z.array(z.string()).describe('The first 20 unknown ids or entities.'),
});

export function feedbackRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    const quality = ctx.quality;
    if (!quality) return; // a tensor model: nothing to compare
    const body = feedbackSchema(ctx);
    app.post(
      '/feedback',
      {
        schema: {
          tags: ['monitoring'],
          summary: 'Ground truth for earlier predictions',
          body: toJsonSchema(body, 'input'),
          response: { 200: toJsonSchema(answerSchema), ...errorResponses(400, 413, 415) },
        },
        validatorCompiler: zodValidator(body),
      },
      async (request) => {
        const items = (request.body as { feedback: unknown[] }).feedback;
        const now = Date.now();
        const counts: Record<JoinOutcome, number> = { joined: 0, unknown: 0, duplicate: 0 };
        const unknownIds: string[] = [];
        for (const item of items as Array<{
          predictionId?: string;
          entityId?: string;
          observedAt?: string;
          label?: string;
          value?: number;
        }>) {
          const { observedAt, ...rest } = item;
          const f: FeedbackRecord = {
            ...rest,
            ...(observedAt !== undefined ? { observedAt: Date.parse(observedAt) } : {}),
          };
          const outcome = quality.addFeedback(f, now);
          counts[outcome] += 1;
          ctx.metrics.feedback.inc({ outcome });
          if (outcome === 'unknown' && unknownIds.length < 20)
            unknownIds.push(item.predictionId ?? `entity:${item.entityId}`);
          ctx.recordFeedback({ requestId: request.id, ...f, outcome }, now);
        }
        return {
          requestId: request.id,
          accepted: counts.joined,
          unknown: counts.unknown,
          duplicates: counts.duplicate,
          unknownIds,
        };
      },
    );

    app.get(
      '/monitoring/performance',
      {
        schema: {
          tags: ['monitoring'],
          summary: 'Live quality over the predictions that received their truth, by slice',
        },
      },
      async () => quality.report(),
    );
  };
}
