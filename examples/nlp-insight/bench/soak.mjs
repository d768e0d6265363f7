// @ts-check
/**
 * `npm run soak`: a bounded soak and abuse check of the built server, on 127.0.0.1 only. It
 * replays the probes the service was hardened against and prints one table: what each probe did,
 * what was expected, what was measured, PASS, FAIL or SKIP (a probe that does not apply to this
 * model). The exit code is 1 when a probe failed.
 *
 *   npm run soak                        every probe (about a minute)
 *   npm run soak -- --quick             shorter loads (CI)
 *   npm run soak -- --probe overload    one probe (names: --help)
 *   npm run soak -- --json out.json     the results also to out.json
 *   npm run soak -- --rss-seconds 60    a longer steady load for rss-stability
 *
 * Every server it starts is a child process it kills at the end, on failure and on Ctrl-C; every
 * probe has a deadline. The results go to bench/results/soak-<time>.json. The settings are the
 * service's own (environment variables pass through), except where a probe needs a value (it
 * says so). On a shared machine, numbers are noisy: the pass criteria are ratios and bounds
 * chosen to hold on a loaded 2-core machine, so a FAIL means a regression, not noise.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { connect } from 'node:net';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { load } from './load.mjs';
import { startServer } from './run.mjs';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/** @typedef {{ status: number, headers: http.IncomingHttpHeaders, body: string }} Answer */
/**
 * @typedef {{ child: ChildProcess, address: string, config: any, logDir: string,
 *   exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>,
 *   lines: string[] }} Server
 */
/**
 * @typedef {{ did: string, expected: string, measured: string, pass: boolean,
 *   values?: Record<string, unknown> }} Measured
 * @typedef {{ status: 'SKIP', reason: string }} Skipped
 * @typedef {{ name: string, title: string, timeoutSeconds: number,
 *   skip: () => string | undefined, run: () => Promise<Measured | Skipped> }} Probe
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const loopback = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    probe: { type: 'string', multiple: true },
    'rss-seconds': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

/** Durations in seconds: the default run, and --quick. */
const d = args.quick
  ? { dos: 1, log: 1, overload: 1.5, warmup: 1, rss: 2.5 }
  : { dos: 4, log: 4, overload: 5, warmup: 4, rss: 20 };
if (args['rss-seconds'] !== undefined) {
  const n = Number(args['rss-seconds']);
  if (!(n >= 1 && n <= 3600)) usage(`--rss-seconds must be between 1 and 3600`);
  d.rss = n;
}

/** Pass criteria (documented in README "Soak and abuse check"). */
const criteria = {
  /** /predict throughput while two clients send 1 MB batches of empty objects, over undisturbed. */
  // The bug this guards against left 0.01; two 1 MiB uploaders on a busy 2-core CI runner still
  // cost /predict real CPU (0.29 to 0.56 measured), so the bound leaves room for the machine.
  dosRatio: 0.2,
  /** p99 latency of the 400 those batches get. */
  dosRejectMs: 1000,
  /** RSS peak during explanations < factor x idle RSS + EXPLAIN_MAX_HEAP_MB. */
  explainRssFactor: 2,
  /** RSS after the steady load <= factor x RSS after the warm-up + slack. */
  rssFactor: 1.25,
  rssSlackMiB: 64,
  /** Exit after SIGTERM within SHUTDOWN_TIMEOUT_MS + 1 s (the server's last resort) + margin. */
  shutdownTimeoutMs: 2000,
  shutdownMarginMs: 1500,
};

const { contract } = await import(join(root, 'dist', 'src', 'model', 'contract.js'));
const artifacts = await import(join(root, 'dist', 'src', 'model', 'artifacts.js'));
const { loadConfig } = await import(join(root, 'dist', 'src', 'config.js'));
const { servingInputs, exampleTensors } = await import(
  join(root, 'dist', 'src', 'model', 'serving.js')
);
const { v2DatatypeOf } = await import(join(root, 'dist', 'src', 'inference', 'tensor-request.js'));
const { explainCost, maxSamples } = await import(
  join(root, 'dist', 'src', 'inference', 'explain-budget.js')
);
const model = await artifacts.loadModel(contract, join(root, 'model', 'model.onnx'));
/** @type {Record<string, unknown>} */
const example = artifacts.exampleBody(contract, model);
const isTensors = contract.kind === 'tensors';
const mib = (/** @type {number} */ bytes) => Math.round(bytes / 1024 / 1024);

// ---------------------------------------------------------------------------------------------
// Servers: every child is tracked and killed on exit, on error and on Ctrl-C.

/** @type {Set<ChildProcess>} */
const children = new Set();
/** @type {string[]} */
const tempDirs = [];

function killAll() {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', killAll);
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => {
    process.stderr.write(`\nsoak: ${signal}: stopping the servers\n`);
    killAll();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/**
 * Starts a server on 127.0.0.1 with its own prediction log directory.
 * @param {Record<string, string>} env
 * @returns {Promise<Server>}
 */
async function start(env = {}) {
  const logDir = await mkdtemp(join(tmpdir(), 'mlservice-soak-'));
  tempDirs.push(logDir);
  const full = {
    HOST: '127.0.0.1',
    PORT: '0',
    GRPC_PORT: '0',
    PREDICTION_LOG_PATH: join(logDir, 'predictions.jsonl'),
    ...env,
  };
  const config = loadConfig({ ...process.env, ...full }, root);
  /** @type {ChildProcess | undefined} */
  let spawned;
  const started = /** @type {{ child: ChildProcess, address: string }} */ (
    await startServer(full, {
      onSpawn: (child) => {
        spawned = child;
        children.add(child);
        child.once('exit', () => children.delete(child));
      },
    })
  );
  const child = started.child ?? spawned;
  const hostname = new URL(started.address).hostname;
  if (!loopback.has(hostname)) {
    child.kill('SIGKILL');
    throw new Error(`the server listens on ${started.address}: the soak runs on loopback only`);
  }
  /** @type {string[]} */
  const lines = [];
  let buffer = '';
  child.stdout?.on('data', (chunk) => {
    buffer += chunk.toString();
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, i));
      buffer = buffer.slice(i + 1);
    }
  });
  const exited =
    child.exitCode !== null
      ? Promise.resolve({ code: child.exitCode, signal: null })
      : /** @type {Promise<{ code: number | null, signal: NodeJS.Signals | null }>} */ (
          once(child, 'exit').then(([code, signal]) => ({ code, signal }))
        );
  return { child, address: started.address, config, logDir, exited, lines };
}

/**
 * SIGTERM, then SIGKILL if it has not exited within `ms`.
 * @param {Server} server
 */
async function stop(server, ms = 30_000) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), ms);
  const result = await server.exited;
  clearTimeout(timer);
  return result;
}

/** @type {Promise<Server> | undefined} */
let sharedServer;
/** The server most probes share (started on first use, stopped at the end). */
const shared = () => (sharedServer ??= start());

// ---------------------------------------------------------------------------------------------
// Measuring.

/**
 * Resident set size of a process in bytes (Linux /proc, else `ps`).
 * @param {number} pid
 */
function rss(pid) {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (kb) return Number(kb[1]) * 1024;
  } catch {
    // not Linux
  }
  const ps = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' });
  return Number(ps.stdout.trim()) * 1024;
}

/**
 * Samples a process's RSS every `everyMs` until stopped; `stop()` returns the peak.
 * @param {number} pid
 */
function rssPeak(pid, everyMs = 50) {
  let peak = rss(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rss(pid));
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, rss(pid));
    },
  };
}

/**
 * One HTTP request on a fresh connection (or `agent`), its answer read in full.
 * @param {string} address
 * @param {string} path
 * @param {{ method?: string, body?: string | Buffer, headers?: Record<string, string>,
 *   agent?: http.Agent }} [options]
 * @returns {Promise<Answer>}
 */
function send(address, path, options = {}) {
  const url = new URL(path, address);
  return new Promise((resolveAnswer, reject) => {
    const req = http.request(
      url,
      {
        method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
        headers: {
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        agent: options.agent ?? false,
      },
      (res) => {
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolveAnswer({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** @param {Answer} answer */
function json(answer) {
  try {
    return JSON.parse(answer.body);
  } catch {
    return undefined;
  }
}

/**
 * The sum of a metric's samples in a Prometheus text exposition (optionally only the samples
 * whose labels contain `labels`).
 * @param {string} text
 * @param {string} name
 * @param {string} [labels]
 */
function metric(text, name, labels = '') {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labels && !rest.includes(labels)) continue;
    sum += Number(rest.slice(rest.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Lines in every file of a directory (the prediction log and its rotated files).
 * @param {string} dir
 */
async function countLines(dir) {
  let lines = 0;
  for (const name of await readdir(dir)) {
    const stream = createReadStream(join(dir, name));
    for await (const chunk of stream) {
      const buf = /** @type {Buffer} */ (chunk);
      for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines += 1;
    }
  }
  return lines;
}

/**
 * Resolves with `promise`, or rejects once `seconds` have passed.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} seconds
 * @returns {Promise<T>}
 */
function deadline(promise, seconds) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${seconds} s`)), seconds * 1000);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, late])).finally(() =>
    clearTimeout(timer),
  );
}

/** @param {Record<string, number>} codes */
const codesText = (codes) =>
  Object.entries(codes)
    .map(([code, n]) => `${code} x${n}`)
    .join(', ') || 'none';

/** @param {Answer[]} answers */
function countCodes(answers) {
  /** @type {Record<string, number>} */
  const codes = {};
  for (const a of answers) codes[a.status] = (codes[a.status] ?? 0) + 1;
  return codes;
}

/** A healthy server: /healthz and /readyz 200, a valid /predict 200. @param {Server} s */
async function healthy(s) {
  const [live, ready, predict] = await Promise.all([
    send(s.address, '/healthz'),
    send(s.address, '/readyz'),
    send(s.address, '/predict', { body: JSON.stringify(example) }),
  ]);
  return {
    ok: live.status === 200 && ready.status === 200 && predict.status === 200,
    live,
    ready,
    predict,
  };
}

/** Load on /predict with the example body. @param {Server} s @param {number} connections @param {number} seconds */
const predictLoad = (s, connections, seconds, extra = {}) =>
  load({
    url: `${s.address}/predict`,
    method: 'POST',
    body: JSON.stringify(example),
    headers: { 'content-type': 'application/json' },
    connections,
    durationSeconds: seconds,
    ...extra,
  });

// ---------------------------------------------------------------------------------------------
// V2 bodies for the hostile inputs.

/**
 * The example as V2 tensors in the service's own layout.
 * @returns {Array<{ name: string, shape: number[], datatype: string, data: unknown[] }>}
 */
function v2Inputs() {
  if (isTensors) {
    return exampleTensors(contract).map(
      (
        /** @type {{ name: string, type: string, dims: number[], data: ArrayLike<unknown> }} */ t,
      ) => ({
        name: t.name,
        shape: t.dims,
        datatype: v2DatatypeOf(t.type),
        data: Array.from(t.data, (v) =>
          typeof v === 'bigint' ? Number(v) : t.type === 'bool' ? Boolean(v) : v,
        ),
      }),
    );
  }
  return servingInputs(contract).map(
    (/** @type {{ name: string, type: string, shape: unknown[] }} */ input) => {
      let features = contract.features
        .filter((/** @type {{ input?: string }} */ f) => f.input === input.name)
        .sort((/** @type {any} */ a, /** @type {any} */ b) => a.column - b.column);
      if (features.length === 0)
        features = contract.features.filter((/** @type {any} */ f) => f.type === 'text');
      const data = features.map((/** @type {{ name: string }} */ f) => example[f.name] ?? null);
      return {
        name: input.name,
        shape: input.shape.length === 1 ? [1] : [1, features.length],
        datatype: v2DatatypeOf(input.type),
        data,
      };
    },
  );
}

// ---------------------------------------------------------------------------------------------
// The probes.

/**
 * The hostile-inputs probe's requests: values JSON cannot hold, deep nesting, prototype keys, the
 * wrong content type or encoding, absurd V2 shapes and out-of-range datatypes.
 * @returns {Array<{ name: string, path: string, body: string | Buffer, headers?: Record<string, string> } | { name: string, skip: string }>}
 */
function hostileCases() {
  const marker = '"__soak_value__"';
  const numeric = contract.features.find(
    (/** @type {any} */ f) => f.type === 'number' || f.type === 'integer',
  );
  const slot = numeric?.name ?? contract.features[0]?.name;
  /** A /predict body with `raw` JSON text in one value. @param {string} raw */
  const withValue = (raw) => {
    if (isTensors) {
      const [name] = Object.keys(example);
      const nested = /** @type {any} */ (structuredClone(example));
      let cell = nested[/** @type {string} */ (name)];
      let parent = nested;
      let key = /** @type {string | number} */ (/** @type {string} */ (name));
      while (Array.isArray(cell)) {
        parent = cell;
        key = 0;
        cell = cell[0];
      }
      parent[key] = '__soak_value__';
      return JSON.stringify(nested).replace(marker, raw);
    }
    return JSON.stringify({ ...example, [slot]: '__soak_value__' }).replace(marker, raw);
  };
  const v2 = v2Inputs();
  const infer = `/v2/models/${encodeURIComponent(contract.name)}/infer`;
  const numericTensor = v2.findIndex((t) => t.datatype !== 'BYTES' && t.datatype !== 'BOOL');
  const depth = 50_000;
  return [
    { name: 'NaN', path: '/predict', body: withValue('NaN') },
    { name: 'Infinity (1e999)', path: '/predict', body: withValue('1e999') },
    {
      name: `nesting ${depth} deep`,
      path: '/predict',
      body: withValue(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
    },
    {
      name: '__proto__',
      path: '/predict',
      body: `{"__proto__":{"polluted":true},${JSON.stringify(example).slice(1)}`,
    },
    {
      name: 'text/plain',
      path: '/predict',
      body: JSON.stringify(example),
      headers: { 'content-type': 'text/plain' },
    },
    {
      name: 'gzip body',
      path: '/predict',
      body: gzipSync(JSON.stringify(example)),
      headers: { 'content-encoding': 'gzip' },
    },
    {
      name: 'V2 shape 2^31-1 x 2^31-1',
      path: infer,
      body: JSON.stringify({
        inputs: v2.map((t, i) => (i === 0 ? { ...t, shape: [2147483647, 2147483647] } : t)),
      }),
    },
    numericTensor >= 0
      ? {
          name: 'V2 INT8 619',
          path: infer,
          body: JSON.stringify({
            inputs: v2.map((t, i) =>
              i === numericTensor
                ? {
                    ...t,
                    datatype: 'INT8',
                    data: t.data.map((/** @type {unknown} */ _, /** @type {number} */ j) =>
                      j === 0 ? 619 : 1,
                    ),
                  }
                : t,
            ),
          }),
        }
      : { name: 'V2 INT8 619', skip: 'no numeric input tensor' },
  ];
}

/**
 * A 4xx answered in the service's error shape (`{"error","requestId"}`), without a stack trace.
 * @param {{ status: number, body: string }} answer
 */
function isStandardRefusal(answer) {
  const b = json(answer);
  const standard =
    b !== null &&
    typeof b === 'object' &&
    typeof b.error === 'string' &&
    typeof b.requestId === 'string' &&
    !/\n\s+at /.test(answer.body);
  return answer.status >= 400 && answer.status < 500 && standard;
}

/** @type {Probe[]} */
const probes = [
  {
    name: 'explain-memory',
    title: '/explain memory',
    timeoutSeconds: 60,
    skip: () =>
      isTensors
        ? 'a tensor model has no /explain'
        : !contract.artifacts.background
          ? 'the model ships no background sample: /explain answers 501'
          : undefined,
    run: async () => {
      const s = await shared();
      const row = { ...example };
      for (const f of contract.features)
        if (f.type === 'text')
          row[f.name] = 'word '
            .repeat(Math.ceil(Math.min(f.maxLength, 5000) / 5))
            .slice(0, Math.min(f.maxLength, 5000));
      const cost = explainCost(contract, row, 2000);
      const fit = Math.min(2000, maxSamples(contract, cost, s.config.explainMaxWork));
      const idle = rss(/** @type {number} */ (s.child.pid));
      const sampler = rssPeak(/** @type {number} */ (s.child.pid));
      const body = JSON.stringify(row);
      const big = await send(s.address, '/explain?samples=2000', { body });
      if (big.status === 501)
        return { status: 'SKIP', reason: `/explain answers 501: ${json(big)?.error}` };
      const parallel =
        fit >= 2
          ? await Promise.all(
              Array.from({ length: 6 }, () => send(s.address, `/explain?samples=${fit}`, { body })),
            )
          : [];
      const peak = sampler.stop();
      const bound = criteria.explainRssFactor * idle + s.config.explainMaxHeapMb * 1024 * 1024;
      const health = await healthy(s);
      const codes = countCodes(parallel);
      const pass =
        (big.status === 400 || big.status === 200) &&
        parallel.every((a) => a.status === 200 || a.status === 503) &&
        peak < bound &&
        health.ok;
      const texts = contract.features.some((/** @type {any} */ f) => f.type === 'text');
      return {
        did: `samples=2000 (work ${cost.work}${texts ? `, ${cost.tokens}-token text` : ''}), then 6 at once with samples=${fit} (the most EXPLAIN_MAX_WORK=${s.config.explainMaxWork} allows)`,
        expected: `400 or 200; then 200/503 only; RSS peak < ${criteria.explainRssFactor} x idle + EXPLAIN_MAX_HEAP_MB (${s.config.explainMaxHeapMb} MiB); healthy after`,
        measured: `samples=2000: ${big.status}; 6 x samples=${fit}: ${codesText(codes)}; RSS idle ${mib(idle)} MiB, peak ${mib(peak)} MiB (bound ${mib(bound)} MiB)${health.ok ? '' : '; NOT healthy after'}`,
        pass,
        values: {
          bigStatus: big.status,
          bigError: json(big)?.error,
          fit,
          codes,
          idleRss: idle,
          peakRss: peak,
          boundRss: bound,
        },
      };
    },
  },
  {
    name: 'batch-dos',
    title: 'cheap-CPU DoS on /predict/batch',
    timeoutSeconds: 3 * d.dos + 45,
    skip: () => (isTensors ? 'a tensor model has no /predict/batch' : undefined),
    run: async () => {
      const s = await shared();
      const n = Math.min(340_000, Math.floor((s.config.bodyLimitBytes - 16) / 3));
      const attack = `{"instances":[${'{},'.repeat(n - 1)}{}]}`;
      const connections = 16;
      // One attack request alone, the best of 3: what the refusal itself costs.
      let lone = Infinity;
      /** @type {Answer | undefined} */
      let first;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const a = await send(s.address, '/predict/batch', { body: attack });
        lone = Math.min(lone, performance.now() - t0);
        first ??= a;
      }
      await predictLoad(s, connections, args.quick ? 0.5 : 1);
      const alone = await predictLoad(s, connections, d.dos);
      const [under, abuse] = await Promise.all([
        predictLoad(s, connections, d.dos),
        load({
          url: `${s.address}/predict/batch`,
          method: 'POST',
          body: attack,
          headers: { 'content-type': 'application/json' },
          connections: 2,
          durationSeconds: d.dos,
          timeoutSeconds: 30,
        }),
      ]);
      const ratio = alone.requests > 0 ? under.requests / alone.requests : 0;
      const onlyBadRequest = Object.keys(abuse.statusCodes).every((c) => c === '400');
      const pass =
        first?.status === 400 &&
        lone <= criteria.dosRejectMs &&
        abuse.requests > 0 &&
        onlyBadRequest &&
        abuse.errors === 0 &&
        ratio >= criteria.dosRatio &&
        under.errors === 0;
      return {
        did: `a ${(attack.length / 1024 / 1024).toFixed(2)} MiB body of ${n} empty records to /predict/batch alone; then 2 clients send it for ${d.dos} s while ${connections} connections load /predict (/predict alone for ${d.dos} s before)`,
        expected: `400, alone within ${criteria.dosRejectMs} ms; under load 400 only; /predict throughput under attack >= ${criteria.dosRatio} x alone`,
        measured: `alone: ${first?.status} in ${Math.round(lone)} ms; under load: ${codesText(abuse.statusCodes)}, p50 ${Math.round(abuse.latencyMs.p50)} ms; /predict ${alone.requestsPerSecond} req/s alone, ${under.requestsPerSecond} under attack: ratio ${ratio.toFixed(2)}`,
        pass,
        values: { records: n, bytes: attack.length, loneMs: lone, alone, under, abuse, ratio },
      };
    },
  },
  {
    name: 'log-completeness',
    title: 'prediction log completeness under batch load',
    timeoutSeconds: d.log + 60,
    skip: () => (isTensors ? 'a tensor model has no /predict/batch' : undefined),
    run: async () => {
      const s = await start({ PREDICTION_LOG_KEEP: '1000' });
      try {
        const rows = Math.min(1000, s.config.maxBatchRows);
        const body = JSON.stringify({ instances: Array.from({ length: rows }, () => example) });
        const connections = 4;
        const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
        const until = performance.now() + d.log * 1000;
        /** @type {Record<string, number>} */
        const codes = {};
        let served = 0;
        await Promise.all(
          Array.from({ length: connections }, async () => {
            while (performance.now() < until) {
              const a = await send(s.address, '/predict/batch', { body, agent });
              codes[a.status] = (codes[a.status] ?? 0) + 1;
              if (a.status >= 200 && a.status < 300) served += rows;
            }
          }),
        );
        agent.destroy();
        const metrics = (await send(s.address, '/metrics')).body;
        const dropped = metric(metrics, 'mlservice_prediction_log_failures_total');
        const exit = await stop(s);
        const logged = await countLines(s.logDir);
        const ratio = served > 0 ? (logged + dropped) / served : 0;
        return {
          did: `${connections} connections x ${rows}-row batches on /predict/batch for ${d.log} s; then SIGTERM (flushes the log)`,
          expected:
            'rows served (2xx) = lines logged + mlservice_prediction_log_failures_total; exit 0',
          measured: `${codesText(codes)}; served ${served} rows, logged ${logged}, dropped ${dropped}: ratio ${ratio.toFixed(3)}; exit ${exit.code ?? exit.signal}`,
          pass: served > 0 && logged + dropped === served && exit.code === 0,
          values: { codes, served, logged, dropped, ratio, exit },
        };
      } finally {
        await stop(s);
      }
    },
  },
  {
    name: 'readiness',
    title: 'readiness honesty',
    timeoutSeconds: 1,
    skip: () =>
      'a worker cannot be killed from outside the process: covered by test/overload.test.ts ("a replacement worker that cannot load the model")',
    run: async () => ({ status: 'SKIP', reason: 'not run' }),
  },
  {
    name: 'shutdown-deadline',
    title: 'shutdown deadline with a trickling client',
    timeoutSeconds: 45,
    skip: () => undefined,
    run: async () => {
      const timeoutMs = criteria.shutdownTimeoutMs;
      const s = await start({ SHUTDOWN_TIMEOUT_MS: String(timeoutMs) });
      const url = new URL(s.address);
      const body = JSON.stringify(example);
      const socket = connect(Number(url.port), url.hostname);
      /** @type {NodeJS.Timeout | undefined} */
      let trickle;
      try {
        await once(socket, 'connect');
        socket.on('error', () => undefined);
        socket.on('data', () => undefined);
        socket.write(
          `POST /predict HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body[0]}`,
        );
        let sent = 1;
        trickle = setInterval(() => {
          if (sent < body.length - 1 && !socket.destroyed) socket.write(body[sent++] ?? '');
        }, 1000);
        // The request is in flight once the server counts it (/metrics leaves itself out).
        let inflight = 0;
        for (let i = 0; i < 200 && inflight < 1; i++)
          inflight = metric(
            (await send(s.address, '/metrics')).body,
            'mlservice_inflight_requests',
          );
        const signalled = performance.now();
        s.child.kill('SIGTERM');
        const exit = await s.exited;
        const ms = Math.round(performance.now() - signalled);
        const bound = timeoutMs + 1000 + criteria.shutdownMarginMs;
        const log = s.lines.map((line) => json({ status: 0, headers: {}, body: line }) ?? {});
        // The deadline path destroys the connection and says so; the last-resort timer is a fatal line.
        const destroyed = log.some((e) => e.destroyed >= 1);
        const lastResort = log.some((e) => /did not finish within/.test(String(e.msg)));
        return {
          did: `a client sends /predict headers and then 1 byte/s of its body; SIGTERM with SHUTDOWN_TIMEOUT_MS=${timeoutMs}`,
          expected: `exit 1 within ${bound} ms, its connection destroyed at the deadline (not by the last-resort timer)`,
          measured: `request in flight: ${inflight >= 1 ? 'yes' : 'not seen'}; exit ${exit.code ?? exit.signal} after ${ms} ms; connection destroyed: ${destroyed ? 'yes' : 'no'}; last resort: ${lastResort ? 'yes' : 'no'}`,
          pass: inflight >= 1 && exit.code === 1 && ms <= bound && destroyed && !lastResort,
          values: { inflightSeen: inflight, exit, ms, bound, destroyed, lastResort },
        };
      } finally {
        clearInterval(trickle);
        socket.destroy();
        await stop(s);
      }
    },
  },
  {
    name: 'overload',
    title: 'overload: 10x connections',
    timeoutSeconds: d.overload + 45,
    skip: () => undefined,
    run: async () => {
      const s = await shared();
      const connections = Math.min(1000, s.config.maxConnections - 16);
      let shedWithoutRetryAfter = 0;
      const r = await predictLoad(s, connections, d.overload, {
        onHeaders: (
          /** @type {number} */ status,
          /** @type {Record<string, string>} */ headers,
        ) => {
          if (status === 503 && !headers['retry-after']) shedWithoutRetryAfter += 1;
        },
      });
      const health = await healthy(s);
      const only = Object.keys(r.statusCodes).every((c) => c === '200' || c === '503');
      return {
        did: `${connections} connections (10x the bench's 100) on /predict for ${d.overload} s`,
        expected: '200 or 503 with Retry-After only, no socket errors or timeouts; healthy after',
        measured: `${codesText(r.statusCodes)}; 503 without Retry-After: ${shedWithoutRetryAfter}; errors ${r.errors} (timeouts ${r.timeouts}); accepted p99 ${r.okLatencyMs?.p99 ?? '-'} ms${health.ok ? '' : '; NOT healthy after'}`,
        pass:
          only &&
          r.ok > 0 &&
          shedWithoutRetryAfter === 0 &&
          r.errors === 0 &&
          r.timeouts === 0 &&
          health.ok,
        values: { ...r, shedWithoutRetryAfter },
      };
    },
  },
  {
    name: 'hostile-inputs',
    title: 'hostile inputs',
    timeoutSeconds: 60,
    skip: () => undefined,
    run: async () => {
      const s = await shared();
      /** @type {Array<{ name: string, status: number | string, ok: boolean }>} */
      const results = [];
      for (const c of hostileCases()) {
        if ('skip' in c) {
          results.push({ name: c.name, status: `n/a (${c.skip})`, ok: true });
          continue;
        }
        const a = await send(s.address, c.path, { body: c.body, headers: c.headers });
        results.push({ name: c.name, status: a.status, ok: isStandardRefusal(a) });
      }
      const infer = `/v2/models/${encodeURIComponent(contract.name)}/infer`;
      const control = await send(s.address, infer, {
        body: JSON.stringify({ inputs: v2Inputs() }),
      });
      const health = await healthy(s);
      const bad = results.filter((r) => !r.ok);
      return {
        did: `${results.map((r) => r.name).join(', ')}`,
        expected:
          '4xx with {"error","requestId"} each; then /healthz, /readyz, /predict and a valid V2 request 200',
        measured: `${results.map((r) => `${r.name} ${r.status}${r.ok ? '' : ' (BAD)'}`).join('; ')}; after: healthz ${health.live.status}, readyz ${health.ready.status}, predict ${health.predict.status}, V2 ${control.status}`,
        pass: bad.length === 0 && health.ok && control.status === 200,
        values: {
          results,
          control: control.status,
          health: {
            live: health.live.status,
            ready: health.ready.status,
            predict: health.predict.status,
          },
        },
      };
    },
  },
  {
    name: 'rss-stability',
    title: 'RSS stability under steady load',
    timeoutSeconds: d.warmup + d.rss + 45,
    skip: () => undefined,
    run: async () => {
      const s = await shared();
      const pid = /** @type {number} */ (s.child.pid);
      const connections = 32;
      await predictLoad(s, connections, d.warmup);
      const warm = rss(pid);
      const sampler = rssPeak(pid, 500);
      const r = await predictLoad(s, connections, d.rss);
      const peak = sampler.stop();
      const end = rss(pid);
      const bound = criteria.rssFactor * warm + criteria.rssSlackMiB * 1024 * 1024;
      return {
        did: `${connections} connections on /predict: ${d.warmup} s warm-up, then ${d.rss} s steady`,
        expected: `RSS at the end <= ${criteria.rssFactor} x RSS after the warm-up + ${criteria.rssSlackMiB} MiB; no errors`,
        measured: `${r.requestsPerSecond} req/s, ${codesText(r.statusCodes)}; RSS after warm-up ${mib(warm)} MiB, peak ${mib(peak)} MiB, end ${mib(end)} MiB (bound ${mib(bound)} MiB)`,
        pass: end <= bound && r.errors === 0 && r.ok > 0,
        values: { warmRss: warm, peakRss: peak, endRss: end, boundRss: bound, load: r },
      };
    },
  },
];

// ---------------------------------------------------------------------------------------------

/** @param {string} message */
function usage(message) {
  process.stderr.write(`soak: ${message}\n`);
  process.exit(2);
}

if (args.help) {
  process.stdout.write(
    `usage: npm run soak -- [--quick] [--probe <name>]... [--json <file>] [--rss-seconds <n>]\nprobes: ${probes.map((p) => p.name).join(', ')}\n`,
  );
  process.exit(0);
}
const unknown = (args.probe ?? []).filter((n) => !probes.some((p) => p.name === n));
if (unknown.length > 0)
  usage(`unknown probe ${unknown.join(', ')}: one of ${probes.map((p) => p.name).join(', ')}`);
const selected = args.probe ? probes.filter((p) => args.probe?.includes(p.name)) : probes;

/** @type {Array<{ name: string, title: string, status: 'PASS' | 'FAIL' | 'SKIP', did: string, expected: string, measured: string, seconds: number, values?: Record<string, unknown> }>} */
const results = [];
const began = performance.now();
try {
  for (const probe of selected) {
    const t0 = performance.now();
    const reason = probe.skip();
    /** @type {Measured | Skipped} */
    let outcome;
    if (reason) outcome = { status: 'SKIP', reason };
    else {
      process.stdout.write(`soak: ${probe.name}...\n`);
      try {
        outcome = await deadline(probe.run(), probe.timeoutSeconds);
      } catch (error) {
        outcome = {
          did: probe.title,
          expected: 'completes',
          measured: `error: ${/** @type {Error} */ (error).message}`,
          pass: false,
        };
      }
    }
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    results.push(
      'reason' in outcome
        ? {
            name: probe.name,
            title: probe.title,
            status: 'SKIP',
            did: '-',
            expected: '-',
            measured: outcome.reason,
            seconds,
          }
        : {
            name: probe.name,
            title: probe.title,
            status: outcome.pass ? 'PASS' : 'FAIL',
            did: outcome.did,
            expected: outcome.expected,
            measured: outcome.measured,
            seconds,
            ...(outcome.values ? { values: outcome.values } : {}),
          },
    );
    const last = /** @type {(typeof results)[number]} */ (results[results.length - 1]);
    process.stdout.write(`soak: ${probe.name}: ${last.status} (${seconds} s)\n`);
  }
} finally {
  if (sharedServer) await stop(await sharedServer).catch(() => undefined);
}

const cell = (/** @type {string} */ s) => s.replace(/\|/g, '\\|');
process.stdout.write(
  `\n| probe | done | expected | measured | result |\n| --- | --- | --- | --- | --- |\n${results
    .map(
      (r) =>
        `| ${r.name} | ${cell(r.did)} | ${cell(r.expected)} | ${cell(r.measured)} | ${r.status} |`,
    )
    .join('\n')}\n\n`,
);
const failed = results.filter((r) => r.status === 'FAIL');
const summary = {
  time: new Date().toISOString(),
  machine: {
    cpus: availableParallelism(),
    model: cpus()[0]?.model ?? 'unknown',
    node: process.version,
  },
  model: { name: contract.name, version: contract.version, kind: contract.kind },
  quick: args.quick,
  seconds: Math.round((performance.now() - began) / 100) / 10,
  criteria,
  probes: results,
  passed: failed.length === 0,
};
const dir = join(root, 'bench', 'results');
await mkdir(dir, { recursive: true });
const file = join(dir, `soak-${summary.time.replace(/[:.]/g, '-')}.json`);
const text = `${JSON.stringify(summary, null, 2)}\n`;
await writeFile(file, text);
if (args.json) await writeFile(resolve(args.json), text);
process.stdout.write(
  `${results.length - failed.length - results.filter((r) => r.status === 'SKIP').length} passed, ${failed.length} failed, ${results.filter((r) => r.status === 'SKIP').length} skipped in ${summary.seconds} s; results: ${file}\n`,
);
process.exit(failed.length > 0 ? 1 : 0);
