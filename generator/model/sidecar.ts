/**
 * The optional `model.schema.json` beside a model: names, ranges, categories, labels, threshold and
 * the artifacts (drift baseline, background sample, golden predictions...). `docs/model-artifacts.md`
 * explains every field; this schema is what is enforced.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { taskKinds } from '../answers/schema.js';
import { classScoreForms } from './contract.js';

const featureName = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
    'must be an identifier (letters, digits, "_"; at most 64)',
  );
const description = z.string().max(500).optional();

export const sidecarFeatureSchema = z.discriminatedUnion('type', [
  z
    .object({
      name: featureName,
      type: z.enum(['number', 'integer']),
      description,
      min: z.number().optional(),
      max: z.number().optional(),
      nullable: z.boolean().default(false),
    })
    .strict()
    .refine((f) => f.min === undefined || f.max === undefined || f.min <= f.max, {
      message: 'min must not exceed max',
    }),
  z
    .object({
      name: featureName,
      type: z.literal('category'),
      description,
      categories: z.array(z.string().min(1).max(200)).min(1).max(10_000),
      nullable: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      name: featureName,
      type: z.literal('text'),
      description,
      minLength: z.number().int().min(1).default(1),
      maxLength: z.number().int().min(1).max(1_000_000).default(5000),
    })
    .strict(),
]);
export type SidecarFeature = z.output<typeof sidecarFeatureSchema>;

const artifactPath = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, 'must be a file name beside model.schema.json (no directories)');

export const sidecarSchema = z
  .object({
    $schema: z.string().optional(),
    schemaVersion: z.literal(1),
    name: z
      .string()
      .regex(/^[a-z]([-a-z0-9]*[a-z0-9])?$/)
      .max(63),
    version: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._+-]+$/),
    task: z.enum(taskKinds).optional(),
    description: z.string().max(500).optional(),
    features: z.array(sidecarFeatureSchema).min(1).optional(),
    outputs: z
      .object({ label: z.string(), probabilities: z.string(), prediction: z.string() })
      .partial()
      .strict()
      .optional(),
    labels: z.array(z.string().min(1).max(100)).min(2).optional(),
    /** How the class-probability output holds the scores, when the graph's last operator misleads. */
    scores: z.enum(classScoreForms).optional(),
    positiveLabel: z.string().optional(),
    threshold: z.number().gt(0).lt(1).optional(),
    thresholdRationale: z.string().max(2000).optional(),
    unknownCategories: z.enum(['reject', 'accept']).default('reject'),
    monitoring: z
      .object({
        entityId: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain field name')
          .max(64)
          .optional(),
        slices: z
          .array(
            z
              .object({
                feature: z.string().min(1),
                edges: z
                  .array(z.number())
                  .min(1)
                  .max(20)
                  .refine((e) => e.every((v, i) => i === 0 || v > e[i - 1]!), 'must ascend')
                  .optional(),
              })
              .strict(),
          )
          .max(10)
          .default([]),
        minSamples: z.number().int().min(1).max(1_000_000).default(200),
        tolerance: z.number().min(0).max(1).default(0.05),
      })
      .strict()
      .optional(),
    artifacts: z
      .object({
        driftBaseline: artifactPath,
        background: artifactPath,
        golden: artifactPath,
        metrics: artifactPath,
        modelCard: artifactPath,
        lineage: artifactPath,
      })
      .partial()
      .strict()
      .default({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.positiveLabel !== undefined && !s.labels?.includes(s.positiveLabel)) {
      ctx.addIssue({ code: 'custom', path: ['positiveLabel'], message: 'must be one of labels' });
    }
    const names = s.features?.map((f) => f.name) ?? [];
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup)
      ctx.addIssue({
        code: 'custom',
        path: ['features'],
        message: `feature "${dup}" appears twice`,
      });
  });
export type Sidecar = z.output<typeof sidecarSchema>;

/** Reads and validates a sidecar; every problem names its JSON path. */
export async function readSidecar(path: string): Promise<Sidecar> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new UserError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const result = sidecarSchema.safeParse(json);
  if (!result.success) {
    throw new UserError(
      `${path}: invalid model schema`,
      result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return result.data;
}
