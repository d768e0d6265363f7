/**
 * The prediction log: one JSON line per prediction (time, request id, model version, inputs,
 * outputs, latency), written asynchronously through pino's buffered file destination. Logging is off
 * the request path: a failed or dropped write never fails a prediction, it increments
 * `mlservice_prediction_log_failures_total`. The buffer is bounded, so a stuck disk cannot eat the
 * memory either.
 */
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

export function openPredictionLog(
  path: string | null,
  onFailure: (error: unknown) => void,
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
        destination.write(`{"time":"${lastTime}",${JSON.stringify(record).slice(1)}\n`);
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
