/**
 * The HTTP application (Fastify), built without listening so tests can call it in-process.
 * Routes live in `routes/`; this file holds what every route shares: request ids, metrics, the
 * error format (`{"error": "..."}`, never a stack trace), authentication (`http/auth.ts`), CORS
 * and the rate limit (`http/exposure.ts`) and the OpenAPI document.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { HttpError } from './errors.js';
import { openApiPublicRoutes, openApiSecurity, registerAuth } from './http/auth.js';
import type { Authenticate } from './http/authenticator.js';
import { exposureHeaders, registerExposure } from './http/exposure.js';
import {
  clientErrorHandler,
  errorHandler,
  frameworkErrors,
  jsonBodyParser,
  notFoundHandler,
} from './http/error-answers.js';
import { challengerRoutes } from './routes/challenger.js';
import { explainRoutes } from './routes/explain.js';
import { feedbackRoutes } from './routes/feedback.js';
import { healthRoutes } from './routes/health.js';
import { modelRoutes } from './routes/model.js';
import { predictRoutes } from './routes/predict.js';
import { v2Routes } from './routes/v2.js';
import { serviceInfo } from './service-info.js';
import type { Config } from './config.js';
import type { ServiceContext } from './context.js';

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

/**
 * The service's Fastify application, routes registered, not listening. The order is the
 * contract: the request hooks, then authentication and exposure, then the error answers and body
 * parsers, then the OpenAPI document, then the routes.
 */
export async function buildApp(
  ctx: ServiceContext,
  logger: FastifyBaseLogger,
  hooks: AppHooks = {},
  authenticate?: Authenticate,
): Promise<FastifyInstance> {
  const { config, metrics } = ctx;
  const app = createFastify(config, logger, requestIdCounter());
  addRequestHooks(app, ctx, hooks);

  // After the hook above (request id, start time), before every route: refusals cost nothing more.
  registerAuth(app, authenticate);
  await registerExposure(app, config, ctx.rateLimit);

  app.setErrorHandler(errorHandler(config, metrics));
  app.setNotFoundHandler(notFoundHandler);
  // Only JSON bodies (and the V2 binary extension's own type): text/plain is a 415, not a 400.
  app.removeContentTypeParser('text/plain');
  jsonBodyParser(app, { maxBatchRows: config.maxBatchRows });

  await registerOpenApi(app, ctx);
  await registerRoutes(app, ctx);
  return app;
}

/** Request ids for requests without a usable X-Request-Id: `<random prefix>-<counter>`. */
function requestIdCounter(): () => string {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return () => {
    counter += 1;
    return `${prefix}-${counter.toString(36)}`;
  };
}

/** The Fastify instance with the service's options: limits, timeouts, request ids, errors. */
function createFastify(
  config: Config,
  logger: FastifyBaseLogger,
  nextId: () => string,
): FastifyInstance {
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
      return nextId();
    },
    frameworkErrors,
    clientErrorHandler: clientErrorHandler(nextId),
  });
  // Connections past MAX_CONNECTIONS are closed as they arrive; the load balancer retries elsewhere.
  app.server.maxConnections = config.maxConnections;
  app.decorateRequest('startedAt', 0);
  return app;
}

/** The hooks every request passes: start time and headers, drain-time connection close, metrics. */
function addRequestHooks(app: FastifyInstance, ctx: ServiceContext, hooks: AppHooks): void {
  const { metrics } = ctx;
  const onRequestEnd = hooks.onRequestEnd;
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = performance.now();
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    exposureHeaders(request, reply);
    if (onRequestEnd) {
      hooks.onRequestStart?.();
      // 'close' fires once per response, also when the client went away before the answer.
      reply.raw.once('close', onRequestEnd);
    }
    const unsupported = encodingError(request.headers['content-encoding']);
    if (unsupported) {
      done(unsupported);
      return;
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
}

/** The 415 of a compressed body (any Content-Encoding but identity), or undefined. */
function encodingError(encoding: string | undefined): HttpError | undefined {
  if (encoding === undefined || encoding === 'identity') return undefined;
  return new HttpError(
    415,
    `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported: send the body uncompressed`,
  );
}

/** The OpenAPI document (GET /docs/json) and its UI at /docs. */
async function registerOpenApi(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
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
      ...openApiSecurity(ctx.config.auth),
    },
    transform: openApiPublicRoutes as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

/** Every route plugin, in the order the OpenAPI document lists them. */
async function registerRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  await app.register(healthRoutes(ctx));
  await app.register(predictRoutes(ctx));
  await app.register(v2Routes(ctx));
  await app.register(modelRoutes(ctx));
  await app.register(explainRoutes(ctx));
  await app.register(feedbackRoutes(ctx));
  await app.register(challengerRoutes(ctx));
}
