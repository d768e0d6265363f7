/**
 * The model behind the routes: predictions go through the batcher to the prediction pool,
 * explanations straight to the explanation pool, each with its deadline and its refusals (503 when
 * not ready or busy, 504 past the deadline, 400 when a tensor or text model rejects its input).
 */
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { Explanation } from '../context.js';
import { HttpError, ShedError } from '../errors.js';
import type { Pools } from '../lifecycle/pools.js';
import type { Metrics } from '../metrics.js';
import type { ModelContract } from '../model/contract-types.js';
import type { Row } from '../model/schemas.js';
import { servingInputs } from '../model/serving.js';
import { explainQueue } from './explain-budget.js';
import { Batcher, type JobResult, type RunResult } from './batcher.js';
import { type TensorWork, concatTensors } from './tensor-request.js';
import { batchLayout, packBatch } from './tensors.js';

/** What one batched model run carries for one request. */
type Payload = { readonly rows: readonly Row[] } | { readonly tensors: TensorWork };

export interface PredictorSetup {
  readonly config: Config;
  readonly contract: ModelContract;
  readonly metrics: Metrics;
  readonly logger: FastifyBaseLogger;
  readonly tasksPerWorker: number;
  /** The pools once started. */
  readonly pools: () => Pools | undefined;
  /** False before the warm-up and while no prediction worker is warm: refuse with 503. */
  readonly ready: () => boolean;
}

export class Predictor {
  readonly batcher: Batcher<Payload>;
  private explaining = 0;

  constructor(private readonly setup: PredictorSetup) {
    const { config, contract, metrics, logger, tasksPerWorker } = setup;
    const layout = batchLayout(servingInputs(contract));
    const execute = (payloads: Payload[]): Promise<RunResult> => {
      const pool = setup.pools()!.predict;
      if ('tensors' in payloads[0]!) {
        const tensors = concatTensors(payloads.map((p) => (p as { tensors: TensorWork }).tensors));
        return pool.run<RunResult>({ op: 'tensors', tensors }).catch(modelRejects);
      }
      const rows: Row[] = [];
      for (const p of payloads)
        for (const row of (p as { rows: readonly Row[] }).rows) rows.push(row);
      const run = pool.run<RunResult>({
        op: 'run',
        batch: packBatch(rows, layout, contract.features),
      });
      return contract.kind === 'text' ? run.catch(modelRejects) : run;
    };
    this.batcher = new Batcher<Payload>(
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
  }

  predict(rows: readonly Row[], startedAt: number): Promise<JobResult> {
    if (!this.setup.ready()) return Promise.reject(this.notReady());
    const merge = this.setup.contract.batching.mode === 'none' ? null : undefined;
    return this.batcher.submit({ payload: { rows }, rows: rows.length, key: merge }, startedAt);
  }

  predictTensors(work: TensorWork, startedAt: number): Promise<JobResult> {
    if (!this.setup.ready()) return Promise.reject(this.notReady());
    return this.batcher.submit(
      { payload: { tensors: work }, rows: work.rows, key: work.key },
      startedAt,
    );
  }

  /**
   * 503 before the body is read when the explanation cannot start soon: no warm explanation
   * worker, or one running and `explainQueue` waiting already.
   */
  explainAdmission(): ShedError | undefined {
    const pool = this.setup.pools()?.explain;
    if (!pool) return undefined; // 501 (no background sample) or not started: the route says which
    if (pool.warmWorkers === 0 || !this.setup.ready()) return this.notReady();
    if (this.explaining >= 1 + explainQueue) {
      this.setup.metrics.shed.inc({ reason: 'explain_busy' });
      return new ShedError('explain_busy');
    }
    return undefined;
  }

  async explain(row: Row, samples: number, chunkRows: number): Promise<Explanation> {
    const { config, metrics, logger } = this.setup;
    const pool = this.setup.pools()?.explain;
    if (!pool || pool.warmWorkers === 0 || !this.setup.ready()) throw this.notReady();
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    this.explaining += 1;
    try {
      const result = await Promise.race([
        pool.run<Explanation>({ op: 'explain', row, samples, seed: 42, chunkRows }),
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
      if ((error as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        logger.error({ err: error }, 'the explanation worker ran out of memory; it is replaced');
        throw new HttpError(
          500,
          'the explanation ran out of memory (EXPLAIN_MAX_HEAP_MB): ask for fewer samples',
        );
      }
      logger.error({ err: error }, 'explanation failed');
      throw new HttpError(500, 'the explanation failed');
    } finally {
      this.explaining -= 1;
      clearTimeout(timer);
    }
  }

  private notReady(): ShedError {
    this.setup.metrics.shed.inc({ reason: 'not_ready' });
    return new ShedError('not_ready');
  }
}

/**
 * A run that fails on a tensor model's (or a text model's) input is the input's fault once the
 * service has checked names, types and shapes: 400 with the runtime's reason. A crash stays 503.
 */
function modelRejects(error: unknown): never {
  const message = String((error as Error)?.message ?? error);
  if (/worker exited|terminated|pool is closed/i.test(message)) throw error;
  throw new HttpError(
    400,
    `the model cannot run on this input: ${message.split('\n')[0]!.slice(0, 300)}`,
  );
}
