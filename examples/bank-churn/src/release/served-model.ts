/**
 * A model version served by this project's own server (`dist/src/server.js`, the code that will
 * serve it in production) as a child process on 127.0.0.1, for `model:check`: it loads the model
 * and checks it against the contract exactly as a deploy would, and answers `/predict/batch`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { StartupLog } from '../lifecycle/startup-log.js';
import type { Served } from './checks.js';

const serverScript = join(dirname(fileURLToPath(import.meta.url)), '..', 'server.js');

export class ServerStartError extends Error {}

export interface ServedModel {
  readonly address: string;
  /** Predictions for `rows`, in order, in requests of at most `chunk` rows. */
  predict(rows: ReadonlyArray<Record<string, unknown>>, chunk?: number): Promise<Served[]>;
  /** Milliseconds one `/predict/batch` request of `rows` takes. */
  time(rows: ReadonlyArray<Record<string, unknown>>): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the server on `modelPath` and resolves once every worker is warm (or rejects with its output). */
export function serveModel(modelPath: string, timeoutMs = 120_000): Promise<ServedModel> {
  const child = spawn(process.execPath, [serverScript], {
    env: {
      ...process.env,
      MODEL_PATH: modelPath,
      PORT: '0',
      // REST only: two models served side by side must not both claim GRPC_PORT's 8081.
      GRPC_PORT: 'off',
      HOST: '127.0.0.1',
      WORKERS: '1',
      LOG_LEVEL: 'info',
      PREDICTION_LOG_PATH: '',
      // Each model alone: a challenger beside the current model (model/challenger/, maybe the very
      // model under check) would share its CPU and skew the latency gate.
      CHALLENGER_DIR: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const startup = new StartupLog();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new ServerStartError(`${modelPath}: not ready within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      const { address, ready } = startup.read(d);
      if (ready && address) {
        clearTimeout(timer);
        resolve(client(child, address));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const last = output.trim().split('\n').slice(-3).join('\n');
      reject(new ServerStartError(`the service refused ${modelPath} (exit ${code}): ${last}`));
    });
  });
}

function client(child: ChildProcess, address: string): ServedModel {
  const batch = async (rows: ReadonlyArray<Record<string, unknown>>): Promise<Served[]> => {
    const res = await fetch(`${address}/predict/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: rows }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`/predict/batch answered ${res.status}: ${text}`);
    return (JSON.parse(text) as { predictions: Served[] }).predictions;
  };
  return {
    address,
    async predict(rows, chunk = 1000) {
      const out: Served[] = [];
      for (let i = 0; i < rows.length; i += chunk)
        out.push(...(await batch(rows.slice(i, i + chunk))));
      return out;
    },
    async time(rows) {
      const started = performance.now();
      await batch(rows);
      return performance.now() - started;
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
