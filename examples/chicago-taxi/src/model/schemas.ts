/**
 * Request and response schemas, built with zod from the model contract. The same schemas validate
 * requests, shape the responses and feed the OpenAPI document (through `toJsonSchema`), so the
 * docs cannot disagree with what the service accepts.
 */
import { z } from 'zod';
import type { FieldIssue } from '../errors.js';
import type { Feature, ModelContract, NumericFeature, TensorType } from './contract-types.js';

/** A validated record: feature name -> value (null only for nullable features). */
export type Row = Record<string, number | string | null>;

const float32Max = 3.4028234663852886e38;

/** The range a tensor element type can carry, so nothing overflows to Infinity or wraps. */
function typeRange(t: TensorType): [number, number] {
  switch (t) {
    case 'float32':
      return [-float32Max, float32Max];
    case 'int32':
      return [-2147483648, 2147483647];
    case 'int64':
      return [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    default:
      return [-Number.MAX_VALUE, Number.MAX_VALUE];
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function listed(values: readonly string[]): string {
  const shown = values.slice(0, 20).map((v) => JSON.stringify(v));
  return values.length > 20
    ? `${shown.join(', ')}, ... (${values.length} in all)`
    : shown.join(', ');
}

/** The values a numeric feature takes: its own range, within what its tensor type can carry. */
export function numberRange(f: NumericFeature): [number, number] {
  const [typeMin, typeMax] = typeRange(f.tensorType);
  return [Math.max(f.min ?? -Infinity, typeMin), Math.min(f.max ?? Infinity, typeMax)];
}

export function featureSchema(
  f: Feature,
  contract: ModelContract,
): z.ZodType<number | string | null> {
  switch (f.type) {
    case 'number':
    case 'integer': {
      const [min, max] = numberRange(f);
      const kind = f.type === 'integer' ? 'a whole number' : 'a number';
      let s = z.number({
        error: (iss) =>
          iss.input === undefined
            ? 'is required'
            : typeof iss.input === 'number'
              ? 'must be a finite number'
              : `must be ${kind}, got ${typeName(iss.input)}`,
      });
      if (f.type === 'integer') s = s.int({ error: 'must be a whole number' });
      s = s
        .min(min, { error: `must be at least ${min}` })
        .max(max, { error: `must be at most ${max}` });
      const described = f.description ? s.describe(f.description) : s;
      return f.nullable
        ? described
            .nullable()
            .optional()
            .transform((v) => v ?? null)
        : described;
    }
    case 'category': {
      const accepted = f.categories.length > 0 && contract.unknownCategories === 'reject';
      const base = accepted
        ? z.enum(f.categories as [string, ...string[]], {
            error: (iss) =>
              iss.input === undefined
                ? 'is required'
                : typeof iss.input === 'string'
                  ? `unknown category ${JSON.stringify(iss.input.slice(0, 100))}; expected one of ${listed(f.categories)}`
                  : `must be a string, got ${typeName(iss.input)}`,
          })
        : z
            .string({
              error: (iss) =>
                iss.input === undefined
                  ? 'is required'
                  : `must be a string, got ${typeName(iss.input)}`,
            })
            .min(1, { error: 'must not be empty' })
            .max(200, { error: 'must be at most 200 characters' });
      const described = f.description ? base.describe(f.description) : base;
      return f.nullable
        ? described
            .nullable()
            .optional()
            .transform((v) => v ?? null)
        : described;
    }
    case 'text': {
      const s = z
        .string({
          error: (iss) =>
            iss.input === undefined
              ? 'is required'
              : `must be a string, got ${typeName(iss.input)}`,
        })
        .min(f.minLength, {
          error:
            f.minLength === 1 ? 'must not be empty' : `must be at least ${f.minLength} characters`,
        })
        .max(f.maxLength, { error: `must be at most ${f.maxLength} characters` })
        .refine((v) => v.trim().length > 0, { error: 'must not be only whitespace' });
      return f.description ? s.describe(f.description) : s;
    }
  }
}

/** Built once per contract: a zod schema costs far more to build than to run. */
const recordSchemas = new WeakMap<ModelContract, z.ZodType<Row>>();

/** The schema of one record of the model's features (cached per contract). */
export function recordSchema(contract: ModelContract): z.ZodType<Row> {
  let schema = recordSchemas.get(contract);
  if (!schema) {
    schema = buildRecordSchema(contract);
    recordSchemas.set(contract, schema);
  }
  return schema;
}

function buildRecordSchema(contract: ModelContract): z.ZodType<Row> {
  const shape: Record<string, z.ZodType<number | string | null | undefined>> = {};
  for (const f of contract.features) shape[f.name] = featureSchema(f, contract);
  // The entity the record is about (the sidecar's monitoring.entityId): logged with the
  // prediction so that truth keyed by it joins later; never given to the model.
  const entity = contract.monitoring?.entityId;
  if (entity !== undefined && !(entity in shape)) {
    shape[entity] = z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('Optional: your id of what this prediction is about; POST /feedback may name it.');
  }
  return z
    .strictObject(shape, {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? undefined
          : `the body must be a JSON object of features, got ${typeName(iss.input)}`,
    })
    .describe(
      `One record: a value for each feature of the ${contract.name} model.`,
    ) as unknown as z.ZodType<Row>;
}

export function batchSchema(contract: ModelContract, maxRows: number) {
  return z.strictObject(
    {
      instances: z
        .array(recordSchema(contract), {
          error: (iss) => (iss.input === undefined ? 'is required' : 'must be an array of records'),
        })
        .min(1, { error: 'must hold at least one record' })
        .max(maxRows, { error: `must hold at most ${maxRows} records` }),
    },
    {
      error: (iss) =>
        iss.code === 'unrecognized_keys'
          ? undefined
          : 'the body must be a JSON object {"instances": [...]}',
    },
  );
}

/** One issue per bad field (the first zod found); unknown fields are listed one by one. */
export function issuesOf(
  error: z.ZodError,
  prefix: readonly (string | number)[] = [],
): FieldIssue[] {
  const out: FieldIssue[] = [];
  const seen = new Set<string>();
  const add = (field: string, message: string) => {
    if (seen.has(field)) return;
    seen.add(field);
    out.push({ field, message });
  };
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add([...path, key].join('.'), 'unknown field');
    } else {
      add(path.length > 0 ? path.join('.') : '(body)', issue.message);
    }
  }
  return out;
}

const probabilitiesOf = (contract: ModelContract) =>
  z
    .strictObject(Object.fromEntries(contract.labels.map((l) => [l, z.number().min(0).max(1)])))
    .describe('Probability of each class.');

const outputValue = z.union([z.number(), z.string(), z.array(z.union([z.number(), z.string()]))]);

/** The outputs without a role, by name: one value, or one array of values, per row. */
function extraOutputsOf(contract: ModelContract) {
  return z
    .strictObject(Object.fromEntries(contract.extraOutputs.map((n) => [n, outputValue])))
    .describe('Every other output of the model, by name.');
}

/** What one prediction looks like in `/predict` and `/predict/batch` answers. */
export function predictionSchema(contract: ModelContract) {
  const extras = contract.extraOutputs.length > 0 ? { outputs: extraOutputsOf(contract) } : {};
  if (contract.task === 'tensor') return z.object({ outputs: extraOutputsOf(contract) });
  const predictionId = z
    .string()
    .describe('Names this prediction in POST /feedback (the request id, ":<row>" in a batch).');
  if (contract.task === 'regression') {
    return z.object({
      prediction: z.number().describe('The predicted value.'),
      ...extras,
      predictionId,
    });
  }
  return z.object({
    label: z.enum(contract.labels as [string, ...string[]]).describe('The predicted class.'),
    probabilities: probabilitiesOf(contract),
    ...extras,
    predictionId,
  });
}

export function predictResponseSchema(contract: ModelContract) {
  const common = {
    requestId: z.string(),
    model: z.literal(contract.name),
    modelVersion: z.string(),
    ...(contract.threshold !== undefined
      ? {
          threshold: z
            .number()
            .describe(
              `Applied decision threshold: ${contract.positiveLabel ?? 'the positive class'} when its probability is at least this.`,
            ),
        }
      : {}),
  };
  return predictionSchema(contract).extend(common);
}

export function batchResponseSchema(contract: ModelContract) {
  return z.object({
    requestId: z.string(),
    model: z.literal(contract.name),
    modelVersion: z.string(),
    ...(contract.threshold !== undefined ? { threshold: z.number() } : {}),
    predictions: z.array(predictionSchema(contract)),
  });
}

export const errorSchema = z.object({
  error: z.string(),
  requestId: z.string().optional(),
  details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** JSON Schema (draft 7, as Fastify and OpenAPI 3.0 read it) of a zod schema. */
export function toJsonSchema(
  schema: z.ZodType,
  io: 'input' | 'output' = 'output',
): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}
