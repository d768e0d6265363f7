// @ts-check
/**
 * `npm run bench`: the built server as a real process on 127.0.0.1, loaded with autocannon.
 *
 *   1. warm-up (discarded);
 *   2. BENCH_CONNECTIONS (100) connections for BENCH_SECONDS (10 s): req/s, p50/p99, non-2xx;
 *   3. overload: BENCH_OVERLOAD_FACTOR (10) times the connections: shed rate (503) and the
 *      latency of the requests that were accepted.
 *
 * The results go to bench/results/<time>.json. On a shared machine, compare runs made one after
 * the other, never absolute numbers from different days.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, load } from './load.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const overloadFactor = Number(process.env.BENCH_OVERLOAD_FACTOR ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);

/**
 * Starts `node dist/src/server.js` and resolves with its address once every worker is warm.
 * `onSpawn` gets the child at once, so a caller can kill it even before it is ready; `nodeArgs`
 * go to node before the script (e.g. `--cpu-prof`).
 * @param {Record<string, string>} env
 * @param {{ onSpawn?: (child: import('node:child_process').ChildProcess) => void, nodeArgs?: string[] }} [options]
 */
export async function startServer(env = {}, options = {}) {
  /** @type {typeof import('../src/lifecycle/startup-log.js')} */
  const { StartupLog } = await import(join(root, 'dist', 'src', 'lifecycle', 'startup-log.js'));
  const startup = new StartupLog();
  const script = join(root, 'dist', 'src', 'server.js');
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PREDICTION_LOG_PATH: '/tmp/mlservice-bench.jsonl',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  options.onSpawn?.(child);
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error('the server did not become ready within 60 s'));
    }, 60_000);
    child.stdout.on('data', (chunk) => {
      const { address, ready } = startup.read(chunk);
      if (ready && address) {
        clearTimeout(timer);
        resolveStart({ child, address });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectStart(new Error(`the server exited with ${code} before it was ready`));
    });
  });
}

/**
 * A valid request body for /predict: the first background row, else a made-up record; a tensor
 * model's example tensors.
 */
export async function exampleBody() {
  const { contract } = await import(join(root, 'dist', 'src', 'model', 'contract.js'));
  const artifacts = await import(join(root, 'dist', 'src', 'model', 'artifacts.js'));
  const model = await artifacts.loadModel(contract, join(root, 'model', 'model.onnx'));
  return JSON.stringify(artifacts.exampleBody(contract, model));
}

async function main() {
  const body = await exampleBody();
  const { child, address } =
    /** @type {{ child: import('node:child_process').ChildProcess, address: string }} */ (
      await startServer()
    );
  const url = `${address}/predict`;
  const request = { url, method: 'POST', body, headers: { 'content-type': 'application/json' } };
  try {
    process.stdout.write(`warm-up ${warmupSeconds} s...\n`);
    await load({ ...request, connections, durationSeconds: warmupSeconds });
    const main = await load({ ...request, connections, durationSeconds: seconds });
    process.stdout.write(`load:     ${describe(main)}\n`);
    const overload = await load({
      ...request,
      connections: connections * overloadFactor,
      durationSeconds: seconds,
    });
    const shedRate = overload.requests > 0 ? overload.shed / overload.requests : 0;
    process.stdout.write(
      `overload: ${describe(overload)}\n          shed rate ${(shedRate * 100).toFixed(1)}%\n`,
    );
    const metrics = await fetch(`${address}/metrics`).then((r) => r.text());
    const batch = /mlservice_batch_size_sum (\S+)\nmlservice_batch_size_count (\S+)/.exec(metrics);
    const results = {
      time: new Date().toISOString(),
      machine: {
        cpus: availableParallelism(),
        model: cpus()[0]?.model ?? 'unknown',
        node: process.version,
      },
      url,
      load: main,
      overload: { ...overload, shedRate },
      meanBatchRows: batch ? Number(batch[1]) / Number(batch[2]) : null,
    };
    const dir = join(root, 'bench', 'results');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${results.time.replace(/[:.]/g, '-')}.json`);
    await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`results:  ${file}\n`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
