/**
 * The model file and the artifacts shipped beside it (drift baseline, background sample, golden
 * predictions, training metrics), read once at start. A missing or unreadable model is fatal; an
 * artifact the contract names but the folder lacks is reported and its endpoint answers 501; an
 * artifact that exists but is malformed is fatal (it shipped broken).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Feature, ModelContract } from './contract-types.js';
import { externalWeightsProblem } from './external-weights.js';
import { lfsPointerProblem } from './lfs-pointer.js';
import { type Row, issuesOf, recordSchema } from './schemas.js';
import { exampleTensorBody } from './serving.js';

export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

const numericBaseline = z.object({
  kind: z.literal('numeric'),
  edges: z.array(z.number()).min(1),
  proportions: z.array(z.number().min(0)),
});
const categoricalBaseline = z.object({
  kind: z.literal('categorical'),
  frequencies: z.record(z.string(), z.number().min(0)),
});
const textBaseline = z.object({
  kind: z.literal('text'),
  lengthEdges: z.array(z.number()).min(1),
  proportions: z.array(z.number().min(0)),
});
export const driftBaselineSchema = z.object({
  sampleSize: z.number().int().min(1),
  features: z.record(
    z.string(),
    z.discriminatedUnion('kind', [numericBaseline, categoricalBaseline, textBaseline]),
  ),
});
export type DriftBaseline = z.infer<typeof driftBaselineSchema>;
export type FeatureBaseline = DriftBaseline['features'][string];

const goldenCase = z.union([
  z.object({
    input: z.record(z.string(), z.unknown()),
    label: z.union([z.string(), z.number()]),
    probabilities: z.array(z.number()),
  }),
  z.object({ input: z.record(z.string(), z.unknown()), prediction: z.number() }),
]);
export const goldenSchema = z.object({ cases: z.array(goldenCase).min(1) });
export type Golden = z.infer<typeof goldenSchema>;

export interface LoadedModel {
  readonly path: string;
  readonly dir: string;
  readonly bytes: number;
  /** sha256 of the file actually served (may differ from the contract's if the model was swapped). */
  readonly sha256: string;
  readonly driftBaseline: DriftBaseline | null;
  readonly background: readonly Row[] | null;
  readonly golden: Golden | null;
  readonly metrics: Record<string, unknown> | null;
  /** Artifacts the contract names that are not in the folder. */
  readonly missing: readonly string[];
}

async function readJson(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelLoadError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ModelLoadError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

function parsed<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = issuesOf(result.error).slice(0, 5);
    throw new ModelLoadError(
      `${path} is malformed: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    );
  }
  return result.data;
}

/** A baseline must describe this model's features, with one share per bin and ascending edges. */
export function checkDriftBaseline(
  contract: ModelContract,
  baseline: DriftBaseline,
  path: string,
): void {
  const unknown = Object.keys(baseline.features).filter(
    (n) => !contract.features.some((f) => f.name === n),
  );
  if (unknown.length > 0) {
    throw new ModelLoadError(
      `${path} names features the model does not have: ${unknown.join(', ')}`,
    );
  }
  for (const [name, b] of Object.entries(baseline.features)) {
    if (b.kind === 'categorical') continue;
    const edges = b.kind === 'numeric' ? b.edges : b.lengthEdges;
    if (b.proportions.length !== edges.length + 1) {
      throw new ModelLoadError(
        `${path}: feature "${name}" has ${b.proportions.length} proportions for ${edges.length + 1} bins`,
      );
    }
    if (edges.some((e, i) => i > 0 && e < edges[i - 1]!)) {
      throw new ModelLoadError(`${path}: feature "${name}" has edges that are not ascending`);
    }
  }
}

export async function loadModel(contract: ModelContract, modelPath: string): Promise<LoadedModel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(modelPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelLoadError(
      code === 'ENOENT'
        ? `model not found at ${modelPath} (set MODEL_PATH to the model.onnx file)`
        : `cannot read the model ${modelPath}: ${(err as Error).message}`,
    );
  }
  if (bytes.byteLength === 0) throw new ModelLoadError(`the model ${modelPath} is empty`);
  const pointer = lfsPointerProblem(bytes, modelPath);
  if (pointer) throw new ModelLoadError(pointer);
  const external = externalWeightsProblem(bytes, modelPath);
  if (external) throw new ModelLoadError(external);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const dir = dirname(modelPath);
  const missing: string[] = [];
  const artifact = async <T>(name: string | undefined, schema: z.ZodType<T>): Promise<T | null> => {
    if (!name) return null;
    const path = join(dir, name);
    const json = await readJson(path);
    if (json === undefined) {
      missing.push(name);
      return null;
    }
    return parsed(schema, json, path);
  };

  const driftBaseline = await artifact(contract.artifacts.driftBaseline, driftBaselineSchema);
  if (driftBaseline)
    checkDriftBaseline(contract, driftBaseline, join(dir, contract.artifacts.driftBaseline!));
  const backgroundDoc = await artifact(
    contract.artifacts.background,
    z.object({ rows: z.array(z.unknown()).min(1) }),
  );
  let background: Row[] | null = null;
  if (backgroundDoc) {
    const schema = recordSchema(contract);
    background = backgroundDoc.rows.map((row, i) => {
      const result = schema.safeParse(row);
      if (!result.success) {
        const issue = issuesOf(result.error)[0];
        throw new ModelLoadError(
          `background row ${i} does not fit the model: ${issue?.field}: ${issue?.message}`,
        );
      }
      return result.data;
    });
  }
  const golden = await artifact(contract.artifacts.golden, goldenSchema);
  const metrics = await artifact(contract.artifacts.metrics, z.record(z.string(), z.unknown()));
  return {
    path: modelPath,
    dir,
    bytes: bytes.byteLength,
    sha256,
    driftBaseline,
    background,
    golden,
    metrics,
    missing,
  };
}

/** A valid `/predict` body: a tensor model's example tensors, or an example record. */
export function exampleBody(
  contract: ModelContract,
  model?: Pick<LoadedModel, 'background' | 'golden'>,
): Record<string, unknown> {
  return contract.kind === 'tensors' ? exampleTensorBody(contract) : exampleRecord(contract, model);
}

/** A valid record: a background row, else a golden input, else one made from the feature ranges. */
export function exampleRecord(
  contract: ModelContract,
  model?: Pick<LoadedModel, 'background' | 'golden'>,
): Row {
  if (model?.background?.[0]) return model.background[0];
  const golden = model?.golden?.cases[0]?.input;
  if (golden) {
    const result = recordSchema(contract).safeParse(golden);
    if (result.success) return result.data;
  }
  return Object.fromEntries(contract.features.map((f) => [f.name, syntheticValue(f)]));
}

function syntheticValue(f: Feature): number | string {
  switch (f.type) {
    case 'number':
    case 'integer': {
      const lo = f.min ?? (f.max !== undefined ? Math.min(0, f.max) : 0);
      const hi = f.max ?? Math.max(lo, 1);
      const mid = lo + (hi - lo) / 2;
      return f.type === 'integer' ? Math.round(mid) : mid;
    }
    case 'category':
      return f.categories[0] ?? 'unknown';
    case 'text':
      return 'a short example text'
        .padEnd(f.minLength, '.')
        .slice(0, Math.max(f.minLength, Math.min(f.maxLength, 21)));
  }
}
