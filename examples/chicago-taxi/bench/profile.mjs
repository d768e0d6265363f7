// @ts-check
/**
 * `npm run bench:profile`: where the CPU of a /predict request goes. The built server runs under
 * Node's CPU profiler (`--cpu-prof`: the main thread and every worker thread) while
 * BENCH_CONNECTIONS (100) connections load /predict for BENCH_SECONDS (10 s) after a warm-up; then
 * each sample of the main thread is put in the stage of the request it belongs to (the innermost
 * frame of its stack that names one: parse, validate, admit and route, batch and pack, cross to the
 * worker, unpack, serialize, record, HTTP). The profiler samples on a wall-clock timer, so the
 * stages are scaled to the main thread's CPU as /proc counts it over the load, and the other
 * threads (the workers' model runs, V8's GC helpers, the log's file writes) are their CPU from
 * /proc, not their samples (a worker waiting for work is sampled too). Printed per request, in
 * microseconds of CPU, and written to bench/results/profile-<time>.json with the profiles
 * themselves (open them in Chrome DevTools or speedscope).
 *
 * Samples before the load starts (start-up, model load, warm-up) are left out by time. The table
 * also goes into README.md between `<!-- bench:profile:start -->` and `<!-- bench:profile:end -->`
 * (`--no-readme`: leave README.md alone).
 */
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { describe, load } from './load.mjs';
import { machine, markdownTable, provenance, readmeWanted, updateReadme } from './readme-table.mjs';
import { exampleBody, startServer } from './run.mjs';
import { perRequest, threadCpu } from './thread-cpu.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);

/**
 * The stages of a request on the main thread, each recognised by the script or function of a
 * frame. The first that matches, from the innermost frame outwards, takes the sample.
 * @type {ReadonlyArray<readonly [string, (url: string, fn: string) => boolean]>}
 */
export const stages = [
  [
    'parse',
    (u) => /secure-json-parse|content-type-parser|http\/(instance-count|error-answers)/.test(u),
  ],
  ['validate', (u) => /\/zod\/|\/ajv|model\/(schemas|fast-validation)|routes\/common/.test(u)],
  [
    'serialize',
    (u, f) =>
      /fast-json-stringify/.test(u) || (/fastify\/lib\/reply/.test(u) && /serialize/i.test(f)),
  ],
  ['record', (u) => /src\/monitoring\/|src\/metrics|prom-client|\/pino/.test(u)],
  ['unpack', (u, f) => /src\/inference\/outputs/.test(u) || f === 'sliceOutputs'],
  ['cross to the worker', (u, f) => /\/piscina\//.test(u) || /postMessage|MessagePort/.test(f)],
  ['batch and pack', (u) => /src\/inference\/(batcher|tensors|predictor|pool)/.test(u)],
  ['admit and route', (u) => /src\/(routes|http|app|service)|find-my-way|fastify\/lib/.test(u)],
  [
    'HTTP',
    (u, f) =>
      /node:_http|node:net|stream_base|llhttp/.test(u) || /^(writev|writeBuffer|parserOn)/.test(f),
  ],
];

/**
 * CPU milliseconds per stage of one thread's profile, counting only samples at or after `fromMs`
 * (milliseconds since the profile started).
 * @param {any} profile a .cpuprofile
 * @param {number} fromMs
 * @param {boolean} worker whether the thread is an inference worker (all its CPU is "run")
 */
export function stageTimes(profile, fromMs, worker) {
  /** @type {Map<number, any>} */
  const byId = new Map(profile.nodes.map((/** @type {any} */ n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** @type {Map<number, string>} */
  const stageOf = new Map();
  const classify = (/** @type {number} */ id) => {
    const known = stageOf.get(id);
    if (known) return known;
    const { url, functionName } = byId.get(id).callFrame;
    let stage;
    if (functionName === '(idle)') stage = 'idle';
    else if (functionName === '(garbage collector)') stage = 'garbage collection';
    else if (worker) stage = 'run (worker threads)';
    else stage = stages.find(([, test]) => test(url, functionName))?.[0];
    const p = parent.get(id);
    stage ??= p === undefined ? 'other' : classify(p);
    stageOf.set(id, stage);
    return stage;
  };
  /** @type {Record<string, number>} */
  const ms = {};
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += (profile.timeDeltas[i] ?? 0) / 1000;
    if (t < fromMs) continue;
    const stage = classify(profile.samples[i]);
    ms[stage] = (ms[stage] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
  }
  return ms;
}

async function main() {
  const body = await exampleBody();
  const time = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(root, 'bench', 'results', `profile-${time}`);
  await mkdir(dir, { recursive: true });
  const spawned = performance.now();
  const { child, address } =
    /** @type {{ child: import('node:child_process').ChildProcess, address: string }} */ (
      await startServer({}, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] })
    );
  const request = {
    url: `${address}/predict`,
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  };
  /** @type {import('./load.mjs').LoadResult} */
  let measured;
  let fromMs;
  /** @type {{ main: number, others: number } | undefined} */
  let cpu;
  try {
    process.stdout.write(`warm-up ${warmupSeconds} s...\n`);
    await load({ ...request, connections, durationSeconds: warmupSeconds });
    fromMs = performance.now() - spawned;
    const before = await threadCpu(child.pid);
    measured = await load({ ...request, connections, durationSeconds: seconds });
    const after = await threadCpu(child.pid);
    cpu =
      before && after
        ? { main: after.main - before.main, others: after.others - before.others }
        : undefined;
    process.stdout.write(`load: ${describe(measured)}\n`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  // One file per thread, CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is main.
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const profiles = await Promise.all(
    files.map(async (f) => ({
      main: f.split('.')[4] === '0',
      profile: JSON.parse(await readFile(join(dir, f), 'utf8')),
    })),
  );
  const main = profiles.find((p) => p.main);
  if (!main) throw new Error(`no CPU profile of the main thread was written to ${dir}`);
  // The main thread's stages; the workers' profiles are kept for DevTools, their CPU comes
  // from /proc (their samples include the time they wait for work).
  const mainMs = stageTimes(main.profile, fromMs, false);
  const requests = measured.ok;
  const perRequestUs = perRequest(mainMs, cpu, requests);
  process.stdout.write(
    `\nCPU per request (µs), ${requests} requests, ${availableParallelism()} CPUs, ${files.length} threads:\n`,
  );
  for (const [stage, us] of Object.entries(perRequestUs))
    process.stdout.write(`  ${stage.padEnd(24)} ${String(us).padStart(8)}\n`);
  const sum = Object.values(perRequestUs).reduce((a, b) => a + b, 0);
  process.stdout.write(`  ${'total'.padEnd(24)} ${sum.toFixed(1).padStart(8)}\n`);
  const markdown = profileMarkdown(perRequestUs, sum, requests, measured);
  const file = join(dir, 'summary.json');
  await writeFile(
    file,
    `${JSON.stringify({ time, load: measured, requests, perRequestUs, profiles: files, markdown }, null, 2)}\n`,
  );
  process.stdout.write(`\nprofiles and summary: ${dir}\n`);
  if (readmeWanted(process.argv.slice(2))) {
    await updateReadme(join(root, 'README.md'), 'profile', markdown);
  }
}

/**
 * The README section: stage -> µs of CPU per request, and where it was measured.
 * @param {Record<string, number>} perRequestUs
 * @param {number} sum
 * @param {number} requests
 * @param {import('./load.mjs').LoadResult} measured
 */
function profileMarkdown(perRequestUs, sum, requests, measured) {
  const set = ['BENCH_SECONDS', 'BENCH_CONNECTIONS', 'BENCH_WARMUP_SECONDS']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]} `)
    .join('');
  const rows = Object.entries(perRequestUs).map(([stage, us]) => [stage, us]);
  return (
    `${markdownTable(['stage', 'µs CPU per request'], [...rows, ['total', sum.toFixed(1)]])}\n\n` +
    `${requests} requests to \`/predict\` at ${measured.connections} connections for ${measured.durationSeconds} s ` +
    `(${measured.requestsPerSecond} requests/s). ` +
    provenance({
      time: new Date().toISOString(),
      machine: machine(),
      command: `${set}npm run bench:profile`,
    })
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
