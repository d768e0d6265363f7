/**
 * The release gates of a new model version (`model-gates.json` at the project root), read by
 * `npm run model:check` and the model-release workflow. Every field has a default, so an absent
 * file means "the defaults"; a bad file is an error naming the field.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { issuesOf } from '../model/schemas.js';

const fairnessSchema = z.strictObject({
  /** A feature of the model: its categories, or bands of a numeric feature cut at `edges`. */
  attribute: z.string().min(1),
  edges: z.array(z.number()).min(1).optional(),
  /** The outcome whose rate is compared between groups (default: the positive label). */
  favorableLabel: z.string().min(1).optional(),
  /** Lowest group rate / highest group rate must be at least this (the four-fifths rule: 0.8). */
  minRatio: z.number().gt(0).max(1).default(0.8),
  /** Groups with fewer rows than this are reported but not compared. */
  minGroupSize: z.number().int().min(1).default(20),
  /** Records to predict on (JSON `{"cases":[{"input":{...}}]}` or JSONL of records); default golden.json. */
  data: z.string().min(1).optional(),
});

export const gatesSchema = z.strictObject({
  metrics: z
    .strictObject({
      /** A metric may be at most this fraction worse than the current model's (metrics.json). */
      tolerance: z.number().min(0).max(1).default(0.05),
      /** Absolute floors (ceilings for error metrics), on top of the relative ones. */
      floors: z.record(z.string(), z.number()).default({}),
    })
    .prefault({}),
  parity: z
    .strictObject({
      /** |served - golden| allowed per probability. */
      probabilityTolerance: z.number().min(0).default(1e-5),
      /** Allowed relative difference of a regression value. */
      relativeTolerance: z.number().min(0).default(1e-4),
    })
    .prefault({}),
  fairness: fairnessSchema.nullable().default(null),
  latency: z
    .strictObject({
      /** Median latency of the new model / the current one, same requests, same run. */
      maxRatio: z.number().min(1).default(1.5),
      /** Requests to each model (alternating), and rows per request. */
      requests: z.number().int().min(5).max(10_000).default(40),
      rows: z.number().int().min(1).max(10_000).default(100),
    })
    .prefault({}),
});

export type Gates = z.infer<typeof gatesSchema>;
export type FairnessGate = z.infer<typeof fairnessSchema>;

export class GatesError extends Error {}

/** The gates of `path`; the defaults when it does not exist. */
export async function readGates(path: string): Promise<Gates> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return gatesSchema.parse({});
    throw new GatesError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new GatesError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = gatesSchema.safeParse(json);
  if (!parsed.success) {
    const problems = issuesOf(parsed.error).map((i) => `${i.field}: ${i.message}`);
    throw new GatesError(`${path}: ${problems.join('; ')}`);
  }
  return parsed.data;
}
