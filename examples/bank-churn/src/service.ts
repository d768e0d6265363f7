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
import type { FeedbackEntry, ServiceContext, ServiceHealth, ServiceState } from './context.js';
import { ShedError } from './errors.js';
import { type GrpcListener, grpcListener } from './grpc/server.js';
import { ApiKeyStore } from './http/api-keys.js';
import { type MetricsListener, metricsListener } from './http/metrics-listener.js';
import { makeShaper } from './inference/outputs.js';
import { Predictor } from './inference/predictor.js';
import { Connections } from './lifecycle/connections.js';
import { type Pools, startPools } from './lifecycle/pools.js';
import { shutdown } from './lifecycle/shutdown.js';
import { readyMessage } from './lifecycle/startup-log.js';
import { type Metrics, createMetrics } from './metrics.js';
import {
  type LoadedModel,
  exampleBody as exampleBodyOf,
  exampleRecord,
  loadModel,
} from './model/artifacts.js';
import { contract as generatedContract } from './model/contract.js';
import type { ModelContract } from './model/contract-types.js';
import {
  ChallengerMonitor,
  type ChallengerRecord,
  loadChallenger,
} from './monitoring/challenger.js';
import { DriftMonitor } from './monitoring/drift.js';
import { openPredictionLog } from './monitoring/prediction-log.js';
import { QualityMonitor } from './monitoring/quality-monitor.js';
import { Recorder } from './monitoring/recorder.js';
import { renderMetrics } from './routes/health.js';

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
  const model = await loadCheckedModel(contract, config, logger);
  const metrics = createMetrics(contract, model.sha256);
  const drift = model.driftBaseline
    ? new DriftMonitor(contract, model.driftBaseline, config.driftWindow)
    : null;
  // Both JSONL logs (predictions, feedback) rotate, buffer and count lost lines alike.
  const logLimits = {
    maxBytes: config.predictionLogMaxBytes,
    keep: config.predictionLogKeep,
    bufferBytes: config.predictionLogBufferBytes,
    onLost: countLostLines(metrics, logger),
  };
  const log = await openPredictionLog(config.predictionLogPath, {
    ...logLimits,
    onUnavailable: (error) =>
      logger.warn(
        { err: error, path: config.predictionLogPath },
        `the prediction log cannot be written at ${config.predictionLogPath}: predictions are served but not logged (retried every second; lost lines count in mlservice_prediction_log_failures_total). Point PREDICTION_LOG_PATH at a writable directory, or set it empty to turn the log off`,
      ),
  });
  const quality = QualityMonitor.of(contract, model.metrics, {
    maxPredictions: config.qualityWindow,
    ttlMs: config.qualityTtlHours * 3_600_000,
  });
  const feedbackLog = await openPredictionLog<FeedbackEntry>(
    quality ? config.feedbackLogPath : null,
    {
      ...logLimits,
      onUnavailable: (error) =>
        logger.warn(
          { err: error, path: config.feedbackLogPath },
          `the feedback log cannot be written at ${config.feedbackLogPath}: feedback is joined but not logged. Point FEEDBACK_LOG_PATH at a writable directory, or set it empty to turn it off`,
        ),
    },
  );
  // The challenger's sidecar is checked now (a misfit stops the start before listening); its
  // worker warms up with the others in start().
  const challengerModel = await loadChallenger(contract, config);
  let pools: Pools | undefined;
  let challenger: ChallengerMonitor | undefined;
  const challengerLog = await openPredictionLog<ChallengerRecord>(
    'enabled' in challengerModel ? null : config.challengerLogPath,
    {
      ...logLimits,
      onUnavailable: (error) =>
        logger.warn(
          { err: error, path: config.challengerLogPath },
          `the challenger log cannot be written at ${config.challengerLogPath}: the challenger's outputs are paired in memory but not logged. Point CHALLENGER_LOG_PATH at a writable directory, or set it empty to turn it off`,
        ),
    },
  );
  if (!('enabled' in challengerModel) && quality) {
    challenger = new ChallengerMonitor({
      challenger: challengerModel,
      quality: quality.settings,
      settings: {
        sampleRate: config.challengerSampleRate,
        queue: config.challengerQueue,
        window: config.challengerWindow,
        ttlMs: config.qualityTtlHours * 3_600_000,
        alpha: config.challengerAlpha,
        resamples: config.challengerResamples,
        minSamples: config.challengerMinSamples ?? quality.settings.minSamples,
        maxBatchSize: config.maxBatchSize,
      },
      metrics,
      logger,
      log: challengerLog,
      pool: () => pools?.challenger,
    });
    quality.onJoined = (id, actual) => challenger!.addTruth(id, actual);
    logger.info(
      { dir: challengerModel.dir, version: challengerModel.version },
      `a challenger runs in shadow on ${Math.round(config.challengerSampleRate * 1000) / 10}% of predictions`,
    );
  }
  const recorder = new Recorder(contract, log, drift, metrics, quality, challenger ?? null);
  const state: ServiceState = { started: false, draining: false };
  const tasksPerWorker = options.tasksPerWorker ?? 2;
  const exampleRow = exampleRecord(contract, model);
  const health = (): ServiceHealth => healthOf(state, pools);
  const predictor = new Predictor({
    config,
    contract,
    metrics,
    logger,
    tasksPerWorker,
    pools: () => pools,
    ready: () => health().serving,
  });
  const connections = new Connections();

  const context: ServiceContext = {
    config,
    contract,
    model,
    metrics,
    state,
    shape: makeShaper(contract),
    drift,
    quality,
    challenger:
      challenger ??
      ('enabled' in challengerModel
        ? challengerModel
        : { enabled: false, reason: 'no live quality for this model' }),
    explainAvailable: model.background !== null,
    exampleRow,
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
    health,
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

  const app = await buildApp(
    context,
    logger,
    {
      onRequestStart: () => connections.requestStarted(),
      onRequestEnd: () => connections.requestEnded(),
    },
    apiKeys,
  );
  connections.attach(app.server);
  const metricsServer: MetricsListener | undefined =
    config.metricsPort === null ? undefined : metricsListener(() => renderMetrics(context, 0));
  let metricsAddress: string | undefined;
  const grpcServer: GrpcListener | undefined =
    config.grpcPort === null ? undefined : grpcListener(context, logger, apiKeys);
  let grpcAddress: string | undefined;

  let starting: Promise<void> | undefined;
  let shutdownPromise: Promise<number> | undefined;
  const start = async () => {
    const began = performance.now();
    pools = await startPools({
      config,
      contract,
      model,
      metrics,
      logger,
      warmupRows: [exampleRow],
      tasksPerWorker,
      ...(options.workerFile ? { workerFile: options.workerFile } : {}),
      ...(options.extraWorkerData ? { extraWorkerData: options.extraWorkerData } : {}),
      ...(challenger && !('enabled' in challengerModel) ? { challenger: challengerModel } : {}),
      ...(options.challengerWorkerFile
        ? { challengerWorkerFile: options.challengerWorkerFile }
        : {}),
      ...(options.challengerWorkerData
        ? { challengerWorkerData: options.challengerWorkerData }
        : {}),
    });
    if (state.draining) {
      logger.info('stopped during warm-up: not serving');
      return;
    }
    state.started = true;
    logger.info(
      {
        model: contract.name,
        version: contract.version,
        workers: config.workers,
        explain: pools.explain !== undefined,
        challenger: pools.challenger !== undefined,
        warmupMs: Math.round(performance.now() - began),
        ...(grpcAddress ? { grpcAddress } : {}),
      },
      readyMessage,
    );
  };

  return {
    app,
    context,
    logger,
    pools: () => pools,
    apiKeys,
    metricsAddress: () => metricsAddress,
    grpcAddress: () => grpcAddress,
    start() {
      starting ??= start();
      return starting;
    },
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      if (metricsServer && config.metricsPort !== null)
        metricsAddress = await metricsServer.listen(config.metricsPort, config.host);
      if (grpcServer && config.grpcPort !== null)
        grpcAddress = await grpcServer.listen(config.host, config.grpcPort);
      return address;
    },
    shutdown() {
      shutdownPromise ??= shutdown({
        app,
        connections,
        state,
        logger,
        timeoutMs: config.shutdownTimeoutMs,
        ...(grpcServer ? { grpc: grpcServer } : {}),
        pools: () => (starting ?? Promise.resolve()).then(() => pools).catch(() => undefined),
        flushLog: async (ms) => {
          recorder.flush();
          await Promise.all([log.close(ms), feedbackLog.close(ms), challengerLog.close(ms)]);
        },
      }).then(async (code) => {
        // Scraped until the end, so the drain shows in the metrics.
        apiKeys?.close();
        await metricsServer?.close();
        return code;
      });
      return shutdownPromise;
    },
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

/** Counts every lost line; says so in the service log at most once a minute. */
function countLostLines(metrics: Metrics, logger: FastifyBaseLogger) {
  let warnedAt = Number.NEGATIVE_INFINITY;
  return (lines: number, error: unknown) => {
    metrics.predictionLogFailures.inc(lines);
    const now = performance.now();
    if (now - warnedAt < 60_000) return;
    warnedAt = now;
    logger.warn({ err: error, lines }, 'prediction log lines lost');
  };
}
