/**
 * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`, grpc_predict_v2.proto)
 * and the standard health service (`grpc.health.v1.Health`, health.proto) on GRPC_PORT, beside
 * the HTTP server. Every RPC runs through what REST V2 uses: the same admission, validation
 * (`codec.ts` turns a ModelInferRequest into the V2 request), batcher, prediction log and metrics.
 *
 * Errors map to gRPC status codes as Triton maps them: a bad request INVALID_ARGUMENT with REST's
 * 400 message, an unknown model NOT_FOUND, overload or not ready UNAVAILABLE, past the deadline
 * DEADLINE_EXCEEDED, anything else INTERNAL (never a stack trace). The client's deadline counts:
 * a call whose deadline is shorter than REQUEST_TIMEOUT_MS leaves the queue when it passes.
 * Metrics count calls as `route="/inference.GRPCInferenceService/<Method>"` with the status the
 * same answer would have over HTTP (OK 200, INVALID_ARGUMENT 400, UNAVAILABLE 503, ...), so the
 * error-rate alerts and dashboards see both protocols.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { FastifyBaseLogger } from 'fastify';
import type { ServiceContext } from '../context.js';
import { peerAddress } from '../http/client-windows.js';
import { HttpError, ValidationError } from '../errors.js';
import { type Authenticate, type Carriers, credentialsOf } from '../http/authenticator.js';
import {
  checkModelName,
  modelMetadataOf,
  requestedOutputs,
  runInfer,
  serverMetadata,
} from '../routes/v2.js';
import {
  type GrpcInferRequest,
  inferRequestOf,
  inferResponseOf,
  wantsRawOutputs,
} from './codec.js';
import { type HealthStatus, healthStatusOf } from './health.js';

export const inferenceService = 'inference.GRPCInferenceService';

/**
 * The protocol's files: beside this module (src/grpc/, and dist/src/grpc/ where `npm run build`
 * copies them; the image holds only dist/), else in the source tree of a build made by `tsc` alone.
 */
export const protoFiles = ['grpc_predict_v2.proto', 'health.proto'].map((name) => {
  const beside = fileURLToPath(new URL(`./${name}`, import.meta.url));
  const source = fileURLToPath(new URL(`../../../src/grpc/${name}`, import.meta.url));
  return existsSync(beside) || !existsSync(source) ? beside : source;
});

/** Field names as in the .proto files, 64-bit integers as strings (exact), oneofs named. */
export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

interface ServiceDefinitions {
  readonly inference: grpc.ServiceClientConstructor;
  readonly health: grpc.ServiceClientConstructor;
}

/** The two services' definitions (servers and clients alike). */
export function loadServices(): ServiceDefinitions {
  const root = grpc.loadPackageDefinition(protoLoader.loadSync(protoFiles, loaderOptions)) as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  return {
    inference: root.inference.GRPCInferenceService,
    health: root.grpc.health.v1.Health,
  };
}

export interface GrpcListener {
  /** Binds host:port (0: an ephemeral port); resolves to `host:port` as bound. */
  listen(host: string, port: number): Promise<string>;
  /**
   * Stops taking calls (GOAWAY), lets the calls in flight finish, and past `ms` cancels them.
   * Resolves true when every call finished in time.
   */
  drain(ms: number): Promise<boolean>;
}

/** Status code of each HTTP status the service answers with. */
const codeOfStatus: Readonly<Record<number, grpc.status>> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  404: grpc.status.NOT_FOUND,
  413: grpc.status.RESOURCE_EXHAUSTED,
  429: grpc.status.RESOURCE_EXHAUSTED,
  500: grpc.status.INTERNAL,
  501: grpc.status.UNIMPLEMENTED,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.DEADLINE_EXCEEDED,
};

type Unary = (
  call: grpc.ServerUnaryCall<unknown, unknown>,
  callback: grpc.sendUnaryData<unknown>,
) => void;

/**
 * Request ids of gRPC calls: the client's `x-request-id` metadata when it is a sane id (as over
 * HTTP), else this process's prefix and a counter.
 */
function requestIds(): (metadata: grpc.Metadata) => string {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return (metadata) => {
    const given = metadata.get('x-request-id')[0];
    if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given)) return given;
    counter += 1;
    return `${prefix}-g${counter.toString(36)}`;
  };
}

/** The credential carriers of gRPC, as a refusal names them. */
const metadataCarriers: Carriers = {
  key: 'x-api-key',
  authorization: 'authorization',
  kind: 'gRPC metadata',
};

/**
 * AUTH_MODE over gRPC, decided by the authenticator HTTP asks (API keys and JWTs alike): the
 * client as HTTP names it, or null when authentication is off.
 */
function authenticatorOf(
  authenticate: Authenticate | undefined,
): (metadata: grpc.Metadata) => string | null | Promise<string> {
  return (metadata) => {
    if (!authenticate) return null;
    const credentials = credentialsOf(
      metadata.get('x-api-key')[0],
      metadata.get('authorization')[0],
    );
    return authenticate(credentials, metadataCarriers);
  };
}

/**
 * RATE_LIMIT_PER_MINUTE over gRPC, in the windows HTTP counts in: the client's name, else its
 * address. Past the limit: RESOURCE_EXHAUSTED with HTTP's 429 message and a `retry-after`.
 */
function limitRate(
  ctx: ServiceContext,
  call: grpc.ServerUnaryCall<unknown, unknown>,
  client: string | null,
): void {
  const windows = ctx.rateLimit;
  if (!windows) return;
  const taken = windows.take(client ?? peerAddress(call.getPeer()));
  if (taken.over) throw windows.refusal(taken.ttl);
}

/**
 * Wraps a handler as a unary RPC: authentication (unless `open`), the request metrics with the
 * HTTP status the same answer would have, and errors mapped to status codes (never a stack).
 */
function unaryOf(
  ctx: ServiceContext,
  logger: FastifyBaseLogger,
  authenticate: (metadata: grpc.Metadata) => string | null | Promise<string>,
) {
  const { metrics } = ctx;
  return (
      method: string,
      handler: (call: grpc.ServerUnaryCall<unknown, unknown>, startedAt: number) => unknown,
      open = false,
    ): Unary =>
    (call, callback) => {
      const startedAt = performance.now();
      const route = `/${inferenceService}/${method}`;
      const observe = (status: number) =>
        metrics.observeRequest(route, status, (performance.now() - startedAt) / 1000);
      // Probes are neither authenticated nor limited: a busy client must not make the pod look dead.
      Promise.resolve()
        .then(() => (open ? null : authenticate(call.metadata)))
        .then((client) => {
          if (!open) limitRate(ctx, call, client);
          return handler(call, startedAt);
        })
        .then(
          (value) => {
            observe(200);
            callback(null, value);
          },
          (error: unknown) => {
            if (error instanceof HttpError) {
              if (error instanceof ValidationError) metrics.validationErrors.inc({ route });
              observe(error.statusCode);
              const retryAfter = error.options.retryAfterSeconds;
              const metadata = new grpc.Metadata();
              if (retryAfter !== undefined) metadata.set('retry-after', String(retryAfter));
              callback({
                code: codeOfStatus[error.statusCode] ?? grpc.status.UNKNOWN,
                details: error.message,
                metadata,
              });
              return;
            }
            observe(500);
            logger.error({ err: error, method: route }, 'unhandled error in a gRPC call');
            callback({ code: grpc.status.INTERNAL, details: 'internal error' });
          },
        );
    };
}

/** ModelInfer: admission, the V2 request from the message, the shared V2 path, the answer. */
function modelInfer(ctx: ServiceContext) {
  const { contract, config } = ctx;
  const requestIdOf = requestIds();
  return async (call: grpc.ServerUnaryCall<unknown, unknown>, startedAt: number) => {
    const message = call.request as GrpcInferRequest;
    checkModelName(contract, message.model_name, versionOf(message.model_version));
    const refused = ctx.admission();
    if (refused) throw refused;
    const body = inferRequestOf(message);
    const requested = requestedOutputs(body, contract);
    // The client's deadline, when sooner than REQUEST_TIMEOUT_MS: the batcher's deadline is
    // `from + REQUEST_TIMEOUT_MS`, so moving `from` back makes it the client's.
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const left = Number.isFinite(deadlineMs) ? deadlineMs - Date.now() : Infinity;
    const response = await runInfer(ctx, body, requested, {
      requestId: requestIdOf(call.metadata),
      startedAt,
      endpoint: 'grpc/infer',
      typed: true,
      deadlineFrom: Math.min(startedAt, startedAt + left - config.requestTimeoutMs),
    });
    return inferResponseOf(response, wantsRawOutputs(message, body, response.outputs));
  };
}

const versionOf = (v: string) => (v === '' ? undefined : v);

/** The inference service's six RPCs. */
function inferenceHandlers(ctx: ServiceContext, unary: ReturnType<typeof unaryOf>) {
  const { contract } = ctx;
  const modelMetadata = modelMetadataOf(contract);
  return {
    ServerLive: unary('ServerLive', () => ({ live: ctx.health().live }), true),
    ServerReady: unary('ServerReady', () => ({ ready: ctx.health().ready }), true),
    ModelReady: unary(
      'ModelReady',
      (call) => {
        const { name, version } = call.request as { name: string; version: string };
        checkModelName(contract, name, versionOf(version));
        return { ready: ctx.health().ready };
      },
      true,
    ),
    ServerMetadata: unary('ServerMetadata', () => serverMetadata, true),
    ModelMetadata: unary('ModelMetadata', (call) => {
      const { name, version } = call.request as { name: string; version: string };
      checkModelName(contract, name, versionOf(version));
      return modelMetadata;
    }),
    ModelInfer: unary('ModelInfer', modelInfer(ctx)),
  };
}

/** The health service: Check only (Watch answers UNIMPLEMENTED; clients poll Check). */
function healthHandlers(ctx: ServiceContext) {
  return {
    Check: (
      call: grpc.ServerUnaryCall<{ service: string }, unknown>,
      callback: grpc.sendUnaryData<{ status: HealthStatus }>,
    ) => {
      const status = healthStatusOf(call.request.service, ctx.health());
      if (status === undefined)
        callback({
          code: grpc.status.NOT_FOUND,
          details: `unknown service "${call.request.service}": ask for "" or "${inferenceService}"`,
        });
      else callback(null, { status });
    },
  };
}

export function grpcListener(
  ctx: ServiceContext,
  logger: FastifyBaseLogger,
  authenticate: Authenticate | undefined,
): GrpcListener {
  const services = loadServices();
  const server = new grpc.Server({
    // The same bound as an HTTP body (BODY_LIMIT_BYTES): a larger message is RESOURCE_EXHAUSTED.
    'grpc.max_receive_message_length': ctx.config.bodyLimitBytes,
  });
  const unary = unaryOf(ctx, logger, authenticatorOf(authenticate));
  server.addService(services.inference.service, inferenceHandlers(ctx, unary));
  server.addService(services.health.service, healthHandlers(ctx));
  return {
    listen: (host, port) =>
      new Promise((resolve, reject) => {
        const shown = host.includes(':') ? `[${host}]` : host;
        server.bindAsync(
          `${shown}:${port}`,
          grpc.ServerCredentials.createInsecure(),
          (error, bound) => (error ? reject(error) : resolve(`${shown}:${bound}`)),
        );
      }),
    drain: (ms) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve(false);
        }, ms);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve(true);
        });
      }),
  };
}
