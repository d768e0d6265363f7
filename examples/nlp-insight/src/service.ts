/**
 * The service, assembled from its parts: model and artifacts, monitoring, the predictor (batcher
 * and pools), the HTTP app, and the lifecycle (start -> ready -> SIGTERM drain -> exit).
 * `server.ts` runs one; the tests run several in-process with `createService`.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import type { ServiceContext, ServiceHealth, ServiceState } from './context.js';
import { ShedError } from './errors.js';
import { type GrpcListener, grpcListener } from './grpc/server.js';
import { ApiKeyStore } from './http/api-keys.js';
import { type Authenticate, createAuthenticator } from './http/authenticator.js';
import { ClientWindows } from './http/client-windows.js';
import { type MetricsListener, metricsListener } from './http/metrics-listener.js';
import { makeShaper } from './inference/outputs.js';
import { Predictor } from './inference/predictor.js';
import { Connections } from './lifecycle/connections.js';
import { type Pools, startPools } from './lifecycle/pools.js';
import { shutdown } from './lifecycle/shutdown.js';
import { readyMessage } from './lifecycle/startup-log.js';
import { createMetrics } from './metrics.js';
import {
  type LoadedModel,
  exampleBody as exampleBodyOf,
  exampleRecord,
  loadModel,
} from './model/artifacts.js';
import { contract as generatedContract } from './model/contract.js';
import type { ModelContract } from './model/contract-types.js';
import { type Monitoring, openMonitoring } from './monitoring/open-monitoring.js';
import { renderMetrics } from './routes/health.js';
import { serviceInfo } from './service-info.js';

export type { Explanation, RecordEntry, ServiceContext, TensorEntry } from './context.js';

export interface ServiceOptions {
  readonly config: Config;
  readonly contract?: ModelContract;
  readonly logger?: FastifyBaseLogger;
  /** Tests only: a wrapper of the inference worker, and data for it. */
  readonly workerFile?: string;
  readonly extraWorkerData?: Record<string, unknown>;
  /** Tests only: a wrapper of the challenger's worker, and data for it. */
  readonly challengerWorkerFile?: string;
  readonly challengerWorkerData?: Record<string, unknown>;
  /** Tasks staged per worker (default 2: one running, one waiting, so a worker never idles between batches). */
  readonly tasksPerWorker?: number;
}

export interface Service {
  readonly app: FastifyInstance;
  readonly context: ServiceContext;
  readonly logger: FastifyBaseLogger;
  /** The inference pools once started. */
  readonly pools: () => Pools | undefined;
  /** Starts and warms the worker pools; readiness turns 200 when it resolves. */
  start(): Promise<void>;
  /** The API keys in force (AUTH_MODE includes api-key). */
  readonly apiKeys: ApiKeyStore | undefined;
  /** Listens on config.port/host (and METRICS_PORT when set); returns the main address. */
  listen(): Promise<string>;
  /** `http://host:port` of the METRICS_PORT listener once listening. */
  metricsAddress(): string | undefined;
  /** `host:port` of the gRPC listener (GRPC_PORT) once listening; undefined when it is off. */
  grpcAddress(): string | undefined;
  /** The SIGTERM sequence; resolves to the exit code (0: drained cleanly). */
  shutdown(): Promise<number>;
}

export async function createService(options: ServiceOptions): Promise<Service> {
  const { config } = options;
  const contract = options.contract ?? generatedContract;
  const logger: FastifyBaseLogger =
    options.logger ?? (pino({ level: config.logLevel }) as unknown as FastifyBaseLogger);
  // The key file first: a missing one is a configuration error, before the model is loaded.
  const apiKeys = openApiKeys(config, logger);
  const authenticate = createAuthenticator({
    config: config.auth,
    apiKeys,
    realm: serviceInfo.name,
    logger,
  });
  const model = await loadCheckedModel(contract, config, logger);
  const metrics = createMetrics(contract, model.sha256);
  const pools: PoolsRef = {};
  const monitoring = await openMonitoring({
    contract,
    config,
    model,
    metrics,
    logger,
    pools: () => pools.current,
  });
  const state: ServiceState = { started: false, draining: false };
  const tasksPerWorker = options.tasksPerWorker ?? 2;
  const health = (): ServiceHealth => healthOf(state, pools.current);
  const predictor = new Predictor({
    config,
    contract,
    metrics,
    logger,
    tasksPerWorker,
    pools: () => pools.current,
    ready: () => health().serving,
  });
  const connections = new Connections();
  const context = serviceContext({ config, contract, model, metrics, state, health }, monitoring, {
    predictor,
    connections,
  });
  const app = await buildApp(
    context,
    logger,
    {
      onRequestStart: () => connections.requestStarted(),
      onRequestEnd: () => connections.requestEnded(),
    },
    authenticate,
  );
  connections.attach(app.server);
  const beside = sideListeners(context, logger, authenticate);
  const parts = { options, context, logger, apiKeys, monitoring, pools, tasksPerWorker };
  return {
    app,
    context,
    logger,
    pools: () => pools.current,
    apiKeys,
    metricsAddress: beside.metricsAddress,
    grpcAddress: beside.grpcAddress,
    ...lifecycle(parts, app, connections, beside),
  };
}

/** The pools once started: the predictor, the challenger and readiness read them from here. */
interface PoolsRef {
  current?: Pools;
}

/** What start and shutdown need of the assembled service. */
interface Parts {
  readonly options: ServiceOptions;
  readonly context: ServiceContext;
  readonly logger: FastifyBaseLogger;
  readonly apiKeys: ApiKeyStore | undefined;
  readonly monitoring: Monitoring;
  readonly pools: PoolsRef;
  readonly tasksPerWorker: number;
}

/** Start (warm the pools, then ready), listen, and the SIGTERM sequence: each runs once. */
function lifecycle(
  parts: Parts,
  app: FastifyInstance,
  connections: Connections,
  beside: ReturnType<typeof sideListeners>,
): Pick<Service, 'start' | 'listen' | 'shutdown'> {
  const { context, logger, apiKeys, monitoring, pools } = parts;
  const { config, state } = context;
  let starting: Promise<void> | undefined;
  let shutdownPromise: Promise<number> | undefined;
  const start = async () => {
    const began = performance.now();
    pools.current = await startPools(poolOptions(parts));
    if (state.draining) {
      logger.info('stopped during warm-up: not serving');
      return;
    }
    state.started = true;
    logReady(context, logger, pools.current, performance.now() - began, beside.grpcAddress());
  };
  return {
    start() {
      starting ??= start();
      return starting;
    },
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      await beside.listen();
      return address;
    },
    shutdown() {
      shutdownPromise ??= shutdown({
        app,
        connections,
        state,
        logger,
        timeoutMs: config.shutdownTimeoutMs,
        ...(beside.grpc ? { grpc: beside.grpc } : {}),
        pools: () =>
          (starting ?? Promise.resolve()).then(() => pools.current).catch(() => undefined),
        flushLog: (ms) => monitoring.close(ms),
      }).then(async (code) => {
        // Scraped until the end, so the drain shows in the metrics.
        apiKeys?.close();
        await beside.closeMetrics();
        return code;
      });
      return shutdownPromise;
    },
  };
}

/** The line that readers of the service's start wait for (lifecycle/startup-log.ts). */
function logReady(
  { config, contract }: ServiceContext,
  logger: FastifyBaseLogger,
  pools: Pools,
  warmupMs: number,
  grpcAddress: string | undefined,
): void {
  logger.info(
    {
      model: contract.name,
      version: contract.version,
      workers: config.workers,
      explain: pools.explain !== undefined,
      challenger: pools.challenger !== undefined,
      warmupMs: Math.round(warmupMs),
      ...(grpcAddress ? { grpcAddress } : {}),
    },
    readyMessage,
  );
}

/** The listeners beside the main one: `/metrics` on METRICS_PORT, gRPC on GRPC_PORT (each when set). */
function sideListeners(
  context: ServiceContext,
  logger: FastifyBaseLogger,
  authenticate: Authenticate | undefined,
) {
  const { config } = context;
  const metrics: MetricsListener | undefined =
    config.metricsPort === null ? undefined : metricsListener(() => renderMetrics(context, 0));
  const grpc: GrpcListener | undefined =
    config.grpcPort === null ? undefined : grpcListener(context, logger, authenticate);
  let metricsAddress: string | undefined;
  let grpcAddress: string | undefined;
  return {
    grpc,
    metricsAddress: () => metricsAddress,
    grpcAddress: () => grpcAddress,
    async listen() {
      if (metrics && config.metricsPort !== null)
        metricsAddress = await metrics.listen(config.metricsPort, config.host);
      if (grpc && config.grpcPort !== null)
        grpcAddress = await grpc.listen(config.host, config.grpcPort);
    },
    closeMetrics: async () => metrics?.close(),
  };
}

/** What every route reads: the model, its monitors, and the predictor's entry points. */
function serviceContext(
  base: Pick<ServiceContext, 'config' | 'contract' | 'model' | 'metrics' | 'state' | 'health'>,
  monitoring: Monitoring,
  { predictor, connections }: { predictor: Predictor; connections: Connections },
): ServiceContext {
  const { contract, model, metrics, health } = base;
  const { recorder, feedbackLog } = monitoring;
  return {
    ...base,
    shape: makeShaper(contract),
    drift: monitoring.drift,
    quality: monitoring.quality,
    challenger: monitoring.challenger,
    rateLimit:
      base.config.rateLimitPerMinute > 0
        ? new ClientWindows(base.config.rateLimitPerMinute)
        : undefined,
    explainAvailable: model.background !== null,
    exampleRow: exampleRecord(contract, model),
    exampleBody: exampleBodyOf(contract, model),
    predict: (rows, startedAt) => predictor.predict(rows, startedAt),
    predictTensors: (work, startedAt) => predictor.predictTensors(work, startedAt),
    explain: (row, samples, chunkRows) => predictor.explain(row, samples, chunkRows),
    explainAdmission: () => predictor.explainAdmission(),
    record: (entry) => recorder.add(entry),
    recordTensors: (entry) => recorder.add(entry),
    recordFeedback: (entry, at) => feedbackLog.write(entry, at),
    inflight: () => connections.inflight,
    queueDepth: () => predictor.batcher.depth,
    admission() {
      if (!health().serving) {
        metrics.shed.inc({ reason: 'not_ready' });
        return new ShedError('not_ready');
      }
      if (predictor.batcher.full) {
        metrics.shed.inc({ reason: 'queue_full' });
        return new ShedError('queue_full');
      }
      return undefined;
    },
  };
}

/** The pools' settings: the model, a warm-up row, the challenger when one runs, test wrappers. */
function poolOptions(parts: Parts): Parameters<typeof startPools>[0] {
  const { options, context, logger, tasksPerWorker } = parts;
  const { config, contract, model, metrics, exampleRow } = context;
  const { challengerModel } = parts.monitoring;
  return {
    config,
    contract,
    model,
    metrics,
    logger,
    warmupRows: [exampleRow],
    tasksPerWorker,
    ...(options.workerFile ? { workerFile: options.workerFile } : {}),
    ...(options.extraWorkerData ? { extraWorkerData: options.extraWorkerData } : {}),
    ...(challengerModel ? { challenger: challengerModel } : {}),
    ...(options.challengerWorkerFile ? { challengerWorkerFile: options.challengerWorkerFile } : {}),
    ...(options.challengerWorkerData ? { challengerWorkerData: options.challengerWorkerData } : {}),
  };
}

/** The API key file (AUTH_MODE includes api-key), followed for rotations from now on. */
function openApiKeys(config: Config, logger: FastifyBaseLogger): ApiKeyStore | undefined {
  if (config.auth.apiKeysFile === null) return undefined;
  const store = new ApiKeyStore(config.auth.apiKeysFile);
  store.on('reload', (keys) => logger.info({ file: store.file, keys }, 'API keys reloaded'));
  store.on('rejected', (error) =>
    logger.error(
      { err: error, file: store.file },
      `the API key file changed but cannot be used: the previous keys stay in force (${error.message})`,
    ),
  );
  store.watch();
  return store;
}

/** Readiness and liveness from the start, the drain and the prediction pool's workers. */
function healthOf(state: ServiceState, pools: Pools | undefined): ServiceHealth {
  const pool = pools?.predict;
  const workers = { warm: pool?.warmWorkers ?? 0, total: pool?.threads ?? 0 };
  const serving = state.started && workers.warm > 0;
  const status = (ready: boolean, reason?: string, live = true): ServiceHealth =>
    reason === undefined
      ? { ready, serving, live, workers }
      : { ready, serving, live, reason, workers };
  if (pool?.health === 'failed')
    return status(false, 'the inference workers cannot be restored: replace the pod', false);
  if (state.draining) return status(false, 'shutting down');
  if (!state.started || !pool) return status(false, 'warming up');
  if (workers.warm === 0)
    return status(false, 'no inference worker is running: restoring the pool');
  return status(true);
}

async function loadCheckedModel(
  contract: ModelContract,
  config: Config,
  logger: FastifyBaseLogger,
): Promise<LoadedModel> {
  const model = await loadModel(contract, config.modelPath);
  if (model.sha256 !== contract.sha256) {
    logger.warn(
      { expected: contract.sha256, actual: model.sha256 },
      'the model file differs from the one this service was generated for; its inputs and outputs are checked at start',
    );
  }
  for (const name of model.missing) {
    logger.warn(
      { artifact: name },
      `artifact ${name} is named by the model contract but absent from ${model.dir}`,
    );
  }
  return model;
}
