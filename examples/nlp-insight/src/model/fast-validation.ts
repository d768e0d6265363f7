/**
 * The fast path of request validation: a JSON Schema compiled by ajv that accepts a record (or a
 * batch of records) only when the zod schema of `schemas.ts` would accept it unchanged. A body it
 * accepts is used as it is; any other body goes to zod, which refuses it with the field-by-field
 * messages, or accepts it after its transforms (a missing nullable feature becomes null).
 *
 * Why: zod builds a copy of every record it checks, and on /predict that was about 4 µs of the
 * main thread's 29 per request (issue 17, ADR 0019); ajv's compiled check of the same rules reads
 * the record without copying it. Why not ajv alone: zod's messages are the service's error
 * contract. The rule the fast path must keep: never accept what zod refuses, never accept what zod
 * would change (the tests check it against zod over the validation matrix).
 *
 * Strings are measured in UTF-16 code units, as zod and JavaScript measure them: ajv's
 * `minLength`/`maxLength` count code points, so lengths are checked by non-Unicode patterns.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { Feature, ModelContract } from './contract-types.js';
import { numberRange } from './schemas.js';

type JsonSchema = Record<string, unknown>;

const ajv = new Ajv({
  unicodeRegExp: false,
  allErrors: false,
  strict: true,
  allowUnionTypes: true,
});

/** A string of `min` to `max` UTF-16 code units (`nonBlank`: not only whitespace). */
function stringOf(min: number, max: number, nonBlank = false): JsonSchema {
  return {
    type: 'string',
    pattern: `^${nonBlank ? '(?=[\\s\\S]*\\S)' : ''}[\\s\\S]{${min},${max}}$`,
  };
}

function featureRule(f: Feature, contract: ModelContract): JsonSchema {
  let rule: JsonSchema;
  switch (f.type) {
    case 'number':
    case 'integer': {
      const [min, max] = numberRange(f);
      rule =
        f.type === 'integer'
          ? {
              type: 'integer',
              // zod's int() is a safe integer
              minimum: Math.max(min, Number.MIN_SAFE_INTEGER),
              maximum: Math.min(max, Number.MAX_SAFE_INTEGER),
            }
          : { type: 'number', minimum: min, maximum: max };
      break;
    }
    case 'category':
      rule =
        f.categories.length > 0 && contract.unknownCategories === 'reject'
          ? { type: 'string', enum: [...f.categories] }
          : stringOf(1, 200);
      break;
    case 'text':
      rule = stringOf(f.minLength, f.maxLength, true);
      break;
  }
  // A nullable feature may be null; missing, it is left to zod (which sets it to null).
  return f.type !== 'text' && f.nullable ? { anyOf: [rule, { type: 'null' }] } : rule;
}

/** The JSON Schema of one record that zod accepts unchanged. */
export function strictRecordSchema(contract: ModelContract): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const f of contract.features) properties[f.name] = featureRule(f, contract);
  const entity = contract.monitoring?.entityId;
  if (entity !== undefined && !(entity in properties)) properties[entity] = stringOf(1, 256);
  return {
    type: 'object',
    properties,
    required: contract.features.map((f) => f.name),
    additionalProperties: false,
  };
}

const records = new WeakMap<ModelContract, ValidateFunction>();
const batches = new WeakMap<ModelContract, Map<number, ValidateFunction>>();

/** The compiled fast check of one record (cached per contract). */
export function fastRecordCheck(contract: ModelContract): ValidateFunction {
  let check = records.get(contract);
  if (!check) {
    check = ajv.compile(strictRecordSchema(contract));
    records.set(contract, check);
  }
  return check;
}

/** The compiled fast check of a `{"instances": [...]}` batch of at most `maxRows` records. */
export function fastBatchCheck(contract: ModelContract, maxRows: number): ValidateFunction {
  let byRows = batches.get(contract);
  if (!byRows) batches.set(contract, (byRows = new Map()));
  let check = byRows.get(maxRows);
  if (!check) {
    check = ajv.compile({
      type: 'object',
      properties: {
        instances: {
          type: 'array',
          minItems: 1,
          maxItems: maxRows,
          items: strictRecordSchema(contract),
        },
      },
      required: ['instances'],
      additionalProperties: false,
    });
    byRows.set(maxRows, check);
  }
  return check;
}

/** A V2 request's `parameters`: names to strings, finite numbers or booleans. */
const v2Parameters: JsonSchema = {
  type: 'object',
  additionalProperties: { type: ['string', 'number', 'boolean'] },
};

let v2Check: ValidateFunction | undefined;

/**
 * The compiled fast check of a V2 inference request's envelope (routes/v2.ts's
 * `inferRequestSchema`, which has no transforms): what it accepts, zod accepts unchanged.
 */
export function fastInferRequestCheck(datatypes: readonly string[]): ValidateFunction {
  v2Check ??= ajv.compile({
    type: 'object',
    properties: {
      id: stringOf(0, 256),
      parameters: v2Parameters,
      inputs: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: {
            name: stringOf(1, 256),
            shape: {
              type: 'array',
              maxItems: 8,
              items: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
            },
            datatype: { type: 'string', enum: [...datatypes] },
            parameters: v2Parameters,
            data: { type: 'array' },
          },
          required: ['name', 'shape', 'datatype'],
          additionalProperties: false,
        },
      },
      outputs: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: stringOf(1, 256), parameters: v2Parameters },
          required: ['name'],
          additionalProperties: false,
        },
      },
    },
    required: ['inputs'],
    additionalProperties: false,
  });
  return v2Check;
}
