/**
 * Dynamic batching in front of the worker pool, with a bounded queue.
 *
 * Requests wait in one FIFO queue. Once per event-loop turn (setImmediate, right after the I/O
 * that parsed the requests), and whenever a worker slot frees up, the batcher takes as many queued
 * requests as fit in `maxBatchSize` rows and sends them to the pool as one model run. This is
 * Triton's "no delay" dynamic batching at event-loop granularity: at low load a request runs alone
 * and at once; under load, the requests parsed in the same turn, and those that arrive while the
 * workers are busy, are coalesced. `maxBatchDelayMs > 0` additionally waits up to that long for a
 * batch to fill.
 *
 * Overload: a full queue refuses at once (503 queue_full); a request queued longer than
 * `queueTimeoutMs` is refused (503 queue_timeout); a request past its deadline gets 504 whether it
 * is queued or running (a running batch is never interrupted: its result is dropped).
 */
import { performance } from 'node:perf_hooks';
import { DeadlineError, HttpError, ShedError, WorkerCrashError } from '../errors.js';
import type { Metrics } from '../metrics.js';

export type OutputArray = Float32Array | Float64Array | Int32Array | number[] | string[];
export interface OutputTensor {
  readonly dims: readonly number[];
  readonly data: OutputArray;
}
export type Outputs = Record<string, OutputTensor>;

export interface RunResult {
  readonly outputs: Outputs;
  readonly computeMs: number;
}

export interface JobResult {
  /** The job's rows only. */
  readonly outputs: Outputs;
  readonly queueMs: number;
  readonly computeMs: number;
  readonly batchRows: number;
}

export interface BatcherOptions {
  readonly maxBatchSize: number;
  readonly maxBatchDelayMs: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Worker threads: a partial batch is sent only while one of them is idle. */
  readonly workers: number;
  /** Batches allowed in the pool at once (workers x tasks per worker): full batches may queue behind running ones. */
  readonly maxInflightBatches: number;
}

/** A request's work: its payload (rows, tensors...), how many batch rows it holds, and what it may merge with. */
export interface Work<T> {
  readonly payload: T;
  readonly rows: number;
  /**
   * Requests merge only with requests of the same key (tensor models: the same non-batch
   * dimensions); `undefined` merges with any other undefined key; `null` never merges.
   */
  readonly key?: string | null;
}

interface Job<T> extends Work<T> {
  readonly enqueuedAt: number;
  readonly deadline: number;
  readonly resolve: (result: JobResult) => void;
  readonly reject: (error: Error) => void;
  settled: boolean;
}

export class Batcher<T> {
  private queue: Job<T>[] = [];
  private head = 0;
  private queuedRows = 0;
  private inflightBatches = 0;
  private readonly running = new Set<readonly Job<T>[]>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private delayTimer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private readonly sweepEveryMs: number;
  private readonly scheduledPump = () => {
    this.pumpScheduled = false;
    this.pump();
  };

  constructor(
    /** Runs the payloads of one batch as one model run; rows are concatenated in order. */
    private readonly execute: (payloads: T[], rows: number) => Promise<RunResult>,
    private readonly options: BatcherOptions,
    private readonly metrics: Pick<
      Metrics,
      'queueWait' | 'inferenceDuration' | 'batchSize' | 'shed' | 'timeouts'
    >,
    private readonly onRunError: (error: unknown) => void = () => undefined,
  ) {
    this.sweepEveryMs = Math.min(
      50,
      Math.max(1, Math.floor(Math.min(options.queueTimeoutMs, options.requestTimeoutMs) / 20)),
    );
  }

  /** Requests waiting for a worker. */
  get depth(): number {
    return this.queue.length - this.head;
  }

  /**
   * No room for another request. Requests the next dispatch (this event-loop turn) will send to a
   * free worker do not count as queued.
   */
  get full(): boolean {
    const free =
      Math.max(0, this.options.maxInflightBatches - this.inflightBatches) *
      this.options.maxBatchSize;
    return this.depth >= this.options.maxQueue + free;
  }

  /** Requests queued or running. */
  get pending(): number {
    let running = 0;
    for (const jobs of this.running) running += jobs.length;
    return this.depth + running;
  }

  /**
   * Queues work for inference. `startedAt` is when the request arrived (performance.now()): the
   * deadline counts from there.
   */
  submit(work: Work<T>, startedAt: number = performance.now()): Promise<JobResult> {
    if (this.full) {
      this.metrics.shed.inc({ reason: 'queue_full' });
      return Promise.reject(new ShedError('queue_full'));
    }
    return new Promise<JobResult>((resolve, reject) => {
      this.queue.push({
        payload: work.payload,
        rows: work.rows,
        key: work.key,
        enqueuedAt: performance.now(),
        deadline: startedAt + this.options.requestTimeoutMs,
        resolve,
        reject,
        settled: false,
      });
      this.queuedRows += work.rows;
      this.schedule();
      if (this.sweepTimer === undefined && (this.depth > 0 || this.running.size > 0)) {
        this.sweepTimer = setInterval(() => this.sweep(), this.sweepEveryMs);
        this.sweepTimer.unref();
      }
    });
  }

  private schedule(): void {
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(this.scheduledPump);
    }
  }

  private shift(): Job<T> | undefined {
    if (this.head >= this.queue.length) return undefined;
    const job = this.queue[this.head]!;
    this.head += 1;
    this.queuedRows -= job.rows;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return job;
  }

  private pump(): void {
    const { maxBatchSize, maxBatchDelayMs, maxInflightBatches, workers } = this.options;
    while (this.inflightBatches < maxInflightBatches && this.depth > 0) {
      const oldest = this.queue[this.head]!;
      if (oldest.settled) {
        this.shift();
        continue;
      }
      // Every worker busy: stage a batch behind a running one only once it is full; until then
      // more requests join it (bigger batches cost less per row, and nobody waits longer).
      if (this.inflightBatches >= workers && this.queuedRows < maxBatchSize) return;
      if (maxBatchDelayMs > 0 && this.queuedRows < maxBatchSize) {
        const waited = performance.now() - oldest.enqueuedAt;
        if (waited < maxBatchDelayMs) {
          if (this.delayTimer === undefined) {
            this.delayTimer = setTimeout(() => {
              this.delayTimer = undefined;
              this.pump();
            }, maxBatchDelayMs - waited);
          }
          return;
        }
      }
      const jobs: Job<T>[] = [];
      let rows = 0;
      while (this.depth > 0) {
        const next = this.queue[this.head]!;
        // A busy event loop runs the sweep late: a job past its queue time is refused here too.
        // The clock is read per job: refusing hundreds of expired jobs takes milliseconds, and a
        // job behind them must not be sent on with a wait measured before that.
        if (next.settled || this.expire(next, performance.now())) {
          this.shift();
          continue;
        }
        if (jobs.length > 0 && (rows + next.rows > maxBatchSize || !mergeable(jobs[0]!, next)))
          break;
        this.shift();
        jobs.push(next);
        rows += next.rows;
      }
      if (jobs.length > 0) this.dispatch(jobs, rows);
    }
  }

  private dispatch(jobs: Job<T>[], rowCount: number): void {
    const now = performance.now();
    for (const job of jobs) this.metrics.queueWait.observe((now - job.enqueuedAt) / 1000);
    this.metrics.batchSize.observe(rowCount);
    this.inflightBatches += 1;
    this.running.add(jobs);
    const done = () => {
      this.inflightBatches -= 1;
      this.running.delete(jobs);
      this.schedule();
    };
    this.execute(
      jobs.map((j) => j.payload),
      rowCount,
    ).then(
      (result) => {
        done();
        this.metrics.inferenceDuration.observe(result.computeMs / 1000);
        const queueEnd = now;
        let offset = 0;
        for (const job of jobs) {
          const count = job.rows;
          if (!job.settled) {
            job.settled = true;
            job.resolve({
              outputs: sliceOutputs(result.outputs, rowCount, offset, count),
              queueMs: queueEnd - job.enqueuedAt,
              computeMs: result.computeMs,
              batchRows: rowCount,
            });
          }
          offset += count;
        }
      },
      (error: unknown) => {
        done();
        if (jobs.length > 1 && !isWorkerCrash(error)) {
          // One request's input may be what the model cannot take: run each alone, so that only
          // that request fails.
          for (const job of jobs) if (!job.settled) this.dispatch([job], job.rows);
          return;
        }
        this.onRunError(error);
        const mapped = isWorkerCrash(error)
          ? new WorkerCrashError()
          : error instanceof HttpError
            ? error
            : new HttpError(500, 'inference failed');
        for (const job of jobs) {
          if (!job.settled) {
            job.settled = true;
            job.reject(mapped);
          }
        }
      },
    );
  }

  /** Refuses a queued job past its deadline (504) or its queue time (503); true when it did. */
  private expire(job: Job<T>, now: number): boolean {
    if (now >= job.deadline) {
      job.settled = true;
      this.metrics.timeouts.inc();
      job.reject(new DeadlineError(this.options.requestTimeoutMs));
      return true;
    }
    if (now - job.enqueuedAt >= this.options.queueTimeoutMs) {
      job.settled = true;
      this.metrics.shed.inc({ reason: 'queue_timeout' });
      job.reject(new ShedError('queue_timeout'));
      return true;
    }
    return false;
  }

  private sweep(): void {
    const now = performance.now();
    while (this.depth > 0) {
      const job = this.queue[this.head]!;
      if (job.settled) {
        this.shift();
        continue;
      }
      if (!this.expire(job, now)) break;
      this.shift();
    }
    for (const jobs of this.running) {
      for (const job of jobs) {
        if (!job.settled && now >= job.deadline) {
          job.settled = true;
          this.metrics.timeouts.inc();
          job.reject(new DeadlineError(this.options.requestTimeoutMs));
        }
      }
    }
    if (this.depth === 0 && this.running.size === 0 && this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }
}

function mergeable<T>(first: Job<T>, next: Job<T>): boolean {
  return first.key !== null && next.key !== null && first.key === next.key;
}

function isWorkerCrash(error: unknown): boolean {
  const message = (error as Error)?.message ?? '';
  return /worker exited|terminated/i.test(message);
}

function sliceOutputs(outputs: Outputs, total: number, offset: number, count: number): Outputs {
  if (offset === 0 && count === total) return outputs;
  const out: Outputs = {};
  for (const [name, tensor] of Object.entries(outputs)) {
    const n = tensor.dims[0];
    if (n !== total || total === 0) {
      out[name] = tensor;
      continue;
    }
    const per = tensor.data.length / total;
    const from = offset * per;
    const to = (offset + count) * per;
    const data = Array.isArray(tensor.data)
      ? tensor.data.slice(from, to)
      : (tensor.data as Float32Array | Float64Array | Int32Array).subarray(from, to);
    out[name] = { dims: [count, ...tensor.dims.slice(1)], data: data as OutputArray };
  }
  return out;
}
