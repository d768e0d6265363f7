/**
 * The prediction log: one JSON line per prediction (time, request id, model version, inputs,
 * outputs, latency), written in the background. Logging is off the request path: a line only joins
 * an in-memory buffer; once per event-loop turn what is buffered is written to the file in one
 * asynchronous write (libuv's thread pool, never the event loop).
 *
 * Bounds and accounting:
 * - the buffer holds at most `bufferBytes` (PREDICTION_LOG_BUFFER_BYTES): a line that does not fit
 *   is dropped, and every lost line (dropped, or in a write that failed) is reported to `onLost`,
 *   which counts it in `mlservice_prediction_log_failures_total`. A prediction never fails;
 * - rotation counts the bytes actually written: before a write would take the file past
 *   `maxBytes`, the file is renamed to `<name>.<time>-<n>` (what the Kubernetes log shipper, which
 *   follows `<name>*`, expects) and a new one is opened; the `keep` newest rotated files are kept;
 * - a file that cannot be opened (a read-only or missing directory) is reported once by
 *   `onUnavailable` at start, retried at most once a second, and every line meanwhile is lost and
 *   counted.
 */
import { type FileHandle, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface PredictionRecord {
  readonly requestId: string;
  /** Row index inside a batch request. */
  readonly row?: number;
  /** What the client got to name this prediction in POST /feedback. */
  readonly predictionId?: string;
  /** The entity the prediction is about, when the request named one. */
  readonly entityId?: string;
  readonly endpoint: string;
  readonly model: string;
  readonly modelVersion: string;
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly latencyMs: number;
}

export interface PredictionLogStats {
  /** Lines written to the file. */
  readonly written: number;
  /** Lines lost (dropped from a full buffer, or in a failed write). */
  readonly lost: number;
  /** Bytes in the current file. */
  readonly fileBytes: number;
}

/** A JSONL log of records of type `R` (the prediction log; the feedback log uses it too). */
export interface PredictionLog<R extends object = PredictionRecord> {
  /** Appends `record` with its `time` (`at`, epoch ms: when it happened; default now). */
  write(record: R, at?: number): void;
  /** Writes out everything buffered and closes the file (bounded by `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
  stats(): PredictionLogStats;
}

export interface PredictionLogOptions {
  /** Rotate before the file would pass this many bytes (0: never). */
  readonly maxBytes: number;
  /** Rotated files kept. */
  readonly keep: number;
  /** Bytes (UTF-16 code units) buffered before lines are dropped. */
  readonly bufferBytes: number;
  /** Lines lost, with the reason. */
  readonly onLost: (lines: number, error: unknown) => void;
  /** The file cannot be opened at start (the service runs on, counting lost lines). */
  readonly onUnavailable?: (error: unknown) => void;
}

/** A failed open is retried at most this often. */
const reopenEveryMs = 1000;

export async function openPredictionLog<R extends object = PredictionRecord>(
  path: string | null,
  options: PredictionLogOptions,
): Promise<PredictionLog<R>> {
  if (path === null) {
    const none = { written: 0, lost: 0, fileBytes: 0 };
    return { write: () => undefined, close: async () => undefined, stats: () => none };
  }
  const log = new FileLog<R>(path, options);
  try {
    await log.open();
  } catch (error) {
    options.onUnavailable?.(error);
  }
  return log;
}

class FileLog<R extends object> implements PredictionLog<R> {
  private chunks: string[] = [];
  private pendingLines = 0;
  private pendingBytes = 0;
  private handle: FileHandle | null = null;
  private fileBytes = 0;
  private written = 0;
  private lost = 0;
  private rotations = 0;
  private openFailedAt = Number.NEGATIVE_INFINITY;
  private openError: unknown;
  private scheduled = false;
  private flushing: Promise<void> | null = null;
  private closed = false;
  private lastMs = 0;
  private lastTime = '';

  constructor(
    private readonly path: string,
    private readonly options: PredictionLogOptions,
  ) {}

  write(record: R, at?: number): void {
    const now = at ?? Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastTime = new Date(now).toISOString();
    }
    // {"time":"...", then the record's own members: no intermediate object per line.
    const line = `{"time":"${this.lastTime}",${JSON.stringify(record).slice(1)}\n`;
    if (this.closed) return this.lose(1, new Error('the prediction log is closed'));
    if (this.pendingBytes + line.length > this.options.bufferBytes) {
      return this.lose(1, new Error('prediction log buffer full (PREDICTION_LOG_BUFFER_BYTES)'));
    }
    this.chunks.push(line);
    this.pendingLines += 1;
    this.pendingBytes += line.length;
    if (!this.scheduled && !this.flushing) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flushing ??= this.flushAll();
      });
    }
  }

  stats(): PredictionLogStats {
    return { written: this.written, lost: this.lost, fileBytes: this.fileBytes };
  }

  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushing ??= this.flushAll();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.flushing.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.lose(this.pendingLines, new Error('shutdown: the log flush timed out'));
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
  }

  /** Opens (or reopens) the file for appending. */
  async open(): Promise<void> {
    try {
      await makeDirectory(dirname(this.path));
      const handle = await open(this.path, 'a');
      this.fileBytes = (await handle.stat()).size;
      this.handle = handle;
    } catch (error) {
      this.openFailedAt = Date.now();
      this.openError = error;
      throw error;
    }
  }

  private lose(lines: number, error: unknown): void {
    if (lines <= 0) return;
    this.lost += lines;
    this.options.onLost(lines, error);
  }

  /** Writes what is buffered, one write per turn's worth of lines, until nothing is left. */
  private async flushAll(): Promise<void> {
    while (this.chunks.length > 0) {
      const data = Buffer.from(this.chunks.join(''));
      const lines = this.pendingLines;
      this.chunks = [];
      this.pendingLines = 0;
      this.pendingBytes = 0;
      try {
        await this.writeOut(data);
        this.written += lines;
      } catch (error) {
        this.lose(lines, error);
      }
    }
    this.flushing = null;
  }

  /** Writes whole lines, rotating whenever the next ones would take the file past `maxBytes`. */
  private async writeOut(data: Buffer): Promise<void> {
    if (!this.handle) {
      if (Date.now() - this.openFailedAt < reopenEveryMs) throw this.openError;
      await this.open();
    }
    const { maxBytes } = this.options;
    let rest = data;
    while (rest.length > 0) {
      const room = maxBytes > 0 ? maxBytes - this.fileBytes : rest.length;
      // The whole lines that fit; a line longer than the limit goes alone into a fresh file.
      let cut =
        rest.length <= room ? rest.length : room > 0 ? rest.lastIndexOf(0x0a, room - 1) + 1 : 0;
      if (cut <= 0 && this.fileBytes > 0) {
        await this.rotate();
        continue;
      }
      if (cut <= 0) cut = rest.indexOf(0x0a) + 1 || rest.length;
      await this.append(rest.subarray(0, cut));
      rest = rest.subarray(cut);
      if (rest.length > 0) await this.rotate();
    }
  }

  private async append(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.handle!.write(data, offset);
      offset += bytesWritten;
      this.fileBytes += bytesWritten;
    }
  }

  private async rotate(): Promise<void> {
    this.rotations += 1;
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    await this.handle?.close();
    this.handle = null;
    await rename(this.path, `${this.path}.${stamp}-${this.rotations}`);
    await this.open();
    const prefix = `${basename(this.path)}.`;
    const rotated = (await readdir(dirname(this.path))).filter((f) => f.startsWith(prefix)).sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.options.keep))) {
      await unlink(join(dirname(this.path), old)).catch(() => undefined);
    }
  }
}

/**
 * `mkdir -p`, one level at a time: Node's recursive mkdir never returns on a path under /proc (it
 * retries the ENOENT the kernel answers there).
 */
async function makeDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    await makeDirectory(parent);
    await mkdir(dir).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}
