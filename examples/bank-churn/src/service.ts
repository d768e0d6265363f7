/**
 * The service: model and artifacts, the inference pools, the batcher, monitoring and the HTTP app,
 * with their lifecycle (start -> ready -> SIGTERM drain -> exit). `server.ts` runs one; the tests
 * run several in-process with `createService`.
 */
import { Server as NetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from './app.js';
import type { Config } from './config.js';
import { HttpError, ShedError } from './errors.js';
import { Batcher, type JobResult, type RunResult } from './inference/batcher.js';
import { type Prediction, type Shaper, makeShaper } from './inference/outputs.js';
import { type ExplainSetup, InferencePool } from './inference/pool.js';
import { type TensorWork, concatTensors, summarize } from './inference/tensor-request.js';
import { batchLayout, packBatch } from './inference/tensors.js';
import { type Metrics, createMetrics } from './metrics.js';
import {
  type LoadedModel,
  exampleBody as exampleBodyOf,
  exampleRecord,
  loadModel,
} from './model/artifacts.js';
import { contract as generatedContract } from './model/contract.js';
import type { ModelContract } from './model/contract-types.js';
import type { Row } from './model/schemas.js';
import { exampleTensors, servingInputs } from './model/serving.js';
import { DriftMonitor } from './monitoring/drift.js';
import { type PredictionLog, openPredictionLog } from './monitoring/prediction-log.js';

export interface ServiceOptions {
  readonly config: Config;
  readonly contract?: ModelContract;
  readonly logger?: FastifyBaseLogger;
  /** Tests only: a wrapper of the inference worker, and data for it. */
  readonly workerFile?: string;
  readonly extraWorkerData?: Record<string, unknown>;
  /** Tasks staged per worker (default 2: one running, one waiting, so a worker never idles between batches). */
  readonly tasksPerWorker?: number;
}

export interface Explanation {
  readonly value: number;
  readonly baseValue: number;
  readonly column: number;
  readonly contributions: readonly number[];
  readonly standardErrors: readonly number[];
  readonly samples: number;
  readonly evaluations: number;
  readonly computeMs: number;
}

export interface RecordEntry {
  readonly requestId: string;
  readonly endpoint: string;
  readonly rows: readonly Row[];
  readonly predictions: readonly Prediction[];
  readonly latencyMs: number;
}

/** A tensor model's request, for the prediction log: shapes and statistics, not the values. */
export interface TensorEntry {
  readonly requestId: string;
  readonly endpoint: string;
  readonly inputs: TensorWork['tensors'];
  readonly outputs: import('./inference/batcher.js').Outputs;
  readonly latencyMs: number;
}

/** What one batched model run carries for one request. */
type Payload = { readonly rows: readonly Row[] } | { readonly tensors: TensorWork };

export interface ServiceState {
  /** Every worker warmed up: predictions are served. */
  started: boolean;
  /** SIGTERM received: readiness fails, answers carry `Connection: close`. */
  draining: boolean;
}

/** What the routes see. */
export interface ServiceContext {
  readonly config: Config;
  readonly contract: ModelContract;
  readonly model: LoadedModel;
  readonly metrics: Metrics;
  readonly state: ServiceState;
  readonly shape: Shaper;
  readonly drift: DriftMonitor | null;
  readonly explainAvailable: boolean;
  readonly exampleRow: Row;
  /** A valid `/predict` body: the example record, or a tensor model's example tensors. */
  readonly exampleBody: Record<string, unknown>;
  /** Runs rows through the batcher; rejects with an HttpError (503, 504, 500). */
  predict(rows: readonly Row[], startedAt: number): Promise<JobResult>;
  /** Runs a tensor model's validated tensors (400 when the model cannot run on them). */
  predictTensors(work: TensorWork, startedAt: number): Promise<JobResult>;
  explain(row: Row, samples: number): Promise<Explanation>;
  /** Prediction log, drift and prediction metrics, done after the answer is sent. */
  record(entry: RecordEntry): void;
  recordTensors(entry: TensorEntry): void;
  inflight(): number;
  queueDepth(): number;
  /**
   * Refuses a prediction request before its body is read when it could not be queued anyway
   * (not started, or the queue is full): under overload the refusals stay cheap. Returns the
   * error to answer with, or undefined to go on.
   */
  admission(): ShedError | undefined;
}

export interface Service {
  readonly app: FastifyInstance;
  readonly context: ServiceContext;
  readonly logger: FastifyBaseLogger;
  /** Starts and warms the worker pools; readiness turns 200 when it resolves. */
  start(): Promise<void>;
  /** Listens on config.port/host; returns the address. */
  listen(): Promise<string>;
  /** The SIGTERM sequence; resolves to the exit code (0: drained cleanly). */
  shutdown(): Promise<number>;
}

/** Post-response work, done in one go per event-loop turn. */
class Recorder {
  private pending: Array<RecordEntry | TensorEntry> = [];
  private scheduled = false;

  constructor(
    private readonly contract: ModelContract,
    private readonly log: PredictionLog,
    private readonly drift: DriftMonitor | null,
    private readonly metrics: Metrics,
  ) {}

  add(entry: RecordEntry | TensorEntry): void {
    this.pending.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    const entries = this.pending;
    this.pending = [];
    const { name, version } = this.contract;
    const { task } = this.contract;
    for (const entry of entries) {
      if (!('rows' in entry)) {
        this.writeTensors(entry);
        continue;
      }
      const batch = entry.rows.length > 1;
      for (let i = 0; i < entry.rows.length; i++) {
        const inputs = entry.rows[i]!;
        const outputs = entry.predictions[i]!;
        if ('prediction' in outputs) this.metrics.predictionValue.observe(outputs.prediction);
        else if ('label' in outputs) this.metrics.countClass(outputs.label);
        else if (task !== 'tensor') throw new Error(`no prediction for task ${task}`);
        this.drift?.observe(inputs);
        this.log.write({
          requestId: entry.requestId,
          ...(batch ? { row: i } : {}),
          endpoint: entry.endpoint,
          model: name,
          modelVersion: version,
          inputs,
          outputs: outputs as unknown as Record<string, unknown>,
          latencyMs: Math.round(entry.latencyMs * 1000) / 1000,
        });
      }
    }
  }

  private writeTensors(entry: TensorEntry): void {
    const { name, version } = this.contract;
    this.log.write({
      requestId: entry.requestId,
      endpoint: entry.endpoint,
      model: name,
      modelVersion: version,
      inputs: Object.fromEntries(entry.inputs.map((t) => [t.name, summarize(t)])),
      outputs: Object.fromEntries(Object.entries(entry.outputs).map(([n, t]) => [n, summarize(t)])),
      latencyMs: Math.round(entry.latencyMs * 1000) / 1000,
    });
  }
}

export async function createService(options: ServiceOptions): Promise<Service> {
  const { config } = options;
  const contract = options.contract ?? generatedContract;
  const logger: FastifyBaseLogger =
    options.logger ?? (pino({ level: config.logLevel }) as unknown as FastifyBaseLogger);
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
  const metrics = createMetrics(contract, model.sha256);
  const drift = model.driftBaseline
    ? new DriftMonitor(contract, model.driftBaseline, config.driftWindow)
    : null;
  const log = openPredictionLog(
    config.predictionLogPath,
    (error) => {
      metrics.predictionLogFailures.inc();
      logger.debug({ err: error }, 'prediction log write failed');
    },
    { maxBytes: config.predictionLogMaxBytes, keep: config.predictionLogKeep },
  );
  const recorder = new Recorder(contract, log, drift, metrics);
  const state: ServiceState = { started: false, draining: false };
  const tasksPerWorker = options.tasksPerWorker ?? 2;
  const exampleRow = exampleRecord(contract, model);
  const exampleBody = exampleBodyOf(contract, model);
  const layout = batchLayout(servingInputs(contract));

  let pool: InferencePool | undefined;
  let explainPool: InferencePool | undefined;
  const execute = (payloads: Payload[]): Promise<RunResult> => {
    if ('tensors' in payloads[0]!) {
      const tensors = concatTensors(payloads.map((p) => (p as { tensors: TensorWork }).tensors));
      return pool!.run<RunResult>({ op: 'tensors', tensors }).catch(modelRejects);
    }
    const rows: Row[] = [];
    for (const p of payloads)
      for (const row of (p as { rows: readonly Row[] }).rows) rows.push(row);
    const run = pool!.run<RunResult>({
      op: 'run',
      batch: packBatch(rows, layout, contract.features),
    });
    return contract.kind === 'text' ? run.catch(modelRejects) : run;
  };
  const batcher = new Batcher<Payload>(
    execute,
    {
      maxBatchSize: config.maxBatchSize,
      maxBatchDelayMs: config.maxBatchDelayMs,
      maxQueue: config.maxQueue,
      queueTimeoutMs: config.queueTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      workers: config.workers,
      maxInflightBatches: config.workers * tasksPerWorker,
    },
    metrics,
    (error) => logger.error({ err: error }, 'model run failed'),
  );

  let inflight = 0;
  const context: ServiceContext = {
    config,
    contract,
    model,
    metrics,
    state,
    shape: makeShaper(contract),
    drift,
    explainAvailable: model.background !== null,
    exampleRow,
    exampleBody,
    predict(rows, startedAt) {
      if (!state.started) {
        metrics.shed.inc({ reason: 'not_ready' });
        return Promise.reject(new ShedError('not_ready'));
      }
      const merge = contract.batching.mode === 'none' ? null : undefined;
      return batcher.submit({ payload: { rows }, rows: rows.length, key: merge }, startedAt);
    },
    predictTensors(work, startedAt) {
      if (!state.started) {
        metrics.shed.inc({ reason: 'not_ready' });
        return Promise.reject(new ShedError('not_ready'));
      }
      return batcher.submit(
        { payload: { tensors: work }, rows: work.rows, key: work.key },
        startedAt,
      );
    },
    async explain(row, samples) {
      if (!explainPool) {
        if (model.background === null) throw new HttpError(501, 'no background sample');
        metrics.shed.inc({ reason: 'not_ready' });
        throw new ShedError('not_ready');
      }
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          explainPool.run<Explanation>({ op: 'explain', row, samples, seed: 42 }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              metrics.timeouts.inc();
              reject(
                new HttpError(
                  504,
                  `the explanation did not complete within ${config.requestTimeoutMs} ms`,
                ),
              );
            }, config.requestTimeoutMs);
          }),
        ]);
        metrics.explainDuration.observe((performance.now() - started) / 1000);
        return result;
      } catch (error) {
        if (error instanceof HttpError) throw error;
        if (/queue is at limit/i.test((error as Error)?.message ?? '')) {
          metrics.shed.inc({ reason: 'explain_busy' });
          throw new ShedError('explain_busy');
        }
        logger.error({ err: error }, 'explanation failed');
        throw new HttpError(500, 'the explanation failed');
      } finally {
        clearTimeout(timer);
      }
    },
    record: (entry) => recorder.add(entry),
    recordTensors: (entry) => recorder.add(entry),
    inflight: () => inflight,
    queueDepth: () => batcher.depth,
    admission() {
      if (!state.started) {
        metrics.shed.inc({ reason: 'not_ready' });
        return new ShedError('not_ready');
      }
      if (batcher.full) {
        metrics.shed.inc({ reason: 'queue_full' });
        return new ShedError('queue_full');
      }
      return undefined;
    },
  };

  const idleWaiters: Array<() => void> = [];
  const app = await buildApp(context, logger, {
    onRequestStart: () => {
      inflight += 1;
    },
    onRequestEnd: () => {
      inflight -= 1;
      if (inflight === 0) idleWaiters.splice(0).forEach((w) => w());
    },
  });
  const connections = new Set<Socket>();
  const connectionWaiters: Array<() => void> = [];
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => {
      connections.delete(socket);
      if (connections.size === 0) connectionWaiters.splice(0).forEach((w) => w());
    });
  });

  const warmupRows = [exampleRow];
  let shutdownPromise: Promise<number> | undefined;

  return {
    app,
    context,
    logger,
    async start() {
      const started = performance.now();
      const explainSetup = explainSetupOf(contract, model);
      const settled = await Promise.allSettled([
        InferencePool.start({
          role: 'predict',
          threads: config.workers,
          contract,
          modelPath: model.path,
          warmupRows,
          ...(contract.kind === 'tensors' ? { warmupTensors: exampleTensors(contract) } : {}),
          tasksPerWorker,
          maxQueue: Math.max(16, config.workers * tasksPerWorker * 4),
          ...(options.workerFile ? { workerFile: options.workerFile } : {}),
          ...(options.extraWorkerData ? { extraWorkerData: options.extraWorkerData } : {}),
          onWorkerLost: () => {
            metrics.workerRestarts.inc();
            logger.error('an inference worker died; piscina is starting a replacement');
          },
          onError: (error) => logger.error({ err: error }, 'inference pool error'),
        }),
        explainSetup
          ? InferencePool.start({
              role: 'explain',
              threads: 1,
              contract,
              modelPath: model.path,
              warmupRows,
              explain: explainSetup,
              tasksPerWorker: 1,
              maxQueue: 4,
              // Explanations yield the CPU to predictions.
              niceIncrement: 10,
              onWorkerLost: () =>
                logger.error('the explanation worker died; piscina is starting a replacement'),
              onError: (error) => logger.error({ err: error }, 'explanation pool error'),
            })
          : Promise.resolve(undefined),
      ]);
      const failure = settled.find((r) => r.status === 'rejected');
      if (failure) {
        // One pool failed: stop whichever started, report the failure.
        await Promise.all(
          settled.map((r) => (r.status === 'fulfilled' ? r.value?.close() : undefined)),
        );
        throw failure.reason;
      }
      const [predictPool, explainerPool] = settled.map((r) =>
        r.status === 'fulfilled' ? r.value : undefined,
      );
      pool = predictPool;
      explainPool = explainerPool;
      state.started = true;
      logger.info(
        {
          model: contract.name,
          version: contract.version,
          workers: config.workers,
          explain: explainPool !== undefined,
          warmupMs: Math.round(performance.now() - started),
        },
        'ready: every inference worker is warm',
      );
    },
    async listen() {
      const address = await app.listen({ port: config.port, host: config.host });
      return address;
    },
    shutdown() {
      shutdownPromise ??= (async () => {
        const deadline = performance.now() + config.shutdownTimeoutMs;
        const remaining = () => Math.max(0, deadline - performance.now());
        state.draining = true;
        logger.info(
          { inflight, connections: connections.size },
          'SIGTERM: not ready any more, draining',
        );
        // Stop accepting connections but keep serving the open ones: every answer now carries
        // `Connection: close`, so clients move away after their current request. (http.Server#close
        // would also drop idle keep-alive sockets, racing with requests the clients are sending.)
        if (app.server.listening) NetServer.prototype.close.call(app.server);
        const waitFor = (done: () => boolean, waiters: Array<() => void>, ms: number) =>
          done()
            ? Promise.resolve(true)
            : new Promise<boolean>((resolve) => {
                const timer = setTimeout(() => resolve(false), ms);
                waiters.push(() => {
                  clearTimeout(timer);
                  resolve(true);
                });
              });
        let clean = await waitFor(() => inflight === 0, idleWaiters, remaining());
        // Idle keep-alive clients get a moment to notice the closed listener before their sockets go.
        await waitFor(() => connections.size === 0, connectionWaiters, Math.min(1000, remaining()));
        await app.close();
        if (pool) {
          const closed = await Promise.race([
            pool.close().then(() => true),
            new Promise<boolean>((r) => setTimeout(() => r(false), remaining()).unref()),
          ]);
          clean &&= closed;
        }
        if (explainPool)
          await Promise.race([
            explainPool.close(),
            new Promise((r) => setTimeout(r, 1000).unref()),
          ]);
        recorder.flush();
        await log.close(Math.max(1000, remaining()));
        logger.info({ clean }, clean ? 'drained; exiting' : 'shutdown budget exhausted; exiting');
        return clean ? 0 : 1;
      })();
      return shutdownPromise;
    },
  };
}

/**
 * A run that fails on a tensor model's (or a text model's) input is the input's fault once the
 * service has checked names, types and shapes: 400 with the runtime's reason. A crash stays 503.
 */
function modelRejects(error: unknown): never {
  const message = String((error as Error)?.message ?? error);
  if (/worker exited|terminated/i.test(message)) throw error;
  throw new HttpError(
    400,
    `the model cannot run on this input: ${message.split('\n')[0]!.slice(0, 300)}`,
  );
}

function explainSetupOf(contract: ModelContract, model: LoadedModel): ExplainSetup | undefined {
  if (!model.background || contract.task === 'tensor' || contract.kind !== 'records')
    return undefined;
  if (contract.task === 'regression') {
    return {
      background: model.background,
      output: contract.outputNames.prediction!,
      mode: 'value',
      positiveIndex: 0,
    };
  }
  const positive =
    contract.positiveLabel !== undefined ? contract.labels.indexOf(contract.positiveLabel) : -1;
  return {
    background: model.background,
    output: contract.outputNames.probabilities!,
    mode: positive >= 0 && contract.task === 'binary' ? 'positive' : 'argmax',
    positiveIndex: Math.max(0, positive),
  };
}
