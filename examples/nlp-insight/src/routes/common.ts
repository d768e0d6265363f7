/**
 * Route helpers: zod validation inside Fastify's schema slot, shared error documentation.
 */
import type { FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { ServiceContext } from '../context.js';
import type { z } from 'zod';
import { ValidationError } from '../errors.js';
import { errorSchema, issuesOf, toJsonSchema } from '../model/schemas.js';

/**
 * Validates with zod; a failure is a 400 naming every bad field. `fast`, when given, is a compiled
 * check that accepts only what zod accepts unchanged (model/fast-validation.ts): a body it accepts
 * is used as it is, without zod's copy.
 */
export function zodValidator(
  schema: z.ZodType,
  fast?: (data: unknown) => boolean,
): FastifySchemaCompiler<unknown> {
  return () => (data: unknown) => {
    if (fast?.(data)) return { value: data };
    const result = schema.safeParse(data);
    return result.success
      ? { value: result.data }
      : { error: new ValidationError(issuesOf(result.error)) };
  };
}

const errorJson = toJsonSchema(errorSchema);

/** OpenAPI documentation of the error answers a route can give. */
export function errorResponses(...codes: number[]): Record<number, unknown> {
  const descriptions: Record<number, string> = {
    400: 'Invalid request: `details` names each bad field',
    404: 'Unknown model or version',
    413: 'Body larger than BODY_LIMIT_BYTES',
    415: 'Content-Type is not application/json',
    500: 'Internal error (the inference worker failed)',
    501: 'The model ships without the artifact this endpoint needs',
    503: 'Overloaded or not ready: retry after the Retry-After header',
    504: 'Deadline (REQUEST_TIMEOUT_MS) passed',
  };
  return Object.fromEntries(
    codes.map((c) => [c, { description: descriptions[c] ?? 'Error', ...errorJson }]),
  );
}

/**
 * Route hook of the prediction routes: sheds a request before its body is read or validated when
 * it could not be queued anyway.
 */
export function admit(ctx: ServiceContext) {
  return (_request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    done(ctx.admission());
  };
}

/**
 * `preValidation` hook of `/predict/batch`: refuses more than `maxRows` records before a single
 * one is validated, so an oversized batch costs its JSON parse and nothing more.
 */
export function rowLimit(maxRows: number) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    if (request.body instanceof OversizedBatch) {
      done(tooManyRows(request.body.counted, maxRows, true));
      return;
    }
    const instances = (request.body as { instances?: unknown } | null)?.instances;
    if (Array.isArray(instances) && instances.length > maxRows) {
      done(tooManyRows(instances.length, maxRows));
      return;
    }
    done();
  };
}

/**
 * The body of a batch the JSON parser did not parse because counting its records already passed
 * MAX_BATCH_ROWS (http/error-answers.ts): `rowLimit` answers it with the usual 400. (An error from
 * the parser itself would make Fastify close the connection.)
 */
export class OversizedBatch {
  constructor(readonly counted: number) {}
}

/** The 400 of a batch past MAX_BATCH_ROWS (`got` may be a lower bound: counting stops past it). */
export function tooManyRows(got: number, maxRows: number, atLeast = false): ValidationError {
  return new ValidationError([
    {
      field: 'instances',
      message: `must hold at most ${maxRows} records (MAX_BATCH_ROWS), got ${atLeast ? 'more' : got}: split the batch`,
    },
  ]);
}
