/**
 * The HTTP application (Fastify), built without listening so tests can call it in-process.
 * Routes live in `routes/`; this file holds what every route shares: request ids, metrics, the
 * error format (`{"error": "..."}`, never a stack trace) and the OpenAPI document.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import { HttpError, ValidationError } from './errors.js';
import { explainRoutes } from './routes/explain.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/model.js';
import { predictRoutes } from './routes/predict.js';
import { v2Routes } from './routes/v2.js';
import { serviceInfo } from './service-info.js';
import type { ServiceContext } from './service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() when the request arrived: deadlines and latency count from here. */
    startedAt: number;
  }
}

export interface AppHooks {
  /** A request arrived. */
  readonly onRequestStart?: () => void;
  /** Its response is done (sent, failed or abandoned by the client). */
  readonly onRequestEnd?: () => void;
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(
  ctx: ServiceContext,
  logger: FastifyBaseLogger,
  hooks: AppHooks = {},
): Promise<FastifyInstance> {
  const { config, metrics } = ctx;
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  const app = Fastify({
    loggerInstance: logger,
    // No per-request log lines: the prediction log and the metrics cover requests.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Slow clients cannot hold a socket forever; the inference deadline is REQUEST_TIMEOUT_MS.
    requestTimeout: Math.max(30_000, config.requestTimeoutMs * 2),
    keepAliveTimeout: 72_000,
    // Shutdown drains open connections itself (service.ts), instead of answering 503 to them.
    return503OnClosing: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      if (typeof given === 'string' && requestIdPattern.test(given)) return given;
      counter += 1;
      return `${prefix}-${counter.toString(36)}`;
    },
  });
  app.decorateRequest('startedAt', 0);

  const onRequestEnd = hooks.onRequestEnd;
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = performance.now();
    reply.header('x-request-id', request.id);
    if (onRequestEnd) {
      hooks.onRequestStart?.();
      // 'close' fires once per response, also when the client went away before the answer.
      reply.raw.once('close', onRequestEnd);
    }
    done();
  });
  // While draining, every answer (also to requests that arrived before SIGTERM) closes its
  // connection, so keep-alive clients reconnect elsewhere instead of reusing this pod.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (ctx.state.draining) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observeRequest(route, reply.statusCode, (performance.now() - request.startedAt) / 1000);
    done();
  });

  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    let status = 500;
    let message = 'internal error';
    let details: unknown;
    if (error instanceof HttpError) {
      status = error.statusCode;
      message = error.message;
      details = error.options.details;
      if (error.options.retryAfterSeconds !== undefined)
        reply.header('retry-after', String(error.options.retryAfterSeconds));
      if (error instanceof ValidationError) metrics.validationErrors.inc({ route });
    } else {
      const code = (error as FastifyError).code;
      if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        status = 413;
        message = `the request body is larger than ${config.bodyLimitBytes} bytes (BODY_LIMIT_BYTES)`;
      } else if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
        status = 415;
        message = 'unsupported Content-Type: send application/json';
      } else if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
        status = 400;
        message = 'the JSON body is empty';
        metrics.validationErrors.inc({ route });
      } else if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
        status = 400;
        message = 'the body is not valid JSON';
        metrics.validationErrors.inc({ route });
      } else if (
        typeof error.statusCode === 'number' &&
        error.statusCode >= 400 &&
        error.statusCode < 500
      ) {
        status = error.statusCode;
        message = error.message;
      }
    }
    if (status >= 500 && !(error instanceof HttpError)) {
      request.log.error({ err: error, requestId: request.id }, 'unhandled error');
    }
    reply
      .code(status)
      .type('application/json; charset=utf-8')
      .send(
        JSON.stringify(
          details
            ? { error: message, requestId: request.id, details }
            : { error: message, requestId: request.id },
        ),
      );
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: `no route ${request.method} ${request.url.split('?')[0]}`,
      requestId: request.id,
    });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: serviceInfo.name,
        version: serviceInfo.version,
        description: `${ctx.contract.description} Model ${ctx.contract.name} ${ctx.contract.version} (${ctx.contract.task}).`,
      },
      tags: [
        { name: 'predict', description: 'Typed predictions' },
        { name: 'v2', description: 'Open Inference Protocol (KServe V2)' },
        { name: 'model', description: 'Model metadata, drift and explanations' },
        { name: 'ops', description: 'Health and metrics' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes(ctx));
  await app.register(predictRoutes(ctx));
  await app.register(v2Routes(ctx));
  await app.register(modelRoutes(ctx));
  await app.register(explainRoutes(ctx));
  return app;
}
