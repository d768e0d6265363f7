/**
 * The prediction log: one JSON line per prediction (time, request id, model version, inputs,
 * outputs, latency), written asynchronously through pino's buffered file destination. Logging is off
 * the request path: a failed or dropped write never fails a prediction, it increments
 * `mlservice_prediction_log_failures_total`. The buffer is bounded, so a stuck disk cannot eat the
 * memory either.
 *
 * Rotation: past `maxBytes` the file is renamed to `<name>.<time>-<n>` and a new one is opened
 * (what the Kubernetes log shipper, which follows `<name>*`, expects); the `keep` newest rotated
 * files are kept, older ones deleted, so /tmp cannot fill up.
 */
import { renameSync, statSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import pino from 'pino';

export interface PredictionRecord {
  readonly requestId: string;
  /** Row index inside a batch request. */
  readonly row?: number;
  readonly endpoint: string;
  readonly model: string;
  readonly modelVersion: string;
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly latencyMs: number;
}

export interface PredictionLog {
  write(record: PredictionRecord): void;
  /** Writes out everything buffered and closes the file (bounded by `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

/** Bytes buffered before lines are dropped (and counted) instead. */
const maxBufferedBytes = 16 * 1024 * 1024;

export interface PredictionLogOptions {
  /** Rotate past this many bytes (0: never). */
  readonly maxBytes: number;
  /** Rotated files kept. */
  readonly keep: number;
}

export function openPredictionLog(
  path: string | null,
  onFailure: (error: unknown) => void,
  options: PredictionLogOptions = { maxBytes: 0, keep: 0 },
): PredictionLog {
  if (path === null) {
    return { write: () => undefined, close: async () => undefined };
  }
  // pino's asynchronous file destination (sonic-boom): lines are buffered and written in the
  // background; the request path only appends a string to the buffer.
  const destination = pino.destination({
    dest: path,
    sync: false,
    mkdir: true,
    minLength: 4096,
    maxLength: maxBufferedBytes,
  });
  let closed = false;
  let failing = false;
  let lastMs = 0;
  let lastTime = '';
  let size = 0;
  let rotations = 0;
  try {
    size = statSync(path).size;
  } catch {
    // a new file
  }
  const rotate = () => {
    size = 0;
    rotations += 1;
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    try {
      renameSync(path, `${path}.${stamp}-${rotations}`);
      destination.reopen();
    } catch (error) {
      onFailure(error);
      return;
    }
    void prune();
  };
  const prune = async () => {
    try {
      const prefix = `${basename(path)}.`;
      const rotated = (await readdir(dirname(path))).filter((f) => f.startsWith(prefix)).sort();
      for (const old of rotated.slice(0, Math.max(0, rotated.length - options.keep))) {
        await unlink(join(dirname(path), old));
      }
    } catch (error) {
      onFailure(error);
    }
  };
  destination.on('error', (error: unknown) => {
    failing = true;
    onFailure(error);
  });
  destination.on('write', () => {
    failing = false;
  });
  destination.on('drop', () => onFailure(new Error('prediction log buffer full: line dropped')));
  return {
    write(record) {
      if (closed) return;
      try {
        const now = Date.now();
        if (now !== lastMs) {
          lastMs = now;
          lastTime = new Date(now).toISOString();
        }
        // {"time":"...", then the record's own members: no intermediate object per line.
        const line = `{"time":"${lastTime}",${JSON.stringify(record).slice(1)}\n`;
        destination.write(line);
        size += line.length;
        if (options.maxBytes > 0 && size >= options.maxBytes) rotate();
      } catch (error) {
        onFailure(error);
      }
    },
    close(timeoutMs = 5000) {
      if (closed) return Promise.resolve();
      closed = true;
      if (failing) {
        // The disk refuses writes: what is buffered is lost (and was counted); do not wait for it.
        destination.destroy();
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          destination.destroy();
          resolve();
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          resolve();
        };
        destination.once('close', finish);
        destination.once('error', finish);
        try {
          destination.end();
        } catch (error) {
          onFailure(error);
          finish();
        }
      });
    },
  };
}
