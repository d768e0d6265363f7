/**
 * A fixed pool of inference worker threads (piscina): `minThreads = maxThreads`, never idled out,
 * each worker holding one onnxruntime-node session it creates and warms up at start.
 *
 * The pool knows how many of its workers are warm, and says so (`health`, the `health` event):
 * - `start()` resolves once every worker reported its warm-up, and rejects only once every worker
 *   has settled (warm or failed): tearing down a worker while it is still inside onnxruntime's
 *   session creation aborts the whole process (`terminate called after throwing Napi::Error`).
 * - A worker that dies is replaced by piscina; the replacement loads and warms its own session
 *   before it takes tasks. When a replacement cannot load the model, piscina stops replacing
 *   workers for good, so the pool restores itself: it launches a fresh set of workers after a
 *   back-off (doubling from `restore.backoffMs`), swaps it in once every worker is warm, and after
 *   `restore.attempts` failed launches reports `failed` (liveness then fails: replace the pod).
 */
import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
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
  readonly role: 'predict' | 'explain' | 'challenger';
  readonly threads: number;
  readonly contract: ModelContract;
  readonly modelPath: string;
  readonly warmupRows: readonly Row[];
  /** Tensor models warm up on these instead of rows. */
  readonly warmupTensors?: readonly ExampleTensor[];
  readonly explain?: ExplainSetup;
  /** Tasks one worker may hold (1 running + the rest staged so the worker never waits for the main thread). */
  readonly tasksPerWorker: number;
  /** The most rows of records one model run takes (MAX_BATCH_SIZE); more run in several. */
  readonly maxRunRows?: number;
  /** Tasks piscina may queue (the batcher keeps its own bounded queue in front). */
  readonly maxQueue: number;
  /** Lower the workers' scheduling priority (Linux, best effort). */
  readonly niceIncrement?: number;
  /** V8 heap limits of each worker: a runaway task kills its worker, not the process. */
  readonly resourceLimits?: ResourceLimits;
  /** Launches of a fresh set of workers after a replacement failed to load, and the first delay. */
  readonly restore?: { readonly attempts: number; readonly backoffMs: number };
  /** Tests swap in a wrapper of the real worker. */
  readonly workerFile?: string;
  readonly extraWorkerData?: Record<string, unknown>;
  readonly onWorkerLost?: () => void;
  readonly onRestore?: (outcome: 'ok' | 'failed', error?: unknown) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * `ready`: every worker warm; `degraded`: some; `down`: none (restoring); `failed`: restoring gave
 * up; `closed`: shut down.
 */
export type PoolHealth = 'ready' | 'degraded' | 'down' | 'failed' | 'closed';

interface WorkerMessage {
  readonly type?: string;
  readonly message?: string;
  readonly threadId?: number;
}

/** The longest wait between two restore attempts. */
const maxBackoffMs = 30_000;

export class InferencePool extends EventEmitter<{
  health: [PoolHealth];
  restore: ['ok' | 'failed'];
}> {
  private closing = false;
  private gaveUp = false;
  private restoring: Promise<void> | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;
  private lastHealth: PoolHealth;

  private constructor(
    private readonly options: PoolOptions,
    private piscina: Piscina,
    private warm: Set<number>,
  ) {
    super();
    this.lastHealth = 'ready';
    this.watch(piscina, warm);
  }

  static async start(options: PoolOptions): Promise<InferencePool> {
    const { piscina, warm } = await launch(options);
    return new InferencePool(options, piscina, warm);
  }

  get threads(): number {
    return this.options.threads;
  }

  /** Workers that are warm and take tasks. */
  get warmWorkers(): number {
    return this.warm.size;
  }

  get health(): PoolHealth {
    if (this.closing) return 'closed';
    if (this.gaveUp) return 'failed';
    if (this.warm.size === 0) return 'down';
    return this.warm.size < this.options.threads ? 'degraded' : 'ready';
  }

  run<T>(task: unknown): Promise<T> {
    return this.piscina.run(task) as Promise<T>;
  }

  /** Lets running and queued tasks finish, then stops the workers. */
  async close(): Promise<void> {
    this.closing = true;
    clearTimeout(this.backoffTimer);
    this.changed();
    await this.piscina.close();
  }

  /** Stops the workers now; queued and running tasks fail. */
  async destroy(): Promise<void> {
    this.closing = true;
    clearTimeout(this.backoffTimer);
    this.changed();
    await this.piscina.destroy();
  }

  private changed(): void {
    const health = this.health;
    if (health === this.lastHealth) return;
    this.lastHealth = health;
    this.emit('health', health);
  }

  private watch(piscina: Piscina, warm: Set<number>): void {
    piscina.on('message', (message: WorkerMessage) => {
      if (piscina !== this.piscina) return;
      if (message?.type === 'mlservice:warm' && message.threadId !== undefined) {
        warm.add(message.threadId);
        this.changed();
      } else if (message?.type === 'mlservice:fatal') {
        this.options.onError?.(new ModelLoadError(message.message ?? 'worker failed'));
      }
    });
    piscina.on('workerDestroy', (worker: { id: number }) => {
      if (piscina !== this.piscina || this.closing) return;
      if (dropWarm(piscina, warm, worker.id)) {
        // A warm worker died: piscina starts a replacement.
        this.options.onWorkerLost?.();
        this.changed();
      } else {
        // A replacement died before it was warm: piscina will not try again.
        this.restore();
      }
    });
    piscina.on('error', (error: unknown) => this.options.onError?.(error));
  }

  private restore(): void {
    this.restoring ??= this.restoreLoop().finally(() => {
      this.restoring = undefined;
    });
  }

  private async restoreLoop(): Promise<void> {
    const { attempts, backoffMs } = this.options.restore ?? { attempts: 0, backoffMs: 0 };
    for (let attempt = 0; attempt < attempts; attempt++) {
      const delay = Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
      await new Promise<void>((resolve) => {
        this.backoffTimer = setTimeout(resolve, delay);
        this.backoffTimer.unref();
      });
      if (this.closing) return;
      try {
        const fresh = await launch(this.options);
        if (this.closing) {
          await fresh.piscina.destroy();
          return;
        }
        const old = this.piscina;
        this.piscina = fresh.piscina;
        this.warm = fresh.warm;
        this.watch(fresh.piscina, fresh.warm);
        this.options.onRestore?.('ok');
        this.changed();
        this.emit('restore', 'ok');
        // The old workers finish what they hold; what is queued there fails (the pool was stuck).
        void old.close({ force: true }).catch(() => undefined);
        return;
      } catch (error) {
        this.options.onRestore?.('failed', error);
        this.emit('restore', 'failed');
      }
    }
    this.gaveUp = true;
    this.changed();
  }
}

/**
 * Starts `options.threads` workers and resolves once each one is warm. If any fails, waits until
 * every worker has settled (warm, failed or exited), destroys the pool and rejects with the first
 * failure.
 */
function launch(options: PoolOptions): Promise<{ piscina: Piscina; warm: Set<number> }> {
  const piscina = new Piscina({
    filename: options.workerFile ?? defaultWorkerFile,
    minThreads: options.threads,
    maxThreads: options.threads,
    idleTimeout: Number.POSITIVE_INFINITY,
    concurrentTasksPerWorker: options.tasksPerWorker,
    maxQueue: options.maxQueue,
    recordTiming: false,
    niceIncrement: options.niceIncrement ?? 0,
    ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    workerData: workerDataOf(options),
  });
  const warm = new Set<number>();
  const fatal = new Map<number, string>();
  const failures: string[] = [];
  // piscina announces a worker's end before it drops it from `threads`.
  const gone = new Set<number>();
  let lastError: string | undefined;
  return new Promise<{ piscina: Piscina; warm: Set<number> }>((resolve, reject) => {
    const done = () => {
      piscina.off('message', onMessage);
      piscina.off('workerDestroy', onDestroy);
      // The 'error' listener stays: an 'error' event without one would throw in the main thread.
    };
    const settle = () => {
      if (failures.length === 0) {
        if (warm.size < options.threads) return;
        done();
        resolve({ piscina, warm });
        return;
      }
      // piscina replaces a worker that failed at start once: wait until no worker is still loading
      // (inside onnxruntime), then the pool can go.
      const settled = (id: number) => id < 0 || warm.has(id) || gone.has(id);
      if (!piscina.threads.every((t) => settled(t.threadId))) return;
      done();
      void piscina
        .destroy()
        .catch(() => undefined)
        .finally(() => reject(new ModelLoadError(failures[0]!)));
    };
    const onMessage = (message: WorkerMessage) => {
      if (message?.threadId === undefined) return;
      if (message.type === 'mlservice:warm') warm.add(message.threadId);
      else if (message.type === 'mlservice:fatal' && message.message)
        fatal.set(message.threadId, message.message);
      settle();
    };
    // A worker that failed to start is destroyed by piscina; its fatal message came first.
    // A worker that failed to start is destroyed by piscina, which reports the worker's error
    // right after: settle once both are in.
    const onDestroy = (worker: { id: number }) => {
      gone.add(worker.id);
      if (dropWarm(piscina, warm, worker.id)) return;
      const failed = worker.id;
      setImmediate(() => {
        failures.push(
          fatal.get(failed) ??
            (lastError ? `cannot start an inference worker: ${lastError}` : undefined) ??
            `an inference worker failed to start (thread ${failed} exited)`,
        );
        settle();
      });
    };
    // piscina also reports a failed start as an 'error'; the worker's own message says more.
    const onError = (error: unknown) => {
      lastError = (error as Error)?.message ?? String(error);
    };
    piscina.on('message', onMessage);
    piscina.on('workerDestroy', onDestroy);
    piscina.on('error', onError);
  });
}

/**
 * Forgets the worker piscina is destroying; true when it was warm. A worker that exited reads
 * thread id -1 by then, so the warm set keeps only the ids of threads still running.
 */
function dropWarm(piscina: Piscina, warm: Set<number>, id: number): boolean {
  const before = warm.size;
  const running = new Set(piscina.threads.map((t) => t.threadId).filter((t) => t >= 0));
  for (const w of warm) if (w === id || !running.has(w)) warm.delete(w);
  return warm.size < before;
}

function workerDataOf(options: PoolOptions): Record<string, unknown> {
  const { contract } = options;
  return {
    role: options.role,
    modelPath: options.modelPath,
    modelDir: dirname(options.modelPath),
    kind: contract.kind,
    batching: contract.batching,
    maxRunRows: options.maxRunRows,
    tokenizer: contract.tokenizer,
    graphInputs: contract.inputs.map((i) => ({ name: i.name, type: i.type, shape: [...i.shape] })),
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
  };
}
