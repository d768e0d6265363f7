/**
 * Starts the two inference pools: predictions (`WORKERS` threads) and explanations (one thread at a
 * lower priority, only when the model ships a background sample). Both warm up at once; when one
 * fails, the other is stopped and the failure, which names the model file and the cause, is raised.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { type ExplainSetup, InferencePool } from '../inference/pool.js';
import { explainQueue } from '../inference/explain-budget.js';
import type { Metrics } from '../metrics.js';
import type { LoadedModel } from '../model/artifacts.js';
import type { ModelContract } from '../model/contract-types.js';
import type { Row } from '../model/schemas.js';
import { exampleTensors } from '../model/serving.js';

export interface Pools {
  readonly predict: InferencePool;
  readonly explain: InferencePool | undefined;
}

export interface PoolSetup {
  readonly config: Config;
  readonly contract: ModelContract;
  readonly model: LoadedModel;
  readonly metrics: Metrics;
  readonly logger: FastifyBaseLogger;
  readonly warmupRows: readonly Row[];
  readonly tasksPerWorker: number;
  /** Tests only: a wrapper of the inference worker, and data for it. */
  readonly workerFile?: string;
  readonly extraWorkerData?: Record<string, unknown>;
}

export async function startPools(setup: PoolSetup): Promise<Pools> {
  const settled = await Promise.allSettled([startPredictPool(setup), startExplainPool(setup)]);
  const failure = settled.find((r) => r.status === 'rejected');
  if (failure) {
    await Promise.all(
      settled.map((r) => (r.status === 'fulfilled' ? r.value?.destroy() : undefined)),
    );
    throw failure.reason;
  }
  const [predict, explain] = settled.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
  return { predict: predict!, explain };
}

function startPredictPool(setup: PoolSetup): Promise<InferencePool> {
  const { config, contract, model, metrics, logger } = setup;
  return InferencePool.start({
    role: 'predict',
    threads: config.workers,
    contract,
    modelPath: model.path,
    warmupRows: setup.warmupRows,
    ...(contract.kind === 'tensors' ? { warmupTensors: exampleTensors(contract) } : {}),
    tasksPerWorker: setup.tasksPerWorker,
    maxQueue: Math.max(16, config.workers * setup.tasksPerWorker * 4),
    restore: { attempts: config.poolRestoreAttempts, backoffMs: config.poolRestoreBackoffMs },
    ...(setup.workerFile ? { workerFile: setup.workerFile } : {}),
    ...(setup.extraWorkerData ? { extraWorkerData: setup.extraWorkerData } : {}),
    onWorkerLost: () => {
      metrics.workerRestarts.inc();
      logger.error('an inference worker died; piscina is starting a replacement');
    },
    onRestore: (outcome, error) => {
      metrics.poolRestores.inc({ pool: 'predict', outcome });
      if (outcome === 'ok') logger.warn('the inference pool is restored: every worker is warm');
      else logger.error({ err: error }, 'restoring the inference pool failed');
    },
    onError: (error) => logger.error({ err: error }, 'inference pool error'),
  });
}

async function startExplainPool(setup: PoolSetup): Promise<InferencePool | undefined> {
  const { config, contract, model, metrics, logger } = setup;
  const explain = explainSetupOf(contract, model);
  if (!explain) return undefined;
  return InferencePool.start({
    role: 'explain',
    threads: 1,
    contract,
    modelPath: model.path,
    warmupRows: setup.warmupRows,
    explain,
    tasksPerWorker: 1,
    maxQueue: explainQueue,
    // The V8 heap of the explanation worker; onnxruntime's own memory is bounded by EXPLAIN_MAX_WORK.
    resourceLimits: { maxOldGenerationSizeMb: config.explainMaxHeapMb },
    // Explanations yield the CPU to predictions.
    niceIncrement: 10,
    restore: { attempts: config.poolRestoreAttempts, backoffMs: config.poolRestoreBackoffMs },
    onWorkerLost: () =>
      logger.error('the explanation worker died; piscina is starting a replacement'),
    onRestore: (outcome, error) => {
      metrics.poolRestores.inc({ pool: 'explain', outcome });
      if (outcome === 'failed')
        logger.error({ err: error }, 'restoring the explanation pool failed');
    },
    onError: (error) => logger.error({ err: error }, 'explanation pool error'),
  });
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
