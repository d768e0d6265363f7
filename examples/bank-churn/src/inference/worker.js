// @ts-check
/**
 * The inference worker: a piscina worker thread holding one onnxruntime-node session, created when
 * the worker starts and warmed up before the worker reports itself ready. This is the only module
 * that imports onnxruntime-node (the main thread must never block on a model run).
 *
 * Plain JavaScript on purpose: worker threads load it as it is, in the tests and in production.
 *
 * Session settings: one intra-op and one inter-op thread, sequential execution and no spinning, so
 * W workers use W cores and an idle pod burns no CPU (see README "How it serves").
 */
import { performance } from 'node:perf_hooks';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { seededRandom } from './seeded-random.js';
import {
  batchLayout,
  packRows,
  plainData,
  runInChunks,
  toOrtData,
  unpackBatch,
} from './tensors.js';

/**
 * @typedef {import('./tensors.js').InputSpec} InputSpec
 * @typedef {import('./tensors.js').FeatureSpec} FeatureSpec
 * @typedef {import('./tensors.js').PackedInput} PackedInput
 * @typedef {import('./tensors.js').Row} Row
 * @typedef {{
 *   role: 'predict' | 'explain' | 'challenger',
 *   modelPath: string,
 *   modelDir: string,
 *   kind: 'records' | 'tensors' | 'text',
 *   batching: { mode: 'merge' | 'fixed' | 'none', size?: number },
 *   maxRunRows?: number,
 *   graphInputs: InputSpec[],
 *   tokenizer?: import('../model/contract-types.js').TokenizerSpec,
 *   warmupTensors?: import('./tensors.js').PackedInput[],
 *   inputs: InputSpec[],
 *   outputs: { name: string, type: string }[],
 *   features: FeatureSpec[],
 *   warmupRows: Row[],
 *   explain?: { background: Row[], output: string, mode: 'positive' | 'argmax' | 'value', positiveIndex: number },
 * }} WorkerConfig
 * @typedef {{ dims: number[], data: Float32Array | Float64Array | Int32Array | string[] | number[] }} OutputData
 * @typedef {{ op: 'run', batch: import('./tensors.js').PackedBatch }} RunTask
 * @typedef {{ op: 'tensors', tensors: PackedInput[] }} TensorTask
 * @typedef {{ op: 'explain', row: Row, samples: number, seed: number, chunkRows?: number }} ExplainTask
 */

const config = /** @type {WorkerConfig} */ (workerData);

/** @param {string} message */
function fatal(message) {
  parentPort?.postMessage({ type: 'mlservice:fatal', message, threadId });
  return new Error(message);
}

/** @type {ort.InferenceSession} */
let session;
try {
  session = await ort.InferenceSession.create(config.modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // The explanation worker gives memory back after each explanation instead of keeping its peak.
    enableCpuMemArena: config.role !== 'explain',
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
} catch (err) {
  const reason = String(/** @type {Error} */ (err)?.message ?? err)
    .replace(/^Load model from .*? failed:/, '')
    .trim()
    // onnxruntime starts with its source file and a C++ signature; the sentence follows.
    .replace(/^\/?onnxruntime_src\/\S+:\d+ .*?\) (?=[A-Z])/, '');
  throw fatal(`cannot load the model ${config.modelPath}: ${reason}`);
}

/**
 * Whether a graph's input shape fits the contract's: the same rank, and the same size wherever both
 * fix one (a symbolic dimension on either side fits any size).
 * @param {ReadonlyArray<number | string>} graph
 * @param {ReadonlyArray<number | string>} contract
 */
function shapeFits(graph, contract) {
  return (
    graph.length === contract.length &&
    graph.every(
      (d, i) => typeof d !== 'number' || typeof contract[i] !== 'number' || d === contract[i],
    )
  );
}

// The graph must be the one the service was generated for: same input names, element types and
// shapes (a re-trained skl2onnx model keeps `float_input` when its feature count changes).
{
  /** @type {string[]} */
  const problems = [];
  for (const input of config.graphInputs) {
    const meta = session.inputMetadata.find((m) => m.name === input.name);
    if (!meta) problems.push(`input "${input.name}" is missing`);
    else if (meta.isTensor && meta.type !== input.type)
      problems.push(`input "${input.name}" is ${meta.type}, expected ${input.type}`);
    else if (meta.isTensor && !shapeFits(meta.shape, input.shape))
      problems.push(
        `input "${input.name}" has shape [${meta.shape.join(', ')}], expected [${input.shape.join(', ')}]`,
      );
  }
  for (const name of session.inputNames) {
    if (!config.graphInputs.some((i) => i.name === name))
      problems.push(`unexpected input "${name}"`);
  }
  for (const output of config.outputs) {
    if (!session.outputNames.includes(output.name))
      problems.push(`output "${output.name}" is missing`);
  }
  if (problems.length > 0) {
    throw fatal(
      `the model ${config.modelPath} does not match the service's contract: ${problems.join('; ')}`,
    );
  }
}

/** A transformer's text encoder (kind 'text'): texts -> token id tensors. */
// Imported only by text models: other services never load the tokenizer library.
const textEncoder = config.tokenizer
  ? await import('./tokenize.js')
      .then(({ createTextEncoder }) =>
        createTextEncoder(/** @type {any} */ (config.tokenizer), config.modelDir),
      )
      .catch((/** @type {any} */ err) => {
        throw fatal(`cannot load the tokenizer: ${String(err?.message ?? err)}`);
      })
  : undefined;

/**
 * The graph's feeds for packed service inputs: as they are, or (kind 'text') the texts tokenized.
 * @param {PackedInput[]} inputs
 * @returns {PackedInput[]}
 */
function graphFeeds(inputs) {
  const spec = config.tokenizer;
  if (!spec || !textEncoder) return inputs;
  const texts = /** @type {string[]} */ (/** @type {PackedInput} */ (inputs[0]).data);
  const encoded = textEncoder.encodeBatch(texts);
  /** @type {PackedInput[]} */
  const feeds = [{ name: spec.inputIds, type: 'int64', dims: encoded.dims, data: encoded.ids }];
  if (spec.attentionMask)
    feeds.push({ name: spec.attentionMask, type: 'int64', dims: encoded.dims, data: encoded.mask });
  if (spec.tokenTypeIds)
    feeds.push({
      name: spec.tokenTypeIds,
      type: 'int64',
      dims: encoded.dims,
      data: encoded.typeIds,
    });
  return feeds;
}

/**
 * One model run on graph feeds.
 * @param {PackedInput[]} inputs
 * @param {string[] | undefined} fetches
 * @returns {Promise<Record<string, OutputData>>}
 */
async function runOnce(inputs, fetches) {
  /** @type {Record<string, ort.Tensor>} */
  const feeds = {};
  for (const input of inputs) {
    feeds[input.name] = new ort.Tensor(
      /** @type {any} */ (input.type),
      /** @type {any} */ (toOrtData(input.type, input.data)),
      input.dims,
    );
  }
  const results = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
  /** @type {Record<string, OutputData>} */
  const out = {};
  for (const [name, tensor] of Object.entries(results)) {
    out[name] = { dims: tensor.dims.map(Number), data: plainData(tensor.data) };
  }
  return out;
}

/**
 * Runs service inputs: a graph with a fixed batch dimension gets exactly that many rows per run
 * (the rows are chunked and the last chunk padded); any other graph gets them in one run, or, for
 * records past `maxRows` (MAX_BATCH_SIZE), in runs of at most that many: what one run allocates
 * grows with its rows (a TF-IDF model: about 0.65 MB a text), so MAX_BATCH_SIZE bounds a worker's
 * memory whatever a request holds.
 * @param {PackedInput[]} inputs
 * @param {string[] | undefined} fetches
 * @param {number} [maxRows]
 */
function runPacked(inputs, fetches, maxRows) {
  const feeds = graphFeeds(inputs);
  const { mode, size } = config.batching;
  const run = (/** @type {PackedInput[]} */ chunk) => runOnce(chunk, fetches);
  if (mode === 'fixed' && size) return runInChunks(feeds, size, run);
  const rows = feeds[0]?.dims[0] ?? 0;
  if (maxRows && rows > maxRows) return runInChunks(feeds, maxRows, run, false);
  return runOnce(feeds, fetches);
}

const layout = batchLayout(config.inputs);
const fetches = config.outputs.map((o) => o.name);

/** @param {RunTask | TensorTask} task */
async function run(task) {
  const start = performance.now();
  const inputs = task.op === 'tensors' ? task.tensors : unpackBatch(task.batch, layout);
  const outputs = await runPacked(
    inputs,
    fetches,
    task.op === 'run' ? config.maxRunRows : undefined,
  );
  return { outputs, computeMs: performance.now() - start };
}

/**
 * Model-agnostic Shapley values by permutation sampling (Strumbelj & Kononenko 2014), with
 * antithetic permutations: each sample walks from a background row to the record, switching one
 * feature at a time in a random order; a feature's contribution is the mean change it causes. All
 * walks are evaluated in a few batched model runs. Contributions add up exactly to
 * value - baseValue, where baseValue is the mean output over the sampled background rows.
 *
 * @param {ExplainTask} task
 */
async function explain(task) {
  const start = performance.now();
  const cfg = config.explain;
  if (!cfg) throw new Error('this worker has no background sample');
  const own = await runPacked(packRows([task.row], config.inputs, config.features), [cfg.output]);
  const width = /** @type {OutputData} */ (own[cfg.output]).data.length;
  const firstRow = Array.from(
    /** @type {ArrayLike<number>} */ (/** @type {OutputData} */ (own[cfg.output]).data),
  );
  let column = 0;
  if (cfg.mode === 'positive') column = cfg.positiveIndex;
  else if (cfg.mode === 'argmax') column = firstRow.indexOf(Math.max(...firstRow));

  const { rows, orders } = walks(task, cfg.background);
  const values = await walkValues(rows, task.chunkRows ?? 4096, cfg.output, width, column);
  const { baseValue, contributions, standardErrors } = contributionsOf(
    values,
    orders,
    task.samples,
  );
  return {
    value: Number(firstRow[column]),
    baseValue,
    column,
    contributions,
    standardErrors,
    samples: task.samples,
    evaluations: rows.length,
    computeMs: performance.now() - start,
  };
}

/**
 * The walks of `task.samples` antithetic permutations: each from a random background row to the
 * record, one feature switched per step; pairs of samples walk one order and its reverse.
 * @param {ExplainTask} task @param {Row[]} background
 * @returns {{ rows: Row[], orders: number[][] }} every step's row, and each walk's order
 */
function walks(task, background) {
  const features = config.features.map((f) => f.name);
  const m = features.length;
  const x = task.row;
  const rand = seededRandom(task.seed);
  /** @type {Row[]} */
  const rows = [];
  /** @type {number[][]} */
  const orders = [];
  /** @type {number[]} */
  let order = features.map((_, i) => i);
  for (let s = 0; s < task.samples; s++) {
    if (s % 2 === 0) {
      order = features.map((_, i) => i);
      for (let i = m - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        const t = /** @type {number} */ (order[i]);
        order[i] = /** @type {number} */ (order[j]);
        order[j] = t;
      }
    } else {
      order = [...order].reverse();
    }
    orders.push(order);
    let current = { .../** @type {Row} */ (background[Math.floor(rand() * background.length)]) };
    rows.push(current);
    for (const i of order) {
      const name = /** @type {string} */ (features[i]);
      current = { ...current, [name]: x[name] };
      rows.push(current);
    }
  }
  return { rows, orders };
}

/**
 * The model's output (`column` of `output`) for every row, in model runs of at most `chunk` rows.
 * @param {Row[]} rows @param {number} chunk @param {string} output @param {number} width
 * @param {number} column
 */
async function walkValues(rows, chunk, output, width, column) {
  const values = new Float64Array(rows.length);
  for (let offset = 0; offset < rows.length; offset += chunk) {
    const part = rows.slice(offset, offset + chunk);
    const out = await runPacked(packRows(part, config.inputs, config.features), [output]);
    const data = /** @type {ArrayLike<number>} */ (/** @type {OutputData} */ (out[output]).data);
    for (let r = 0; r < part.length; r++) values[offset + r] = Number(data[r * width + column]);
  }
  return values;
}

/**
 * Each feature's mean change along the walks, with its standard error, and the base value (the
 * mean output at the walks' background rows).
 * @param {Float64Array} values @param {number[][]} orders @param {number} k the walks
 */
function contributionsOf(values, orders, k) {
  const m = config.features.length;
  const sum = new Float64Array(m);
  const sumSq = new Float64Array(m);
  let base = 0;
  for (let s = 0; s < k; s++) {
    const at = s * (m + 1);
    base += /** @type {number} */ (values[at]);
    const walk = /** @type {number[]} */ (orders[s]);
    for (let p = 0; p < m; p++) {
      const delta =
        /** @type {number} */ (values[at + p + 1]) - /** @type {number} */ (values[at + p]);
      const i = /** @type {number} */ (walk[p]);
      sum[i] = /** @type {number} */ (sum[i]) + delta;
      sumSq[i] = /** @type {number} */ (sumSq[i]) + delta * delta;
    }
  }
  const contributions = Array.from(sum, (v) => v / k);
  const standardErrors = Array.from(sumSq, (sq, i) => {
    const mean = /** @type {number} */ (contributions[i]);
    const variance = k > 1 ? Math.max(0, (sq - k * mean * mean) / (k - 1)) : 0;
    return Math.sqrt(variance / k);
  });
  return { baseValue: base / k, contributions, standardErrors };
}

// Warm-up: the first runs pay for allocations and kernel selection; readiness waits for them.
try {
  if (config.warmupTensors) {
    for (let i = 0; i < 2; i++) await runPacked(config.warmupTensors, undefined);
  } else if (config.warmupRows.length > 0) {
    for (let i = 0; i < 2; i++)
      await runPacked(packRows(config.warmupRows, config.inputs, config.features), undefined);
    if (config.role === 'explain' && config.explain) {
      await explain({
        op: 'explain',
        row: /** @type {Row} */ (config.warmupRows[0]),
        samples: 2,
        seed: 1,
      });
    }
  }
} catch (err) {
  throw fatal(
    `the warm-up inference on ${config.modelPath} failed: ${String(/** @type {Error} */ (err)?.message ?? err)}`,
  );
}
parentPort?.postMessage({ type: 'mlservice:warm', threadId, role: config.role });

/** @param {RunTask | TensorTask | ExplainTask} task */
export default function handle(task) {
  return task.op === 'explain' ? explain(task) : run(task);
}
