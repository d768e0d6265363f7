// @ts-check
/**
 * `npm run bench:cost`: what a row costs, so the pod's CPU and memory can be set from numbers.
 *
 * The built server is started once per WORKERS value (BENCH_WORKERS, default 1,2) and loaded, for
 * each batch size (BENCH_BATCHES, default 1,10,100,1000 rows), with BENCH_CONNECTIONS (20)
 * connections (fewer for large batches: at most BENCH_MAX_ROWS_IN_FLIGHT, 4000, rows in flight,
 * so 4 connections of 1000 rows) for BENCH_SECONDS (5 s) after a short warm-up of that body
 * (BENCH_CELL_WARMUP_SECONDS, 1 s). One row is `POST /predict` (a tensor model: its V2
 * `/v2/models/<name>/infer`); n rows are `POST /predict/batch` with n records (the model's
 * background rows, else its golden inputs, repeated to n). Each cell: requests/s, rows/s (answered 2xx), p50 and p99, non-2xx, and the
 * server's CPU seconds per 1000 rows (utime + stime of the server process, every thread
 * included, from /proc/<pid>/stat before and after the load). Memory: the server's RSS after the
 * warm-up with each WORKERS (the difference is what one more worker costs) and its peak during the
 * largest batch's load.
 *
 * The table goes into README.md between `<!-- bench:cost:start -->` and `<!-- bench:cost:end -->`
 * (`--no-readme`: leave README.md alone) and, with every number, to bench/results/cost-<time>.json.
 * The load is closed-loop: each connection sends its next request when the last was answered, so
 * a cell measures the server saturated; its p99 is the latency at that throughput.
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, load } from './load.mjs';
import { machine, markdownTable, provenance, readmeWanted, updateReadme } from './readme-table.mjs';
import { startServer } from './run.mjs';
import { cpuSeconds } from './thread-cpu.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** @param {string} name @param {number} fallback */
function number(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number (got ${JSON.stringify(raw)})`);
  return value;
}

/** @param {string} name @param {number[]} fallback */
function numbers(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(
      `${name} must be a comma list of whole numbers >= 1 (got ${JSON.stringify(raw)})`,
    );
  return values;
}

const settings = {
  seconds: number('BENCH_SECONDS', 5),
  connections: number('BENCH_CONNECTIONS', 20),
  maxRowsInFlight: number('BENCH_MAX_ROWS_IN_FLIGHT', 4000),
  warmupSeconds: number('BENCH_WARMUP_SECONDS', 2),
  cellWarmupSeconds: number('BENCH_CELL_WARMUP_SECONDS', 1),
  batches: numbers('BENCH_BATCHES', [1, 10, 100, 1000]),
  workers: numbers('BENCH_WORKERS', [1, 2]),
};

/**
 * Resident memory of the process in MiB, or null without /proc.
 * @param {number} pid
 */
export function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return kb ? Number(kb[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** @param {number | null} x @param {number} digits */
const round = (x, digits) => (x === null ? null : Number(x.toFixed(digits)));

/** The model, its contract and the request bodies of each batch size. */
async function bodies() {
  const { contract } = await import(join(root, 'dist', 'src', 'model', 'contract.js'));
  const artifacts = await import(join(root, 'dist', 'src', 'model', 'artifacts.js'));
  const modelPath = join(root, 'model', 'model.onnx');
  const model = await artifacts.loadModel(contract, modelPath);
  const info = {
    name: contract.name,
    version: contract.version,
    kind: contract.kind,
    bytes: statSync(modelPath).size,
    features: contract.features.length,
    inputs: contract.inputs.length,
  };
  /** @type {Map<number, { route: string, url: string, body: string }>} */
  const byRows = new Map();
  if (contract.kind === 'tensors') {
    const { exampleTensors } = await import(join(root, 'dist', 'src', 'model', 'serving.js'));
    const { v2DatatypeOf } = await import(
      join(root, 'dist', 'src', 'inference', 'tensor-request.js')
    );
    const inputs = exampleTensors(contract).map(
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
    const route = `/v2/models/${contract.name}/infer`;
    byRows.set(1, { route, url: route, body: JSON.stringify({ inputs }) });
    return { info, byRows, skipped: settings.batches.filter((n) => n > 1) };
  }
  const { recordSchema } = await import(join(root, 'dist', 'src', 'model', 'schemas.js'));
  const record = recordSchema(contract);
  /** @type {unknown[]} */
  let rows = model.background ?? [];
  if (rows.length === 0)
    rows = (model.golden?.cases ?? [])
      .map((/** @type {{ input: unknown }} */ c) => record.safeParse(c.input))
      .filter((/** @type {{ success: boolean }} */ r) => r.success)
      .map((/** @type {{ data: unknown }} */ r) => r.data);
  if (rows.length === 0) rows = [artifacts.exampleRecord(contract, model)];
  for (const n of settings.batches) {
    if (n === 1) {
      byRows.set(1, { route: '/predict', url: '/predict', body: JSON.stringify(rows[0]) });
      continue;
    }
    const instances = Array.from({ length: n }, (_, i) => rows[i % rows.length]);
    byRows.set(n, {
      route: '/predict/batch',
      url: '/predict/batch',
      body: JSON.stringify({ instances }),
    });
  }
  return { info, byRows, skipped: /** @type {number[]} */ ([]) };
}

/**
 * The server settings the largest body needs beyond the ones it would run with: a bigger body
 * limit, more rows per batch request.
 * @param {Map<number, { body: string }>} byRows
 */
async function neededEnv(byRows) {
  const { loadConfig } = await import(join(root, 'dist', 'src', 'config.js'));
  const config = loadConfig(process.env, root);
  /** @type {Record<string, string>} */
  const env = {};
  /** @type {string[]} */
  const notes = [];
  const largest = Math.max(...[...byRows.values()].map((b) => Buffer.byteLength(b.body)));
  if (largest > config.bodyLimitBytes) {
    env.BODY_LIMIT_BYTES = String(Math.ceil((largest * 1.5) / 1024) * 1024);
    notes.push(
      `BODY_LIMIT_BYTES=${env.BODY_LIMIT_BYTES} (the largest body is ${largest} bytes, over the server's ${config.bodyLimitBytes})`,
    );
  }
  const rows = Math.max(...byRows.keys());
  if (rows > 1 && rows > config.maxBatchRows) {
    env.MAX_BATCH_ROWS = String(rows);
    notes.push(`MAX_BATCH_ROWS=${rows} (over the server's ${config.maxBatchRows})`);
  }
  return { env, notes };
}

/**
 * Connections for requests of `rows` rows: BENCH_CONNECTIONS, fewer when that would put more
 * than BENCH_MAX_ROWS_IN_FLIGHT rows in flight (at least 2). Large batches from 20 clients at once
 * would measure the queue's shedding (QUEUE_TIMEOUT_MS), not what a row costs.
 * @param {number} rows
 */
export function connectionsFor(rows) {
  return Math.max(2, Math.min(settings.connections, Math.floor(settings.maxRowsInFlight / rows)));
}

/**
 * One cell: a warm-up of this body, then the measured load with the server's CPU and RSS around it.
 * @param {number} pid
 * @param {string} address
 * @param {number} rows
 * @param {{ route: string, url: string, body: string }} b
 */
async function cell(pid, address, rows, b) {
  const request = {
    url: `${address}${b.url}`,
    method: 'POST',
    body: b.body,
    headers: { 'content-type': 'application/json' },
    connections: connectionsFor(rows),
  };
  await load({ ...request, durationSeconds: settings.cellWarmupSeconds });
  let peak = rssMiB(pid);
  const sampler = setInterval(() => {
    const now = rssMiB(pid);
    if (now !== null && (peak === null || now > peak)) peak = now;
  }, 100);
  const before = cpuSeconds(pid);
  let r;
  try {
    r = await load({ ...request, durationSeconds: settings.seconds });
  } finally {
    clearInterval(sampler);
  }
  const after = cpuSeconds(pid);
  const okRows = r.ok * rows;
  const cpu = before === null || after === null ? null : after - before;
  return {
    rows,
    route: b.route,
    bodyBytes: Buffer.byteLength(b.body),
    connections: request.connections,
    requestsPerSecond: r.requestsPerSecond,
    rowsPerSecond: Math.round(okRows / settings.seconds),
    p50Ms: r.latencyMs.p50,
    p99Ms: r.latencyMs.p99,
    non2xx: r.non2xx,
    cpuSeconds: round(cpu, 3),
    cpuSecondsPer1000Rows: cpu === null || okRows === 0 ? null : round(cpu / (okRows / 1000), 4),
    peakRssMiB: round(peak, 1),
    load: r,
  };
}

/** The command as run, with the BENCH_* settings that were set. */
function command() {
  const set = Object.keys(process.env)
    .filter((k) => /^BENCH_/.test(k) && process.env[k] !== '')
    .sort()
    .map((k) => `${k}=${process.env[k]}`);
  return [...set, 'npm run bench:cost'].join(' ');
}

/**
 * The README section: the cells, the memory, the settings and where they were measured.
 * @param {any} results
 */
export function costMarkdown(results) {
  const non2xx = (/** @type {any} */ c) => {
    const codes = Object.entries(c.load.statusCodes)
      .filter(([code]) => !/^2/.test(code))
      .map(([code, n]) => `${code}: ${n}`);
    return codes.length > 0 ? `${c.non2xx} (${codes.join(', ')})` : String(c.non2xx);
  };
  const dash = (/** @type {unknown} */ v) => (v === null || v === undefined ? 'n/a' : String(v));
  const cells = markdownTable(
    [
      'WORKERS',
      'rows per request',
      'route',
      'connections',
      'requests/s',
      'rows/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'CPU s per 1000 rows',
    ],
    results.runs.flatMap((/** @type {any} */ run) =>
      run.cells.map((/** @type {any} */ c) => [
        run.workers,
        c.rows,
        `\`${c.route}\``,
        c.connections,
        c.requestsPerSecond,
        c.rowsPerSecond,
        c.p50Ms,
        c.p99Ms,
        non2xx(c),
        dash(c.cpuSecondsPer1000Rows),
      ]),
    ),
  );
  const largest = Math.max(
    ...results.runs.flatMap((/** @type {any} */ run) =>
      run.cells.map((/** @type {any} */ c) => c.rows),
    ),
  );
  const memory = markdownTable(
    ['WORKERS', 'RSS after warm-up (MiB)', `peak RSS under ${largest}-row requests (MiB)`],
    results.runs.map((/** @type {any} */ run) => [
      run.workers,
      dash(run.rssAfterWarmupMiB),
      dash(run.cells.find((/** @type {any} */ c) => c.rows === largest)?.peakRssMiB),
    ]),
  );
  const m = results.memory;
  const perWorker =
    m.perWorkerMiB === null
      ? ''
      : `\n\nOne more worker: ${m.perWorkerMiB} MiB; the rest of the process (base): ${m.baseMiB} MiB.`;
  const skipped =
    results.skipped.length > 0
      ? `\n\nNot measured: ${results.skipped.join(', ')} rows per request (a tensor model has no \`/predict/batch\`; its request carries its own batch dimension).`
      : '';
  const env =
    results.serverEnv.length > 0
      ? ` Raised for the run: ${results.serverEnv.map((/** @type {string} */ n) => `\`${n.split(' ')[0]}\``).join(', ')}.`
      : '';
  const s = results.settings;
  return (
    `${cells}\n\n${memory}${perWorker}${skipped}\n\n` +
    `${s.connections} connections (fewer when over ${s.maxRowsInFlight} rows in flight) for ${s.seconds} s per cell, ` +
    `closed loop (the server saturated), ` +
    `after a ${s.cellWarmupSeconds} s warm-up of each body; prediction log on.${env} ` +
    provenance(results)
  );
}

async function main() {
  const writeReadme = readmeWanted(process.argv.slice(2));
  const { info, byRows, skipped } = await bodies();
  const { env, notes } = await neededEnv(byRows);
  announce(info, byRows, notes, skipped);
  const runs = [];
  for (const workers of settings.workers) runs.push(await runWorkers(workers, env, byRows));

  const rss = (/** @type {number} */ w) =>
    runs.find((r) => r.workers === w)?.rssAfterWarmupMiB ?? null;
  const one = rss(1);
  const two = rss(2);
  const perWorkerMiB = one !== null && two !== null ? round(two - one, 1) : null;
  const time = new Date().toISOString();
  const results = {
    time,
    machine: machine(),
    command: command(),
    model: info,
    settings,
    serverEnv: notes,
    skipped,
    runs,
    memory: {
      perWorkerMiB,
      baseMiB: perWorkerMiB !== null && one !== null ? round(one - perWorkerMiB, 1) : null,
    },
  };
  const markdown = costMarkdown(results);
  const dir = join(root, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `cost-${time.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ ...results, markdown }, null, 2)}\n`);
  process.stdout.write(`\n${markdown}\n\nresults: ${file}\n`);
  if (writeReadme) {
    await updateReadme(join(root, 'README.md'), 'cost', markdown);
  }
}

/** @typedef {Awaited<ReturnType<typeof bodies>>} Bodies */

/**
 * What the run will measure, and what it cannot.
 * @param {Bodies['info']} info @param {Bodies['byRows']} byRows @param {string[]} notes
 * @param {Bodies['skipped']} skipped
 */
function announce(info, byRows, notes, skipped) {
  process.stdout.write(
    `bench:cost ${info.name} (${info.kind}, model.onnx ${info.bytes} bytes, ${info.features} features, ${info.inputs} inputs)\n` +
      `  WORKERS ${settings.workers.join(', ')}; rows per request ${[...byRows.keys()].join(', ')}; ` +
      `BENCH_CONNECTIONS=${settings.connections}, BENCH_MAX_ROWS_IN_FLIGHT=${settings.maxRowsInFlight}, ` +
      `BENCH_SECONDS=${settings.seconds}, ` +
      `BENCH_WARMUP_SECONDS=${settings.warmupSeconds}, BENCH_CELL_WARMUP_SECONDS=${settings.cellWarmupSeconds}\n`,
  );
  for (const n of notes) process.stdout.write(`  server setting raised for the run: ${n}\n`);
  if (skipped.length > 0)
    process.stdout.write(
      `  skipped: ${skipped.join(', ')} rows per request (a tensor model has no /predict/batch)\n`,
    );
  if (cpuSeconds(process.pid) === null)
    process.stdout.write('  no /proc here: CPU and RSS are not measured\n');
}

/**
 * One server with `workers` worker threads: warmed up, then every body size measured in turn;
 * the server is stopped whatever happens.
 * @param {number} workers @param {Record<string, string>} env @param {Bodies['byRows']} byRows
 */
async function runWorkers(workers, env, byRows) {
  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  try {
    const started =
      /** @type {{ child: import('node:child_process').ChildProcess, address: string }} */ (
        await startServer({ ...env, WORKERS: String(workers) }, { onSpawn: (c) => (child = c) })
      );
    const pid = /** @type {number} */ (started.child.pid);
    const one = /** @type {{ url: string, body: string }} */ (
      byRows.get(1) ?? [...byRows.values()][0]
    );
    process.stdout.write(`WORKERS=${workers}: warm-up ${settings.warmupSeconds} s...\n`);
    await load({
      url: `${started.address}${one.url}`,
      method: 'POST',
      body: one.body,
      headers: { 'content-type': 'application/json' },
      connections: connectionsFor(1),
      durationSeconds: settings.warmupSeconds,
    });
    const rssAfterWarmupMiB = round(rssMiB(pid), 1);
    const cells = [];
    for (const [rows, b] of byRows) {
      const c = await cell(pid, started.address, rows, b);
      process.stdout.write(
        `  ${String(rows).padStart(5)} rows: ${c.rowsPerSecond} rows/s, ${describe(c.load)}, ` +
          `CPU ${c.cpuSecondsPer1000Rows ?? 'n/a'} s per 1000 rows\n`,
      );
      cells.push(c);
    }
    return { workers, rssAfterWarmupMiB, cells };
  } finally {
    const c = /** @type {import('node:child_process').ChildProcess | undefined} */ (child);
    if (c && c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
