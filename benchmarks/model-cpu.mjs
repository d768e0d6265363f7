// @ts-check
/**
 * The bound a model sets on a throughput ratio, from CPU rather than wall time.
 *
 * The service's own metrics time each model run by the clock. Under load on two cores, where the
 * main thread, two workers and the load generator share the CPUs, a run's clock time includes the
 * time its thread waited for a core: on bank-churn, 24 ms "inside the model" per 1000-row request
 * for about 3.3 ms of CPU. A bound computed from it blamed the model for the machine's contention.
 *
 * Here the model's CPU is measured alone, in this process: one onnxruntime session with the
 * worker's options (src/inference/worker.js), fed the bench's own rows packed by the service's own
 * code (src/inference/tensors.js), at the run size the service reached under load. The ceiling is
 * then what a fixed CPU budget allows (`cpuCeiling`).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The most requests per second a server can answer when, per request, it must do at least what
 * the bare route it is compared with does (`bareCpuUs`, on one thread: receive and parse the same
 * body, answer) and run the model (`modelCpuUs`), while the load generator spends `clientCpuUs` on
 * the same CPUs: `cores` seconds of CPU per second shared by all three, and the bare route's part
 * bound to one thread. Every term is CPU time, so the bound does not move with contention.
 *
 * @param {{ cores: number, bareCpuUs: number, modelCpuUs: number, clientCpuUs: number }} work
 */
export function cpuCeiling({ cores, bareCpuUs, modelCpuUs, clientCpuUs }) {
  const shared = (cores * 1e6) / (bareCpuUs + modelCpuUs + clientCpuUs);
  const oneThread = 1e6 / bareCpuUs;
  return Math.min(shared, oneThread);
}

/**
 * A session on the service's model, with the worker's options, and what a run of `size` rows of
 * `rows` costs in CPU (µs, measured once per size for at least `minMs` of CPU).
 *
 * @param {string} serviceDir a built generated service
 * @param {ReadonlyArray<Record<string, unknown>>} rows records, as the bench sends them
 * @param {{ minMs?: number }} [options]
 */
export async function modelCpu(serviceDir, rows, { minMs = 500 } = {}) {
  const load = (/** @type {string} */ file) =>
    import(pathToFileURL(join(serviceDir, 'dist/src', file)).href);
  const { loadConfig } = await load('config.js');
  const { contract } = await load('model/contract.js');
  const { packRows, toOrtData } = await load('inference/tensors.js');
  // The service's own pinned onnxruntime-node, not this repository's.
  const ort = createRequire(join(serviceDir, 'package.json'))('onnxruntime-node');
  const config = loadConfig({}, serviceDir);
  const session = await ort.InferenceSession.create(config.modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  /** @type {Map<number, number>} */
  const perRun = new Map();

  /** @param {number} size */
  const feedsOf = (size) => {
    const batch = Array.from({ length: size }, (_, i) => rows[i % rows.length]);
    /** @type {Record<string, unknown>} */
    const feeds = {};
    for (const p of packRows(batch, contract.inputs, contract.features)) {
      feeds[p.name] = new ort.Tensor(p.type, toOrtData(p.type, p.data), p.dims);
    }
    return feeds;
  };

  /** @param {number} size */
  const usPerRun = async (size) => {
    const known = perRun.get(size);
    if (known !== undefined) return known;
    const feeds = feedsOf(size);
    for (let i = 0; i < 10; i++) await session.run(feeds);
    const start = process.cpuUsage();
    let runs = 0;
    let used = 0;
    while (used < minMs * 1000) {
      await session.run(feeds);
      runs++;
      const d = process.cpuUsage(start);
      used = d.user + d.system;
    }
    perRun.set(size, used / runs);
    return used / runs;
  };

  /**
   * The rows of one model run when the service sends a worker batches of `rowsPerRun` rows: a
   * larger batch than MAX_BATCH_SIZE is run in chunks of that size.
   * @param {number} rowsPerRun
   */
  const runSize = (rowsPerRun) =>
    Math.max(1, Math.min(config.maxBatchSize, Math.round(rowsPerRun)));

  return {
    runSize,
    /**
     * µs of CPU the model takes for a request of `requestRows` rows when the service sends its
     * workers batches of `rowsPerRun` rows.
     * @param {number} requestRows @param {number} rowsPerRun
     */
    async perRequest(requestRows, rowsPerRun) {
      const size = runSize(rowsPerRun);
      return ((await usPerRun(size)) * requestRows) / size;
    },
    release: () => session.release(),
  };
}
