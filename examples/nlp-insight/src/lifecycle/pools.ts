/**
 * Starts the inference pools: predictions (`WORKERS` threads), explanations (one thread at a lower
 * priority, only when the model ships a background sample) and the challenger in shadow (one
 * thread at a lower priority, only when CHALLENGER_DIR holds a model). All warm up at once; when
 * one fails, the others are stopped and the failure, which names the model file and the cause, is
 * raised: a challenger that cannot start fails the start (ADR 0017).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import { type ExplainSetup, InferencePool } from '../inference/pool.js';
import { explainQueue } from '../inference/explain-budget.js';
import type { Metrics } from '../metrics.js';
import { type LoadedModel, ModelLoadError } from '../model/artifacts.js';
import type { ChallengerModel } from '../monitoring/challenger.js';
import type { ModelContract } from '../model/contract-types.js';
import type { Row } from '../model/schemas.js';
import { exampleTensors } from '../model/serving.js';

export interface Pools {
  readonly predict: InferencePool;
  readonly explain: InferencePool | undefined;
  readonly challenger: InferencePool | undefined;
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
  /** The challenger in shadow, when CHALLENGER_DIR holds one. */
  readonly challenger?: ChallengerModel;
  /** Tests only: a wrapper of the challenger's worker, and data for it. */
  readonly challengerWorkerFile?: string;
  readonly challengerWorkerData?: Record<string, unknown>;
}

export async function startPools(setup: PoolSetup): Promise<Pools> {
  const settled = await Promise.allSettled([
    startPredictPool(setup),
    startExplainPool(setup),
    startChallengerPool(setup),
  ]);
  const failure = settled.find((r) => r.status === 'rejected');
  if (failure) {
    await Promise.all(
      settled.map((r) => (r.status === 'fulfilled' ? r.value?.destroy() : undefined)),
    );
    throw failure.reason;
  }
  const [predict, explain, challenger] = settled.map((r) =>
    r.status === 'fulfilled' ? r.value : undefined,
  );
  return { predict: predict!, explain, challenger };
}

function startPredictPool(setup: PoolSetup): Promise<InferencePool> {
  const { config, contract, model } = setup;
  return InferencePool.start({
    role: 'predict',
    threads: config.workers,
    contract,
    modelPath: model.path,
    warmupRows: setup.warmupRows,
    ...(contract.kind === 'tensors' ? { warmupTensors: exampleTensors(contract) } : {}),
    tasksPerWorker: setup.tasksPerWorker,
    maxRunRows: config.maxBatchSize,
    maxQueue: Math.max(16, config.workers * setup.tasksPerWorker * 4),
    ...(setup.workerFile ? { workerFile: setup.workerFile } : {}),
    ...(setup.extraWorkerData ? { extraWorkerData: setup.extraWorkerData } : {}),
    ...supervision(setup, 'predict'),
  });
}

async function startExplainPool(setup: PoolSetup): Promise<InferencePool | undefined> {
  const { config, contract, model } = setup;
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
    ...supervision(setup, 'explain'),
  });
}

async function startChallengerPool(setup: PoolSetup): Promise<InferencePool | undefined> {
  const { config, challenger } = setup;
  if (!challenger) return undefined;
  try {
    return await InferencePool.start({
      role: 'challenger',
      threads: 1,
      contract: challenger.contract,
      modelPath: challenger.path,
      warmupRows: setup.warmupRows,
      tasksPerWorker: 1,
      maxRunRows: config.maxBatchSize,
      // The monitor keeps at most CHALLENGER_QUEUE rows waiting; a task holds at least one.
      maxQueue: config.challengerQueue,
      // The challenger yields the CPU to predictions, like explanations.
      niceIncrement: 10,
      ...(setup.challengerWorkerFile ? { workerFile: setup.challengerWorkerFile } : {}),
      ...(setup.challengerWorkerData ? { extraWorkerData: setup.challengerWorkerData } : {}),
      ...supervision(setup, 'challenger'),
    });
  } catch (error) {
    throw new ModelLoadError(
      `the challenger in ${challenger.dir} cannot start, so the service does not either: ${(error as Error).message}. Fix the challenger, or remove ${challenger.dir} (or set CHALLENGER_DIR empty) to serve without it`,
    );
  }
}

/** How each pool names itself and its workers in the logs. */
const poolNames = {
  predict: { pool: 'inference', worker: 'an inference worker' },
  explain: { pool: 'explanation', worker: 'the explanation worker' },
  challenger: { pool: 'challenger', worker: 'the challenger worker' },
} as const;

/**
 * What every pool shares: restoring itself after a replacement worker failed to load, and saying
 * so in the logs and the metrics (a lost prediction worker also counts in workerRestarts).
 */
function supervision(setup: PoolSetup, role: keyof typeof poolNames) {
  const { config, metrics, logger } = setup;
  const { pool, worker } = poolNames[role];
  return {
    restore: { attempts: config.poolRestoreAttempts, backoffMs: config.poolRestoreBackoffMs },
    onWorkerLost: () => {
      if (role === 'predict') metrics.workerRestarts.inc();
      logger.error(`${worker} died; piscina is starting a replacement`);
    },
    onRestore: (outcome: 'ok' | 'failed', error?: unknown) => {
      metrics.poolRestores.inc({ pool: role, outcome });
      if (outcome === 'ok') logger.warn(`the ${pool} pool is restored: every worker is warm`);
      else logger.error({ err: error }, `restoring the ${pool} pool failed`);
    },
    onError: (error: unknown) => logger.error({ err: error }, `${pool} pool error`),
  };
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
  // One column (a sigmoid's probability or logit) is the positive class's: explained as it is.
  const oneColumn =
    contract.scores === 'positive-probability' || contract.scores === 'positive-logit';
  return {
    background: model.background,
    output: contract.outputNames.probabilities!,
    mode: oneColumn || (positive >= 0 && contract.task === 'binary') ? 'positive' : 'argmax',
    positiveIndex: oneColumn ? 0 : Math.max(0, positive),
  };
}
