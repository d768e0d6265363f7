#!/usr/bin/env node
/**
 * How long the generated pre-commit hook makes a commit take, on the bank-churn example project
 * (examples/answers/bank-churn.json: GCP, the bank-churn model), against `git commit --no-verify`
 * and against the full `npm run typecheck`, measured in the same run (this machine is shared: read
 * the ratios, not the absolute times). The project is generated with git, installed from the
 * registry (its `prepare` installs the hook), and one commit warms the incremental type-check.
 *
 * Scenarios, each a one-line change staged and committed with the hook:
 *   - src: a service file (lint-staged, type-check without deploy/, check without synthesis)
 *   - docs: README.md only
 *   - deploy: deploy/k8s/config.ts (the check also synthesizes the Kubernetes manifests)
 *
 *   node benchmarks/precommit.mjs [runs=3]
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/create-mlops-service.js');
const runs = Number(process.argv[2] ?? 3);
const env = { ...process.env, CI: '', FORCE_COLOR: '0', npm_config_loglevel: 'error' };
const git = ['-c', 'user.email=bench@localhost', '-c', 'user.name=bench'];

function run(cmd, args, cwd, ok = [0]) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (!ok.includes(r.status)) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  return ms;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const parent = mkdtempSync(join(tmpdir(), 'cms-bench-precommit-'));
const dir = join(parent, 'bank-churn');
try {
  run(
    process.execPath,
    [
      bin,
      dir,
      '--answers',
      join(root, 'examples/answers/bank-churn.json'),
      '--yes',
      '--no-install',
    ],
    root,
  );
  const installMs = run('npm', ['install', '--no-audit', '--no-fund'], dir);
  run('git', [...git, 'add', '-A'], dir);
  run('git', [...git, 'commit', '-q', '--no-verify', '-m', 'lockfile'], dir);

  let n = 0;
  const commit = (file, verify) => {
    appendFileSync(join(dir, file), file.endsWith('.md') ? `\n<!-- ${++n} -->\n` : `\n// ${++n}\n`);
    run('git', ['add', file], dir);
    return run(
      'git',
      [...git, 'commit', '-q', ...(verify ? [] : ['--no-verify']), '-m', `change ${n}`],
      dir,
    );
  };
  const coldMs = commit('src/routes/predict.ts', true);
  const typecheckMs = median([0, 1].map(() => run('npm', ['run', '--silent', 'typecheck'], dir)));
  const scenarios = {
    'git commit --no-verify': () => commit('src/routes/predict.ts', false),
    'hook, src change': () => commit('src/routes/predict.ts', true),
    'hook, docs change': () => commit('README.md', true),
    'hook, deploy change': () => commit('deploy/k8s/config.ts', true),
  };
  const results = { runs, installMs, coldMs, typecheckMs, scenarios: {} };
  for (const [name, fn] of Object.entries(scenarios)) {
    results.scenarios[name] = median(Array.from({ length: runs }, fn));
  }
  const checkMs = run('npm', ['run', '--silent', 'check'], dir);
  results.checkMs = checkMs;

  const row = (name, ms) =>
    console.log(
      `${name.padEnd(34)} ${(ms / 1000).toFixed(1).padStart(6)} s  ${(ms / typecheckMs).toFixed(2)}x typecheck`,
    );
  console.log(
    `bank-churn (GCP), median of ${runs}; npm install took ${(installMs / 1000).toFixed(0)} s`,
  );
  row('npm run typecheck (full)', typecheckMs);
  row('first hook run (cold caches)', coldMs);
  for (const [name, ms] of Object.entries(results.scenarios)) row(name, ms);
  row('npm run check (full, synth)', checkMs);
  mkdirSync(join(root, 'benchmarks/results'), { recursive: true });
  writeFileSync(
    join(root, 'benchmarks/results/precommit.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
} finally {
  rmSync(parent, { recursive: true, force: true });
}
