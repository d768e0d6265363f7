/**
 * A fixed pool of inference worker threads (piscina): `minThreads = maxThreads`, never idled out,
 * each worker holding one onnxruntime-node session it creates and warms up at start. `start()`
 * resolves once every worker reported its warm-up; a worker that dies is replaced by piscina (the
 * replacement loads and warms its own session before it takes tasks).
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { ModelContract } from '../model/contract-types.js';
import { ModelLoadError } from '../model/artifacts.js';
import type { Row } from '../model/schemas.js';
import { type ExampleTensor, servingInputs } from '../model/serving.js';

export const defaultWorkerFile = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface ExplainSetup {
  readonly background: readonly Row[];
  readonly output: string;
  readonly mode: 'positive' | 'argmax' | 'value';
  readonly positiveIndex: number;
}

export interface PoolOptions {
  readonly role: 'predict' | 'explain';
  readonly threads: number;
  readonly contract: ModelContract;
  readonly modelPath: string;
  readonly warmupRows: readonly Row[];
  /** Tensor models warm up on these instead of rows. */
  readonly warmupTensors?: readonly ExampleTensor[];
  readonly explain?: ExplainSetup;
  /** Tasks one worker may hold (1 running + the rest staged so the worker never waits for the main thread). */
  readonly tasksPerWorker: number;
  /** Tasks piscina may queue (the batcher keeps its own bounded queue in front). */
  readonly maxQueue: number;
  /** Lower the workers' scheduling priority (Linux, best effort). */
  readonly niceIncrement?: number;
  /** Tests swap in a wrapper of the real worker. */
  readonly workerFile?: string;
  readonly extraWorkerData?: Record<string, unknown>;
  readonly onWorkerLost?: (error?: unknown) => void;
  readonly onError?: (error: unknown) => void;
}

interface WorkerMessage {
  readonly type?: string;
  readonly message?: string;
}

export class InferencePool {
  private closing = false;

  private constructor(
    readonly piscina: Piscina,
    readonly threads: number,
  ) {}

  static async start(options: PoolOptions): Promise<InferencePool> {
    const { contract } = options;
    const piscina = new Piscina({
      filename: options.workerFile ?? defaultWorkerFile,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: options.tasksPerWorker,
      maxQueue: options.maxQueue,
      recordTiming: false,
      niceIncrement: options.niceIncrement ?? 0,
      workerData: {
        role: options.role,
        modelPath: options.modelPath,
        modelDir: dirname(options.modelPath),
        kind: contract.kind,
        batching: contract.batching,
        tokenizer: contract.tokenizer,
        graphInputs: contract.inputs.map((i) => ({
          name: i.name,
          type: i.type,
          shape: [...i.shape],
        })),
        inputs: servingInputs(contract),
        warmupTensors: options.warmupTensors,
        outputs: contract.outputs.map((o) => ({ name: o.name, type: o.type })),
        features: contract.features.map((f) => ({
          name: f.name,
          input: f.input,
          column: f.column,
          tensorType: f.tensorType,
          type: f.type,
        })),
        warmupRows: options.warmupRows,
        explain: options.explain,
        ...options.extraWorkerData,
      },
    });
    const pool = new InferencePool(piscina, options.threads);
    await new Promise<void>((resolve, reject) => {
      let warm = 0;
      const onMessage = (message: WorkerMessage) => {
        if (message?.type === 'mlservice:warm') {
          warm += 1;
          if (warm >= options.threads) {
            cleanup();
            resolve();
          }
        } else if (message?.type === 'mlservice:fatal') {
          cleanup();
          reject(new ModelLoadError(message.message ?? 'an inference worker failed to start'));
        }
      };
      const onError = (error: unknown) => {
        cleanup();
        reject(
          new ModelLoadError(
            `an inference worker failed to start: ${(error as Error)?.message ?? String(error)}`,
          ),
        );
      };
      const cleanup = () => {
        piscina.off('message', onMessage);
        piscina.off('error', onError);
      };
      piscina.on('message', onMessage);
      piscina.on('error', onError);
    }).catch(async (err) => {
      pool.closing = true;
      await piscina.destroy().catch(() => undefined);
      throw err;
    });
    // From here on a worker that goes away outside shutdown is a crash; piscina starts a new one.
    piscina.on('workerDestroy', () => {
      if (!pool.closing) options.onWorkerLost?.();
    });
    piscina.on('error', (error: unknown) => options.onError?.(error));
    piscina.on('message', (message: WorkerMessage) => {
      if (message?.type === 'mlservice:fatal')
        options.onError?.(new ModelLoadError(message.message ?? 'worker failed'));
    });
    return pool;
  }

  run<T>(task: unknown): Promise<T> {
    return this.piscina.run(task) as Promise<T>;
  }

  /** Lets running and queued tasks finish, then stops the workers. */
  async close(): Promise<void> {
    this.closing = true;
    await this.piscina.close();
  }
}
