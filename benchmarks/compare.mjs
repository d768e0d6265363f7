// @ts-check
/**
 * Side-by-side benchmark (`npm run bench:compare`): in one run, on one machine, with one load
 * generator (autocannon, the generated service's own bench/load.mjs), on 127.0.0.1:
 *
 *   (a) the service create-mlops-service generates for the model;
 *   (b) the reference: the Python portfolio's serving pattern (FastAPI, one uvicorn worker,
 *       run_in_executor on a ThreadPoolExecutor(4)) with the same scikit-learn pipeline, rebuilt by
 *       the example's own train.py and checked against golden.json (benchmarks/reference/);
 *   (c) a bare Fastify route returning constant JSON: the ceiling of the machine.
 *
 * The three are measured in interleaved rounds (a, b, c, a, b, c, ...) and each figure is the
 * median over the rounds, so a burst of load from something else on the machine hits all three
 * alike. It prints the ratios against the targets and writes benchmarks/results/compare-<time>.json.
 *
 *   node benchmarks/compare.mjs [--model examples/models/bank-churn/artifacts] [--pipeline file.pkl]
 *     [--seconds 10] [--rounds 3] [--connections 100] [--warmup 3] [--baseline <service dir>]
 *
 * --baseline adds (a'): a service generated for the same model by another version of the
 * generator and built there (e.g. from a `git worktree` of an earlier commit), measured in the
 * same interleaved rounds, so a change's effect on /predict is one ratio of one run.
 *
 * Exit 0 when every target holds, 1 when one does not, 2 when the benchmark could not run.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { cpuCeiling, modelCpu } from './model-cpu.mjs';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const python = '/usr/bin/python3';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: join(root, 'examples/models/bank-churn/artifacts') },
    pipeline: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '3' },
    'batch-rows': { type: 'string', default: '1000' },
    'batch-connections': { type: 'string', default: '10' },
    baseline: { type: 'string' },
    'no-readme': { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const warmup = Number(args.warmup);
const batchRows = Number(args['batch-rows']);
const batchConnections = Number(args['batch-connections']);

/** @type {import('node:child_process').ChildProcess[]} */
const children = [];
const log = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);

function fail(/** @type {string} */ message) {
  process.stderr.write(`bench:compare: ${message}\n`);
  for (const c of children) c.kill('SIGKILL');
  process.exit(2);
}

async function freePort() {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Spawns a server and resolves once `ready(line)` returns an address from its stdout (bounded).
 * @param {string} name @param {string} command @param {string[]} argv
 * @param {{ env?: Record<string, string>, cwd?: string, ready: (line: string) => string | undefined }} options
 */
function startProcess(name, command, argv, options) {
  const child = spawn(command, argv, {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(
      () => rejectStart(new Error(`${name} did not start within 120 s:\n${output}`)),
      120_000,
    );
    let buffer = '';
    const onData = (/** @type {Buffer} */ chunk) => {
      output += chunk.toString();
      buffer += chunk.toString();
      let i;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const address = options.ready(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        if (address) {
          clearTimeout(timer);
          resolveStart({ child, address });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectStart(new Error(`${name} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/** Generates the service for the model (node_modules kept across runs), installs and builds it. */
async function prepareService(modelFile, work) {
  const dir = join(work, 'service');
  const fresh = join(work, 'service.new');
  await rm(fresh, { recursive: true, force: true });
  log(`generating the service into ${dir}`);
  await run(
    process.execPath,
    [
      join(root, 'bin/create-mlops-service.js'),
      fresh,
      '--yes',
      '--no-git',
      '--no-install',
      '--name',
      'bench-service',
      '--model',
      modelFile,
    ],
    {
      cwd: work,
    },
  ).catch((e) => fail(`the generator failed: ${e.stderr || e.message}`));
  const samePackage =
    existsSync(join(dir, 'node_modules')) &&
    (await readFile(join(dir, 'package.json'), 'utf8').catch(() => '')) ===
      (await readFile(join(fresh, 'package.json'), 'utf8'));
  if (samePackage) await rename(join(dir, 'node_modules'), join(fresh, 'node_modules'));
  await rm(dir, { recursive: true, force: true });
  await rename(fresh, dir);
  if (!samePackage) {
    log('npm install (first run, or the dependencies changed)...');
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: dir,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((e) => fail(`npm install failed: ${e.stderr || e.message}`));
  }
  await run('npm', ['run', 'build'], { cwd: dir }).catch((e) =>
    fail(`npm run build failed: ${e.stdout}${e.stderr}`),
  );
  return dir;
}

/** The reference's pipeline: --pipeline, or rebuilt from the example's train.py (cached). */
async function preparePipeline(modelDir, modelSha, work) {
  if (args.pipeline) return resolve(args.pipeline);
  const example = dirname(modelDir);
  if (basename(modelDir) !== 'artifacts' || !existsSync(join(example, 'train.py'))) {
    fail(
      `no scikit-learn pipeline for ${modelDir}: pass --pipeline <file.pkl> (a pickle {"pipeline", "features"})`,
    );
  }
  const cache = join(root, 'benchmarks/results/.cache');
  await mkdir(cache, { recursive: true });
  const file = join(cache, `${basename(example)}-${modelSha.slice(0, 12)}.pkl`);
  if (!existsSync(file)) {
    log(
      `rebuilding the scikit-learn pipeline with ${basename(example)}/train.py (checked against golden.json)...`,
    );
    const { stdout } = await run(
      python,
      [join(root, 'benchmarks/reference/build_pipeline.py'), '--example', example, '--out', file],
      {
        cwd: work,
      },
    ).catch((e) => fail(`rebuilding the pipeline failed: ${e.stderr || e.message}`));
    log(`  ${stdout.trim()}`);
  }
  return file;
}

function median(/** @type {number[]} */ values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2
    ? /** @type {number} */ (s[m])
    : /** @type {number} */ (s[m - 1] + /** @type {number} */ (s[m])) / 2;
}

/**
 * A built generated service (`dist/src/server.js`), started as `npm start` runs it; its start is
 * read by the service under test's own reader (`src/lifecycle/startup-log.ts`), which reads a
 * --baseline from an earlier generator version too (the ready line has not changed).
 */
async function startService(
  /** @type {string} */ what,
  /** @type {string} */ dir,
  /** @type {string} */ predictionLog,
  /** @type {string} */ serviceDir = dir,
) {
  if (!existsSync(join(dir, 'dist/src/server.js')))
    fail(`${what}: ${dir} has no dist/src/server.js (npm run build there first)`);
  const { StartupLog } = await import(
    pathToFileURL(join(serviceDir, 'dist/src/lifecycle/startup-log.js')).href
  );
  const startup = new StartupLog();
  /** @type {string | undefined} */
  let grpcAddress;
  const started = await startProcess(what, process.execPath, ['dist/src/server.js'], {
    cwd: dir,
    env: {
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PREDICTION_LOG_PATH: predictionLog,
    },
    ready: (line) => {
      const state = startup.read(`${line}\n`);
      grpcAddress = state.grpcAddress;
      return state.ready ? state.address : undefined;
    },
  });
  return { ...started, grpcAddress };
}

/**
 * The ratios this benchmark claims, each against its target (issue 3 for the reference, issue 17
 * for the ceilings): `of` names the two measured plans, `metric` the figure compared.
 * @type {ReadonlyArray<{ id: string, label: string, of: [string, string], metric: 'requestsPerSecond' | 'p99Ms', min?: number, max?: number }>}
 */
const targets = [
  {
    id: 'predictVsBarePost',
    label: '/predict vs bare POST (same body), req/s',
    of: ['predict', 'barePost'],
    metric: 'requestsPerSecond',
    min: 0.6,
  },
  {
    id: 'predictVsBareGet',
    label: '/predict vs bare GET, req/s',
    of: ['predict', 'bareGet'],
    metric: 'requestsPerSecond',
    min: 0.5,
  },
  {
    id: 'predictP99VsBarePost',
    label: '/predict p99 vs bare POST p99',
    of: ['predict', 'barePost'],
    metric: 'p99Ms',
    max: 2,
  },
  {
    id: 'v2VsBarePost',
    label: 'V2 infer (1 row) vs bare POST (same body), req/s',
    of: ['v2', 'barePostV2'],
    metric: 'requestsPerSecond',
    min: 0.5,
  },
  {
    id: 'batchVsBarePost',
    label: `/predict/batch (${batchRows} rows) vs bare POST (same body), req/s`,
    of: ['batch', 'barePostBatch'],
    metric: 'requestsPerSecond',
    min: 0.5,
  },
  {
    id: 'predictVsReference',
    label: '/predict vs the Python reference, req/s',
    of: ['predict', 'reference'],
    metric: 'requestsPerSecond',
    min: 50,
  },
  {
    id: 'predictP99VsReference',
    label: '/predict p99 vs the reference p99',
    of: ['predict', 'reference'],
    metric: 'p99Ms',
    max: 0.1,
  },
];
/** The plans that measure the service: each must answer every request with a 2xx. */
const servicePlans = ['predict', 'v2', 'grpc', 'batch'];

/**
 * The request bodies: one record for /predict (the model's first background row), the same record
 * as a V2 inference request (one tensor per model input, as a KServe client sends it), and
 * `batchRows` records for /predict/batch (the background rows, repeated).
 * @param {string} serviceDir @param {any[]} background
 */
async function requestBodies(serviceDir, background) {
  const { contract } = await import(
    pathToFileURL(join(serviceDir, 'dist/src/model/contract.js')).href
  );
  const row = background[0];
  const v2 = {
    inputs: contract.inputs.map((/** @type {any} */ input) => {
      const features = contract.features
        .filter((/** @type {any} */ f) => f.input === input.name)
        .sort((/** @type {any} */ a, /** @type {any} */ b) => a.column - b.column);
      return {
        name: input.name,
        shape: input.shape.length === 1 ? [1] : [1, features.length],
        datatype: input.type === 'string' ? 'BYTES' : 'FP32',
        data: features.map((/** @type {any} */ f) => row[f.name] ?? null),
      };
    }),
  };
  const instances = Array.from({ length: batchRows }, (_, i) => background[i % background.length]);
  return {
    predict: JSON.stringify(row),
    v2: JSON.stringify(v2),
    batch: JSON.stringify({ instances }),
    v2Path: `/v2/models/${contract.name}/infer`,
    modelName: contract.name,
  };
}

/**
 * V2 over gRPC: the same one-row request as ModelInfer (typed contents), loaded by the service's
 * own ghz-style generator (bench/grpc-load.mjs) on its GRPC_PORT. None when the service has no
 * gRPC (a --baseline from before it, or GRPC_PORT off).
 * @param {string} serviceDir
 * @param {{ address: string, grpcAddress?: string, child: import('node:child_process').ChildProcess }} service
 * @param {{ v2: string, modelName: string }} bodies
 */
async function grpcPlan(serviceDir, service, bodies) {
  const loader = join(serviceDir, 'bench/grpc-load.mjs');
  if (!service.grpcAddress || !existsSync(loader)) return [];
  const { loadGrpc } = await import(pathToFileURL(loader).href);
  const request = {
    model_name: bodies.modelName,
    inputs: JSON.parse(bodies.v2).inputs.map((/** @type {any} */ t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      contents:
        t.datatype === 'BYTES'
          ? { bytes_contents: t.data.map((/** @type {string} */ v) => Buffer.from(String(v))) }
          : { fp32_contents: t.data },
    })),
  };
  return [
    {
      name: 'grpc',
      pid: service.child.pid,
      what: 'the service, V2 ModelInfer over gRPC (1 row)',
      service: service.address,
      load: (/** @type {any} */ o) =>
        loadGrpc({
          address: /** @type {string} */ (service.grpcAddress).replace(/^[a-z]+:\/\//, ''),
          request,
          connections: o.connections,
          durationSeconds: o.durationSeconds,
          timeoutSeconds: o.timeoutSeconds,
        }),
      options: { connections },
    },
  ];
}

/** A POST of a JSON body, as autocannon options. */
const postJson = (/** @type {string} */ url, /** @type {string} */ body, n = connections) => ({
  url,
  method: 'POST',
  body,
  headers: { 'content-type': 'application/json' },
  connections: n,
});

/** The same answer from the service and the reference: the same model behind both. */
async function checkSameModel(
  /** @type {string} */ service,
  /** @type {string} */ reference,
  /** @type {string} */ body,
  /** @type {any} */ schema,
) {
  const post = (/** @type {string} */ url) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
      async (r) => ({ status: r.status, json: await r.json() }),
    );
  const a = await post(`${service}/predict`);
  const b = await post(`${reference}/predict`);
  if (a.status !== 200 || b.status !== 200)
    fail(`a request failed: service ${a.status}, reference ${b.status}`);
  const labels = schema.labels ?? ['0', '1'];
  const gap = Math.max(
    ...labels.map((/** @type {string} */ l) =>
      Math.abs(a.json.probabilities[l] - b.json.probabilities[l]),
    ),
  );
  if (!(gap <= 1e-5)) fail(`the service and the reference disagree (max |dp| = ${gap})`);
  log(`same model: probabilities agree within ${gap.toExponential(1)}`);
}

/**
 * The service's own account of the model's work (its /metrics): seconds inside the model runs,
 * rows run, runs, and warm workers. The difference across a load is what that load cost the model.
 * @param {string} address
 */
async function modelWork(address) {
  const text = await fetch(`${address}/metrics`).then((r) => r.text());
  const sum = (/** @type {string} */ name) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name) && /^[a-z_]+(\{[^}]*\})? /.test(l))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return {
    seconds: sum('mlservice_inference_duration_seconds_sum'),
    rows: sum('mlservice_batch_size_sum'),
    runs: sum('mlservice_batch_size_count'),
    workers: sum('mlservice_workers_ready'),
  };
}

/**
 * Each service plan's model work per request (medians over the rounds): the rows per run the
 * service reached, the clock time its workers spent inside the model (which, on a loaded machine,
 * includes waiting for a core), and the model's CPU for such a request, measured alone by `model`
 * (benchmarks/model-cpu.mjs). `evaluate` turns the CPU into the bound a ratio cannot pass.
 * @param {Record<string, any[]>} work
 * @param {{ perRequest: (requestRows: number, rowsPerRun: number) => Promise<number> }} model
 */
async function modelBounds(work, model) {
  /** @type {Record<string, any>} */
  const bounds = {};
  // One plan at a time: each measures the model's CPU in this process.
  for (const [name, samples] of Object.entries(work)) {
    const clockUsPerRequest = median(samples.map((w) => (w.seconds * 1e6) / w.requests));
    const rowsPerRun = median(samples.map((w) => w.rows / Math.max(1, w.runs)));
    const rowsPerRequest = median(samples.map((w) => w.rows / Math.max(1, w.requests)));
    const runSize = model.runSize(rowsPerRun);
    const cpuUsPerRequest = await model.perRequest(rowsPerRequest, rowsPerRun);
    const workers = samples[0]?.workers ?? 1;
    bounds[name] = {
      rowsPerRun,
      runSize,
      rowsPerRequest,
      clockUsPerRequest,
      cpuUsPerRequest,
      workers,
    };
  }
  return bounds;
}

/** Every plan: a warm-up each, then `rounds` interleaved rounds; the medians of each plan. */
async function measure(
  /** @type {any} */ load,
  /** @type {any} */ describe,
  /** @type {any[]} */ plans,
  /** @type {(pid: number) => number | null} */ cpuSeconds,
) {
  log(`warm-up ${warmup} s each...`);
  for (const p of plans)
    await (p.load ?? load)({ ...p.options, durationSeconds: warmup, timeoutSeconds: 60 });
  /** @type {Record<string, any[]>} */
  const measured = Object.fromEntries(plans.map((p) => [p.name, []]));
  /** @type {Record<string, any[]>} */
  const work = {};
  for (let r = 1; r <= rounds; r++) {
    for (const p of plans) {
      // Each plan starts with the load generator's heap collected: the garbage of the previous
      // plan (a 1000-row body per request) must not pause the client, and so the latencies it
      // measures, in the next one. (`npm run bench:compare` runs node with --expose-gc.)
      globalThis.gc?.();
      const before = p.service ? await modelWork(p.service) : undefined;
      const cpuBefore = p.pid === undefined ? null : cpuSeconds(p.pid);
      const clientBefore = process.cpuUsage();
      const result = await (p.load ?? load)({
        ...p.options,
        durationSeconds: seconds,
        timeoutSeconds: 60,
      });
      const client = process.cpuUsage(clientBefore);
      result.clientCpuUsPerRequest =
        result.ok === 0 ? undefined : (client.user + client.system) / result.ok;
      if (before) {
        const after = await modelWork(/** @type {string} */ (p.service));
        (work[p.name] ??= []).push({
          seconds: after.seconds - before.seconds,
          rows: after.rows - before.rows,
          runs: after.runs - before.runs,
          workers: after.workers,
          requests: result.ok,
        });
      }
      const cpuAfter = p.pid === undefined ? null : cpuSeconds(p.pid);
      result.serverCpuUsPerRequest =
        cpuBefore === null || cpuAfter === null || result.ok === 0
          ? undefined
          : ((cpuAfter - cpuBefore) * 1e6) / result.ok;
      measured[p.name]?.push(result);
      log(`round ${r}/${rounds} ${p.name.padEnd(13)} ${describe(result)}`);
    }
  }
  /** @type {Record<string, { requestsPerSecond: number, p50Ms: number, p99Ms: number, non2xx: number, what: string }>} */
  const summary = Object.fromEntries(
    plans.map((p) => {
      const results = measured[p.name] ?? [];
      return [
        p.name,
        {
          what: p.what,
          requestsPerSecond: median(results.map((x) => x.requestsPerSecond)),
          p50Ms: median(results.map((x) => x.latencyMs.p50)),
          p99Ms: median(results.map((x) => x.latencyMs.p99)),
          cpuUsPerRequest: results.every((x) => x.serverCpuUsPerRequest !== undefined)
            ? median(results.map((x) => x.serverCpuUsPerRequest))
            : undefined,
          clientCpuUsPerRequest: results.every((x) => x.clientCpuUsPerRequest !== undefined)
            ? median(results.map((x) => x.clientCpuUsPerRequest))
            : undefined,
          non2xx: results.reduce((s, x) => s + x.non2xx + x.errors + x.timeouts, 0),
        },
      ];
    }),
  );
  return { measured, summary, work };
}

const fmt = (/** @type {number} */ x) =>
  x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 1 ? x.toFixed(2) : x.toFixed(3);

/**
 * The best a throughput ratio could be if HTTP, validation and recording cost the service nothing
 * beyond what its comparator costs (`cpuCeiling`): a bare route does part of the service's work
 * (receive, parse, answer), so the service pays at least that route's CPU, plus the model's and
 * the load generator's. The Python reference does other work, so nothing of its CPU is counted.
 * @param {Record<string, any>} summary @param {any} bound @param {[string, string]} of
 */
function ratioBound(summary, bound, [plan, comparator]) {
  const bareCpuUs = comparator.startsWith('bare') ? summary[comparator].cpuUsPerRequest : 0;
  const clientCpuUs = summary[plan].clientCpuUsPerRequest;
  if (!bound || bareCpuUs === undefined || clientCpuUs === undefined) return undefined;
  const ceiling = cpuCeiling({
    cores: availableParallelism(),
    bareCpuUs,
    modelCpuUs: bound.cpuUsPerRequest,
    clientCpuUs,
  });
  return ceiling / summary[comparator].requestsPerSecond;
}

/**
 * Each target's ratio and verdict, and the service's 2xx check; each throughput ratio with the
 * bound the model sets on it (`ratioBound`).
 * @param {Record<string, any>} summary @param {Record<string, any>} bounds
 */
function evaluate(summary, bounds) {
  const ratios = targets
    .filter((t) => summary[t.of[0]] && summary[t.of[1]])
    .map((t) => {
      const value = summary[t.of[0]][t.metric] / summary[t.of[1]][t.metric];
      const ok = t.min !== undefined ? value >= t.min : value <= /** @type {number} */ (t.max);
      const target = t.min !== undefined ? `>= ${t.min}` : `<= ${t.max}`;
      const modelBound =
        t.metric === 'requestsPerSecond' ? ratioBound(summary, bounds[t.of[0]], t.of) : undefined;
      return { id: t.id, label: t.label, value, target, ok, modelBound };
    });
  const non2xx = servicePlans.reduce((s, p) => s + (summary[p]?.non2xx ?? 0), 0);
  ratios.push({
    id: 'serviceZeroNon2xx',
    label: 'service answers that were not 2xx',
    value: non2xx,
    target: '0',
    ok: non2xx === 0,
    modelBound: undefined,
  });
  return ratios;
}

/**
 * The Markdown of the run (the README's speed section is this, regenerated).
 * @param {Record<string, any>} summary @param {any[]} ratios @param {Record<string, any>} bounds
 * @param {any} machine
 */
function markdown(summary, ratios, bounds, machine) {
  const lines = [
    `Medians of ${rounds} interleaved rounds of ${seconds} s, ${connections} connections (${batchConnections} for ${batchRows}-row bodies), ${machine.cpus} CPUs (${machine.model}), Node ${machine.node}, ${machine.time.slice(0, 10)}; \`npm run bench:compare\`.`,
    '',
    '| plan | what | req/s | p50 | p99 | non-2xx | server CPU per request |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(summary).map(
      ([name, x]) =>
        `| ${name} | ${x.what} | ${fmt(x.requestsPerSecond)} | ${fmt(x.p50Ms)} ms | ${fmt(x.p99Ms)} ms | ${x.non2xx} | ${x.cpuUsPerRequest === undefined ? 'n/a' : `${fmt(x.cpuUsPerRequest)} µs`} |`,
    ),
    '',
    '| ratio | measured | target | | bound set by the model alone |',
    '| --- | --- | --- | --- | --- |',
    ...ratios.map(
      (r) =>
        `| ${r.label} | ${fmt(r.value)} | ${r.target} | ${r.ok ? 'ok' : 'MISS'} | ${r.modelBound === undefined ? '' : fmt(r.modelBound)} |`,
    ),
    '',
    ...Object.entries(bounds).map(
      ([name, b]) =>
        `- ${name}: ${fmt(b.rowsPerRun)} rows per batch sent to a worker. The model alone takes ${fmt(b.cpuUsPerRequest)} µs of CPU per request (in runs of ${b.runSize} rows, on one thread of this process, the servers idle); under load the ${b.workers} workers spent ${fmt(b.clockUsPerRequest)} µs of clock time inside it per request, waiting for a core included. The load generator took ${fmt(summary[name]?.clientCpuUsPerRequest ?? NaN)} µs of CPU per request.`,
    ),
  ];
  if (summary.grpc && summary.v2) {
    // No target: the two transports of the same protocol, side by side.
    lines.push(
      `- V2 over gRPC against V2 over REST (the same row): ${fmt(summary.grpc.requestsPerSecond / summary.v2.requestsPerSecond)}x the req/s, ${fmt(summary.grpc.p99Ms / summary.v2.p99Ms)}x the p99.`,
    );
  }
  return lines.join('\n');
}

/** Replaces the README's speed table (between its markers) with this run's. */
async function writeReadme(/** @type {string} */ table) {
  const file = join(root, 'README.md');
  const start = '<!-- bench:compare:start -->';
  const end = '<!-- bench:compare:end -->';
  const text = await readFile(file, 'utf8');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i)
    fail(
      `README.md has no ${start} ... ${end} section to write the table into (--no-readme skips it)`,
    );
  // Formatted as the repository formats Markdown (a table's columns padded), so a commit of the
  // regenerated README passes the format check unchanged.
  const prettier = await import('prettier');
  const updated = `${text.slice(0, i + start.length)}\n\n${table}\n\n${text.slice(j)}`;
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  await writeFile(file, await prettier.format(updated, options));
  log(`README.md: the speed table is rewritten from this run`);
}

/** The servers: the generated service (and a --baseline one), the reference and the bare routes. */
async function startServers(
  /** @type {string} */ serviceDir,
  /** @type {string} */ work,
  /** @type {string} */ pipeline,
  /** @type {any} */ schema,
) {
  // (a) the generated service, as `npm start` runs it (prediction log on, as in production)
  const service = await startService('the service', serviceDir, join(work, 'predictions.jsonl'));
  // (a') optionally, a service generated by an earlier version of the generator (--baseline)
  const baseline = args.baseline
    ? await startService(
        'the baseline service',
        resolve(args.baseline),
        join(work, 'baseline-predictions.jsonl'),
        serviceDir,
      )
    : undefined;
  // (b) the reference
  const port = await freePort();
  const reference = await startProcess(
    'the reference',
    python,
    ['-m', 'uvicorn', 'app:app', '--workers', '1', '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: join(root, 'benchmarks/reference'),
      env: {
        PIPELINE: pipeline,
        FEATURE_SPEC: JSON.stringify(
          schema.features.map((/** @type {any} */ f) => ({
            name: f.name,
            type: f.type,
            nullable: !!f.nullable,
          })),
        ),
        LABELS: JSON.stringify(schema.labels ?? ['0', '1']),
        THRESHOLD: String(schema.threshold ?? 0.5),
        MODEL_VERSION: schema.version,
      },
      ready: (line) =>
        /Application startup complete/.test(line) ? `http://127.0.0.1:${port}` : undefined,
    },
  );
  // (c) the ceilings: bare Fastify routes, GET answering a constant, POST parsing its body first
  const fastify = pathToFileURL(join(serviceDir, 'node_modules/fastify/fastify.js')).href;
  const bare = await startProcess(
    'the bare routes',
    process.execPath,
    [join(root, 'benchmarks/bare.mjs')],
    {
      env: { FASTIFY: fastify },
      ready: (line) => {
        try {
          return JSON.parse(line).address;
        } catch {
          return undefined;
        }
      },
    },
  );
  return { service, baseline, reference, bare };
}

/** The model under test: its folder, schema and sha256; only binary classifiers (the reference's). */
async function modelUnderTest() {
  const modelDir = resolve(args.model);
  const modelFile = join(modelDir, 'model.onnx');
  if (!existsSync(modelFile)) fail(`no model.onnx in ${modelDir}`);
  const schemaFile = join(modelDir, 'model.schema.json');
  if (!existsSync(schemaFile))
    fail(`${modelDir} has no model.schema.json: the reference needs the feature list`);
  const schema = JSON.parse(await readFile(schemaFile, 'utf8'));
  if (['regression', 'multiclass', 'text-classification'].includes(schema.task)) {
    fail(
      'the reference server answers binary classifiers (the bank-churn example); pick a binary model',
    );
  }
  const modelSha = createHash('sha256')
    .update(await readFile(modelFile))
    .digest('hex');
  return { modelDir, modelFile, schema, modelSha };
}

/**
 * The measured plans: the service's three REST plans and gRPC, the reference, the ceilings (each
 * POST fed a service plan's own body), and the --baseline service when there is one.
 * @param {string} serviceDir @param {any} servers @param {any} bodies
 */
async function planList(serviceDir, servers, bodies) {
  const { service, baseline, reference, bare } = servers;
  return [
    {
      name: 'predict',
      pid: service.child.pid,
      service: service.address,
      what: 'the service, POST /predict (1 record)',
      options: postJson(`${service.address}/predict`, bodies.predict),
    },
    {
      name: 'v2',
      pid: service.child.pid,
      service: service.address,
      what: 'the service, V2 infer (1 row)',
      options: postJson(`${service.address}${bodies.v2Path}`, bodies.v2),
    },
    ...(await grpcPlan(serviceDir, service, bodies)),
    {
      name: 'batch',
      pid: service.child.pid,
      service: service.address,
      what: `the service, POST /predict/batch (${batchRows} records)`,
      options: postJson(`${service.address}/predict/batch`, bodies.batch, batchConnections),
    },
    {
      name: 'reference',
      pid: reference.child.pid,
      what: 'the Python reference, POST /predict',
      options: postJson(`${reference.address}/predict`, bodies.predict),
    },
    {
      name: 'bareGet',
      pid: bare.child.pid,
      what: 'bare Fastify GET (constant)',
      options: { url: `${bare.address}/`, connections },
    },
    {
      name: 'barePost',
      pid: bare.child.pid,
      what: 'bare Fastify POST, /predict body',
      options: postJson(`${bare.address}/`, bodies.predict),
    },
    {
      name: 'barePostV2',
      pid: bare.child.pid,
      what: 'bare Fastify POST, V2 body',
      options: postJson(`${bare.address}/`, bodies.v2),
    },
    {
      name: 'barePostBatch',
      pid: bare.child.pid,
      what: `bare Fastify POST, ${batchRows}-record body`,
      options: postJson(`${bare.address}/`, bodies.batch, batchConnections),
    },
    ...(baseline
      ? [
          {
            name: 'baseline',
            pid: baseline.child.pid,
            what: 'the --baseline service, POST /predict',
            options: postJson(`${baseline.address}/predict`, bodies.predict),
          },
        ]
      : []),
  ];
}

/**
 * Prints the run's table, writes benchmarks/results/compare-<time>.json and the README's table.
 * @param {any} run
 */
async function report({
  measured,
  summary,
  bounds,
  ratios,
  loadBefore,
  modelDir,
  schema,
  modelSha,
}) {
  const machine = {
    time: new Date().toISOString(),
    cpus: availableParallelism(),
    model: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
  };
  const table = markdown(summary, ratios, bounds, machine);
  log(`\n${table}`);
  if (summary.baseline) {
    // No target: a comparison between two versions, for the change's own note.
    log(
      `\n/predict vs baseline ${fmt(summary.predict.requestsPerSecond / summary.baseline.requestsPerSecond)}x req/s, p99 ${fmt(summary.predict.p99Ms / summary.baseline.p99Ms)}x`,
    );
  }
  const out = join(root, 'benchmarks/results');
  await mkdir(out, { recursive: true });
  const file = join(out, `compare-${machine.time.replace(/[:.]/g, '-')}.json`);
  const config = { seconds, rounds, connections, warmup, batchRows, batchConnections };
  const model = { dir: modelDir, name: schema.name, version: schema.version, sha256: modelSha };
  await writeFile(
    file,
    `${JSON.stringify({ machine, model, config, summary, ratios, bounds, rounds: measured }, null, 2)}\n`,
  );
  log(`\nresults: ${file}`);
  if (!args['no-readme']) await writeReadme(table);
}

async function main() {
  const { modelDir, modelFile, schema, modelSha } = await modelUnderTest();
  const work = join(tmpdir(), 'create-mlops-service-bench', modelSha.slice(0, 12));
  await mkdir(work, { recursive: true });
  const serviceDir = await prepareService(modelFile, work);
  const pipeline = await preparePipeline(modelDir, modelSha, work);

  const { load, describe } = await import(pathToFileURL(join(serviceDir, 'bench/load.mjs')).href);
  // Each server's CPU from /proc, read the way the service's own benches read it.
  const { cpuSeconds } = await import(pathToFileURL(join(serviceDir, 'bench/thread-cpu.mjs')).href);
  const background = existsSync(join(modelDir, 'background.json'))
    ? JSON.parse(await readFile(join(modelDir, 'background.json'), 'utf8')).rows
    : null;
  if (!background) fail('the model ships no background.json to take a request body from');
  const bodies = await requestBodies(serviceDir, background);
  const { service, baseline, reference, bare } = await startServers(
    serviceDir,
    work,
    pipeline,
    schema,
  );
  await checkSameModel(service.address, reference.address, bodies.predict, schema);

  const plans = await planList(serviceDir, { service, baseline, reference, bare }, bodies);
  const loadBefore = loadavg()[0];
  const {
    measured,
    summary,
    work: modelWorkByPlan,
  } = await measure(load, describe, plans, cpuSeconds);
  // The model's CPU, measured after the rounds, with the servers idle.
  const model = await modelCpu(serviceDir, background);
  const bounds = await modelBounds(modelWorkByPlan, model);
  await model.release();
  const ratios = evaluate(summary, bounds);
  await report({ measured, summary, bounds, ratios, loadBefore, modelDir, schema, modelSha });
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
  );
  process.exit(ratios.every((r) => r.ok) ? 0 : 1);
}

process.on('SIGINT', () => fail('interrupted'));
await main().catch((e) => fail(e.stack ?? String(e)));
