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
    baseline: { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const warmup = Number(args.warmup);
const targets = { vsReferenceThroughput: 50, vsBareThroughput: 0.25, vsReferenceP99: 0.1 };

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

/** A built generated service (`dist/src/server.js`), started as `npm start` runs it. */
function startService(
  /** @type {string} */ what,
  /** @type {string} */ dir,
  /** @type {string} */ predictionLog,
) {
  if (!existsSync(join(dir, 'dist/src/server.js')))
    fail(`${what}: ${dir} has no dist/src/server.js (npm run build there first)`);
  return startProcess(what, process.execPath, ['dist/src/server.js'], {
    cwd: dir,
    env: { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', PREDICTION_LOG_PATH: predictionLog },
    ready: (() => {
      /** @type {string | undefined} */
      let address;
      return (line) => {
        try {
          const entry = JSON.parse(line);
          if (entry.address) address = entry.address;
          return typeof entry.msg === 'string' && entry.msg.startsWith('ready')
            ? address
            : undefined;
        } catch {
          return undefined;
        }
      };
    })(),
  });
}

async function main() {
  const modelDir = resolve(args.model);
  const modelFile = join(modelDir, 'model.onnx');
  if (!existsSync(modelFile)) fail(`no model.onnx in ${modelDir}`);
  const schemaFile = join(modelDir, 'model.schema.json');
  if (!existsSync(schemaFile))
    fail(`${modelDir} has no model.schema.json: the reference needs the feature list`);
  const schema = JSON.parse(await readFile(schemaFile, 'utf8'));
  if (
    schema.task === 'regression' ||
    schema.task === 'multiclass' ||
    schema.task === 'text-classification'
  ) {
    fail(
      'the reference server answers binary classifiers (the bank-churn example); pick a binary model',
    );
  }
  const modelSha = createHash('sha256')
    .update(await readFile(modelFile))
    .digest('hex');
  const work = join(tmpdir(), 'create-mlops-service-bench', modelSha.slice(0, 12));
  await mkdir(work, { recursive: true });
  const serviceDir = await prepareService(modelFile, work);
  const pipeline = await preparePipeline(modelDir, modelSha, work);

  const { load, describe } = await import(pathToFileURL(join(serviceDir, 'bench/load.mjs')).href);
  const background = existsSync(join(modelDir, 'background.json'))
    ? JSON.parse(await readFile(join(modelDir, 'background.json'), 'utf8')).rows
    : null;
  if (!background) fail('the model ships no background.json to take a request body from');
  const body = JSON.stringify(background[0]);

  // (a) the generated service, as `npm start` runs it (prediction log on, as in production)
  const service = await startService('the service', serviceDir, join(work, 'predictions.jsonl'));
  // (a') optionally, a service generated by an earlier version of the generator (--baseline)
  const baseline = args.baseline
    ? await startService(
        'the baseline service',
        resolve(args.baseline),
        join(work, 'baseline-predictions.jsonl'),
      )
    : undefined;
  // (b) the reference
  const port = await freePort();
  const reference = await startProcess(
    'the reference',
    python,
    [
      '-m',
      'uvicorn',
      'app:app',
      '--workers',
      '1',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'info',
    ],
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
  // (c) the ceiling
  const fastify = pathToFileURL(join(serviceDir, 'node_modules/fastify/fastify.js')).href;
  const bare = await startProcess(
    'the bare route',
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

  // The same answer from (a) and (b): the same model behind both.
  const post = (/** @type {string} */ url) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
      async (r) => ({ status: r.status, json: await r.json() }),
    );
  const a = await post(`${service.address}/predict`);
  const b = await post(`${reference.address}/predict`);
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

  const plans = [
    {
      name: 'service',
      options: {
        url: `${service.address}/predict`,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      },
    },
    {
      name: 'reference',
      options: {
        url: `${reference.address}/predict`,
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      },
    },
    { name: 'bare', options: { url: `${bare.address}/` } },
    ...(baseline
      ? [
          {
            name: 'baseline',
            options: {
              url: `${baseline.address}/predict`,
              method: 'POST',
              body,
              headers: { 'content-type': 'application/json' },
            },
          },
        ]
      : []),
  ];
  const loadBefore = loadavg()[0];
  log(`warm-up ${warmup} s each...`);
  for (const p of plans)
    await load({ ...p.options, connections, durationSeconds: warmup, timeoutSeconds: 60 });
  /** @type {Record<string, any[]>} */
  const measured = { service: [], reference: [], bare: [], ...(baseline ? { baseline: [] } : {}) };
  for (let r = 1; r <= rounds; r++) {
    for (const p of plans) {
      const result = await load({
        ...p.options,
        connections,
        durationSeconds: seconds,
        timeoutSeconds: 60,
      });
      measured[p.name]?.push(result);
      log(`round ${r}/${rounds} ${p.name.padEnd(9)} ${describe(result)}`);
    }
  }
  const summary = Object.fromEntries(
    Object.entries(measured).map(([name, results]) => [
      name,
      {
        requestsPerSecond: median(results.map((x) => x.requestsPerSecond)),
        p50Ms: median(results.map((x) => x.latencyMs.p50)),
        p99Ms: median(results.map((x) => x.latencyMs.p99)),
        non2xx: results.reduce((s, x) => s + x.non2xx + x.errors + x.timeouts, 0),
      },
    ]),
  );
  const s = summary.service;
  const ratios = {
    vsReferenceThroughput: s.requestsPerSecond / summary.reference.requestsPerSecond,
    vsBareThroughput: s.requestsPerSecond / summary.bare.requestsPerSecond,
    vsReferenceP99: s.p99Ms / summary.reference.p99Ms,
  };
  const checks = {
    vsReferenceThroughput: ratios.vsReferenceThroughput >= targets.vsReferenceThroughput,
    vsBareThroughput: ratios.vsBareThroughput >= targets.vsBareThroughput,
    vsReferenceP99: ratios.vsReferenceP99 <= targets.vsReferenceP99,
    serviceZeroNon2xx: s.non2xx === 0,
  };
  const fmt = (/** @type {number} */ x) =>
    x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
  log('');
  log(
    `medians over ${rounds} rounds of ${seconds} s at ${connections} connections (${availableParallelism()} CPUs):`,
  );
  for (const [name, x] of Object.entries(summary)) {
    log(
      `  ${name.padEnd(9)} ${String(Math.round(x.requestsPerSecond)).padStart(7)} req/s   p50 ${fmt(x.p50Ms).padStart(7)} ms   p99 ${fmt(x.p99Ms).padStart(7)} ms   non-2xx ${x.non2xx}`,
    );
  }
  const mark = (/** @type {boolean} */ ok) => (ok ? 'ok  ' : 'MISS');
  log('');
  log(
    `  ${mark(checks.vsReferenceThroughput)} throughput vs reference   ${fmt(ratios.vsReferenceThroughput)}x   (target >= ${targets.vsReferenceThroughput}x)`,
  );
  log(
    `  ${mark(checks.vsBareThroughput)} throughput vs bare route  ${fmt(ratios.vsBareThroughput)}x   (target >= ${targets.vsBareThroughput}x)`,
  );
  log(
    `  ${mark(checks.vsReferenceP99)} p99 vs reference          ${fmt(ratios.vsReferenceP99)}x   (target <= ${targets.vsReferenceP99}x)`,
  );
  log(`  ${mark(checks.serviceZeroNon2xx)} service non-2xx           ${s.non2xx}      (target 0)`);
  if (summary.baseline) {
    // No target: a comparison between two versions, for the change's own note.
    log(
      `       throughput vs baseline    ${fmt(s.requestsPerSecond / summary.baseline.requestsPerSecond)}x   (baseline vs bare route ${fmt(summary.baseline.requestsPerSecond / summary.bare.requestsPerSecond)}x)`,
    );
  }

  const results = {
    time: new Date().toISOString(),
    machine: {
      cpus: availableParallelism(),
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage: { before: loadBefore, after: loadavg()[0] },
    },
    model: { dir: modelDir, name: schema.name, version: schema.version, sha256: modelSha },
    config: { seconds, rounds, connections, warmup },
    summary,
    ratios,
    targets,
    checks,
    rounds: measured,
  };
  const out = join(root, 'benchmarks/results');
  await mkdir(out, { recursive: true });
  const file = join(out, `compare-${results.time.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`\nresults: ${file}`);
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(
    children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
  );
  process.exit(Object.values(checks).every(Boolean) ? 0 : 1);
}

process.on('SIGINT', () => fail('interrupted'));
await main().catch((e) => fail(e.stack ?? String(e)));
