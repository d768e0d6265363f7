/**
 * Every error answer has one shape, `{"error": "<message>", "requestId": "..."}` (plus `details`
 * for validation), never a stack trace, a source path or the request's own URL echoed back. That
 * includes the errors Node's HTTP parser and Fastify's router raise before a route runs (400 on a
 * malformed request, 408, 431 on oversized headers, 414 on an oversized path parameter).
 */
import { countInstances } from './instance-count.js';
import { OversizedBatch } from '../routes/common.js';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { HttpError, ValidationError } from '../errors.js';
import type { Metrics } from '../metrics.js';

function send(reply: FastifyReply, status: number, body: Record<string, unknown>): void {
  reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

/** What a client error from Fastify or its body parsers becomes: status and message. */
function describeFastifyError(
  error: FastifyError,
  config: Config,
): { status: number; message: string; invalid?: boolean } {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        status: 413,
        message: `the request body is larger than ${config.bodyLimitBytes} bytes (BODY_LIMIT_BYTES)`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: 'unsupported Content-Type: send application/json' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: 'the JSON body is empty', invalid: true };
  }
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return { status: 400, message: 'the body is not valid JSON', invalid: true };
  }
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, message: error.message };
  }
  return { status: 500, message: 'internal error' };
}

export function errorHandler(config: Config, metrics: Metrics) {
  return (error: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply): void => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (error instanceof HttpError) {
      if (error.options.retryAfterSeconds !== undefined)
        reply.header('retry-after', String(error.options.retryAfterSeconds));
      for (const [name, value] of Object.entries(error.options.headers ?? {}))
        reply.header(name, value);
      if (error instanceof ValidationError) metrics.validationErrors.inc({ route });
      const { details } = error.options;
      send(reply, error.statusCode, {
        error: error.message,
        requestId: request.id,
        ...(details ? { details } : {}),
      });
      return;
    }
    const { status, message, invalid } = describeFastifyError(error, config);
    if (invalid) metrics.validationErrors.inc({ route });
    if (status >= 500) request.log.error({ err: error, requestId: request.id }, 'unhandled error');
    send(reply, status, { error: message, requestId: request.id });
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0]!;
  const shown = path.length > 100 ? `${path.slice(0, 100)}...` : path;
  send(reply, 404, { error: `no route ${request.method} ${shown}`, requestId: request.id });
}

/** Errors of Fastify's router (an oversized path parameter, a malformed URL). */
export function frameworkErrors(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    send(reply, 414, {
      error: 'a path parameter of the URL is too long (at most 100 characters)',
      requestId: request.id,
    });
    return;
  }
  send(reply, 400, { error: 'the URL is malformed', requestId: request.id });
}

/**
 * Errors of Node's HTTP parser, before a request exists: answered on the socket in the same shape
 * with a request id of their own, then the socket is closed.
 */
export function clientErrorHandler(nextId: () => string) {
  return (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason, message] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request was not received in time']
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
          : error.code === 'HPE_URI_TOO_LONG' || error.code === 'HPE_HEADER_OVERFLOW_URL'
            ? [414, 'URI Too Long', 'the URL is too long']
            : [400, 'Bad Request', 'the request is not valid HTTP'];
    const body = JSON.stringify({ error: message, requestId: nextId() });
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
}

const batchPath = '/predict/batch';

/**
 * The JSON body parser: Fastify's own (secure-json-parse, refusing `__proto__` and
 * `constructor.prototype` keys), except that a refused key is named instead of being called
 * "not valid JSON". Only the refusal path parses a second time.
 */
export function jsonBodyParser(
  app: FastifyInstance,
  { maxBatchRows }: { maxBatchRows: number },
): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    // A batch past MAX_BATCH_ROWS is refused on a count of its bytes, before JSON.parse builds
    // every record (instance-count.ts): an oversized batch costs its count, not its parse.
    // The raw path, not `routeOptions.url`: Fastify builds routeOptions afresh on every read.
    // (A query string must not skip the count.)
    if (request.url === batchPath || request.url.startsWith(`${batchPath}?`)) {
      const count = countInstances(body as Buffer, maxBatchRows);
      if (count !== undefined && count > maxBatchRows) {
        done(null, new OversizedBatch(count));
        return;
      }
    }
    parse(request, body as Buffer as unknown as string, (error, value) => {
      if (
        error &&
        (error as FastifyError).code === 'FST_ERR_CTP_INVALID_JSON_BODY' &&
        isJson((body as Buffer).toString('utf8'))
      ) {
        done(
          new HttpError(
            400,
            '"__proto__" is not allowed as a key (nor "constructor" holding "prototype")',
          ),
          undefined,
        );
        return;
      }
      done(error, value);
    });
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
