#!/usr/bin/env node
/**
 * `npm run bench:cost`: what a row costs in each example, beside the size of its model.
 *
 * For each example (examples/bank-churn, nlp-insight, chicago-taxi), installs it when it is not
 * (`npm ci`, ONNXRUNTIME_NODE_INSTALL=skip), runs its own `npm run bench:cost -- --no-readme` and
 * `npm run bench:profile -- --no-readme` (the example's README is a generated file: it is left
 * alone), and records their tables beside the example's model, in
 * `examples/models/<name>/bench/cost.md` and `profile.md`; `npm run examples:update` then puts them
 * between the README's markers. Prints one table of every cell with the model's size (model.onnx
 * bytes, features, graph inputs) and writes it to benchmarks/results/cost-<time>.json.
 *
 *   node benchmarks/cost.mjs [name...] [--no-profile]
 *
 * BENCH_* variables (BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_BATCHES, BENCH_WORKERS, ...) pass
 * through to the examples' benches. Exit 0 when every example was measured, 1 when one failed,
 * 2 on a usage error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const all = ['bank-churn', 'nlp-insight', 'chicago-taxi'];
const args = process.argv.slice(2);
const profile = !args.includes('--no-profile');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--no-profile');
const names = args.filter((a) => !a.startsWith('-'));
const bad = names.filter((n) => !all.includes(n));
if (unknown.length > 0 || bad.length > 0) {
  process.stderr.write(
    `${unknown.length > 0 ? `unknown option ${unknown[0]}` : `no example ${bad[0]} (examples: ${all.join(', ')})`}\n` +
      'usage: node benchmarks/cost.mjs [name...] [--no-profile]\n',
  );
  process.exit(2);
}
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_loglevel: 'error' };

/** `npm ci` in an example whose node_modules are missing or older than its lockfile. */
function install(dir) {
  const stamp = join(dir, 'node_modules', '.package-lock.json');
  const lock = join(dir, 'package-lock.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return;
  process.stdout.write(`npm ci in ${dir}\n`);
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: 'inherit',
    env,
  });
  if (r.status !== 0) throw new Error(`npm ci failed in ${dir}`);
}

/** The newest entry of `dir` matching `pattern` written since `since` (ms), or null. */
function newest(dir, pattern, since) {
  if (!existsSync(dir)) return null;
  const found = readdirSync(dir)
    .filter((f) => pattern.test(f))
    .map((f) => ({ f, mtime: statSync(join(dir, f)).mtimeMs }))
    .filter((e) => e.mtime >= since)
    .sort((a, b) => b.mtime - a.mtime);
  return found[0] ? join(dir, found[0].f) : null;
}

/** Runs `npm run <script> -- --no-readme` in the example; its output goes to ours. */
function bench(dir, script) {
  process.stdout.write(`\n== ${dir}: npm run ${script}\n`);
  const r = spawnSync('npm', ['run', script, '--', '--no-readme'], {
    cwd: dir,
    stdio: 'inherit',
    env,
  });
  if (r.status !== 0) throw new Error(`npm run ${script} failed in ${dir} (exit ${r.status})`);
}

const measured = [];
let failed = 0;
for (const name of names.length > 0 ? names : all) {
  const dir = join(root, 'examples', name);
  const out = join(root, 'examples', 'models', name, 'bench');
  try {
    if (!existsSync(join(dir, 'package.json')))
      throw new Error(`${dir} is not there: run npm run examples:update`);
    install(dir);
    const results = join(dir, 'bench', 'results');
    const since = Date.now() - 1000;
    bench(dir, 'bench:cost');
    const costFile = newest(results, /^cost-.*\.json$/, since);
    if (!costFile) throw new Error(`no ${results}/cost-*.json was written`);
    const cost = JSON.parse(readFileSync(costFile, 'utf8'));
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'cost.md'), `${cost.markdown.trim()}\n`);
    if (profile) {
      const before = Date.now() - 1000;
      bench(dir, 'bench:profile');
      const profileDir = newest(results, /^profile-/, before);
      const summary = profileDir && join(profileDir, 'summary.json');
      if (!summary || !existsSync(summary)) throw new Error(`no ${results}/profile-*/summary.json`);
      const p = JSON.parse(readFileSync(summary, 'utf8'));
      writeFileSync(join(out, 'profile.md'), `${p.markdown.trim()}\n`);
    }
    measured.push({ name, cost });
    process.stdout.write(`recorded: ${out}/cost.md${profile ? ', profile.md' : ''}\n`);
  } catch (error) {
    failed += 1;
    process.stderr.write(`${name}: ${error instanceof Error ? error.message : error}\n`);
  }
}

const row = (cells) => `| ${cells.join(' | ')} |`;
const header = [
  'example',
  'model.onnx bytes',
  'features',
  'inputs',
  'WORKERS',
  'rows per request',
  'rows/s',
  'p99 ms',
  'non-2xx',
  'CPU s per 1000 rows',
  'MiB per worker',
];
const lines = [row(header), row(header.map(() => '---'))];
for (const { name, cost } of measured)
  for (const run of cost.runs)
    for (const c of run.cells)
      lines.push(
        row([
          name,
          cost.model.bytes,
          cost.model.features,
          cost.model.inputs,
          run.workers,
          c.rows,
          c.rowsPerSecond,
          c.p99Ms,
          c.non2xx,
          c.cpuSecondsPer1000Rows ?? 'n/a',
          cost.memory.perWorkerMiB ?? 'n/a',
        ]),
      );
const table = lines.join('\n');
process.stdout.write(`\n${table}\n`);
if (measured.length > 0) {
  const time = new Date().toISOString();
  const dir = join(root, 'benchmarks', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `cost-${time.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ time, examples: measured.map(({ name, cost }) => ({ name, ...cost })), table }, null, 2)}\n`,
  );
  process.stdout.write(
    `\nresults: ${file}\nThe tables are recorded in examples/models/<name>/bench/; run npm run examples:update to put them in the examples' READMEs.\n`,
  );
}
process.exitCode = failed > 0 ? 1 : 0;
