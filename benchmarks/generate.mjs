#!/usr/bin/env node
/**
 * Wall time of `create-mlops-service demo --yes --no-install --no-git` against `node -e 0` (the
 * floor of starting Node on this machine), measured in the same run. Prints medians and the ratio,
 * writes benchmarks/results/generate.json, and exits 1 when the median is over the 1.5 s budget.
 *   node benchmarks/generate.mjs [runs=7]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/create-mlops-service.js');
const runs = Number(process.argv[2] ?? 7);
const budgetMs = 1500;

function time(args, cwd) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const baseline = [];
const generate = [];
for (let i = 0; i < runs; i++) {
  baseline.push(time(['-e', '0']));
  const cwd = mkdtempSync(join(tmpdir(), 'cms-bench-'));
  try {
    generate.push(time([bin, 'demo', '--yes', '--no-install', '--no-git'], cwd));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
const result = {
  runs,
  nodeMs: median(baseline),
  generateMs: median(generate),
  ratio: median(generate) / median(baseline),
  budgetMs,
};
console.log(`node -e 0                                   median ${result.nodeMs.toFixed(0)} ms`);
console.log(
  `create-mlops-service demo --yes (no install) median ${result.generateMs.toFixed(0)} ms`,
);
console.log(
  `ratio ${result.ratio.toFixed(1)}x node start; budget ${budgetMs} ms: ${result.generateMs <= budgetMs ? 'within' : 'OVER'}`,
);
mkdirSync(join(root, 'benchmarks/results'), { recursive: true });
writeFileSync(
  join(root, 'benchmarks/results/generate.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
process.exitCode = result.generateMs <= budgetMs ? 0 : 1;
