/**
 * The examples are generated projects and are tested like any user's: each is exactly what the
 * generator renders from its answers file, and each passes its own test suite.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answersDir, diffExample, examplesDir } from './sync.js';

const names = ['bank-churn', 'nlp-insight', 'chicago-taxi'];
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
const testEnv = () => ({ ...process.env, CI: '1', FORCE_COLOR: '0', npm_config_loglevel: 'error' });

/** Installs an example from its committed lockfile, once; again only when the lockfile changed. */
function install(dir: string): void {
  const stamp = join(dir, 'node_modules/.package-lock.json');
  const lock = join(dir, 'package-lock.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(lock).mtimeMs) return;
  const run = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: dir,
    encoding: 'utf8',
    env: testEnv(),
  });
  expect(run.status, run.stderr).toBe(0);
}

describe.each(names)('examples/%s', (name) => {
  const dir = join(examplesDir, name);

  it('is exactly what the generator renders from its answers', { timeout: 120_000 }, async () => {
    expect(existsSync(join(answersDir, `${name}.json`))).toBe(true);
    const d = await diffExample(name);
    expect(
      { added: d.added, removed: d.removed, changed: d.changed },
      `${d.patch}\nRun npm run examples:update`,
    ).toEqual({
      added: [],
      removed: [],
      changed: [],
    });
  });

  // The numbers vary from run to run: the README must carry what was recorded, whatever it says.
  it('shows in its README the cost and profile tables recorded beside its model', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    for (const bench of ['cost', 'profile']) {
      const between = new RegExp(
        `<!-- bench:${bench}:start -->\\n([\\s\\S]*?)\\n<!-- bench:${bench}:end -->`,
      ).exec(readme);
      expect(between, `README.md has the bench:${bench} markers`).not.toBeNull();
      const recorded = join(examplesDir, 'models', name, 'bench', `${bench}.md`);
      if (existsSync(recorded)) expect(between?.[1]).toBe(readFileSync(recorded, 'utf8').trim());
      else expect(between?.[1]).toBe(`Not measured yet: run \`npm run bench:${bench}\`.`);
    }
  });

  it('passes its own test suite', { timeout: 900_000 }, () => {
    install(dir);
    const test = spawnSync('npm', ['test'], { cwd: dir, encoding: 'utf8', env: testEnv() });
    expect(test.status, strip(`${test.stdout}\n${test.stderr}`).slice(-6000)).toBe(0);
    expect(strip(test.stdout)).toMatch(/Tests\s+\d+ passed/);
  });

  it.runIf(name === 'bank-churn')(
    'shows in its README a real session with the closed loop, which a rerun reproduces',
    { timeout: 180_000 },
    () => {
      install(dir);
      const build = spawnSync('npm', ['run', 'build'], {
        cwd: dir,
        encoding: 'utf8',
        env: testEnv(),
      });
      expect(build.status, build.stderr).toBe(0);
      const session = join(examplesDir, 'models', name, 'session');
      const rerun = spawnSync(process.execPath, [join(session, '..', 'session.mjs'), '--check'], {
        encoding: 'utf8',
        env: testEnv(),
      });
      expect(rerun.status, rerun.stderr.slice(-3000)).toBe(0);
      const recorded = readFileSync(join(session, 'session.md'), 'utf8');
      const readme = readFileSync(join(dir, 'README.md'), 'utf8');
      expect(readme).toContain(recorded.replace(/^## /, '### ').trimEnd());
      // Live quality by Geography, every country with enough samples for its metrics.
      for (const country of ['France', 'Germany', 'Spain'])
        expect(recorded).toMatch(
          new RegExp(`\\| Geography = ${country} \\| \\d+ \\| 0\\.\\d{3} \\|`),
        );
    },
  );

  // One example only: the soak is a minute of load even with --quick's shorter durations.
  it.runIf(name === 'bank-churn')(
    'passes its own soak and abuse check (npm run soak -- --quick)',
    { timeout: 180_000 },
    () => {
      install(dir);
      const out = mkdtempSync(join(tmpdir(), 'soak-'));
      try {
        const file = join(out, 'soak.json');
        const run = spawnSync('npm', ['run', 'soak', '--', '--quick', '--json', file], {
          cwd: dir,
          encoding: 'utf8',
          env: testEnv(),
        });
        const output = strip(`${run.stdout}\n${run.stderr}`);
        expect(existsSync(file), output.slice(-6000)).toBe(true);
        const results = JSON.parse(readFileSync(file, 'utf8')) as {
          probes: Array<{ name: string; status: string; measured: string }>;
        };
        // bank-churn has /explain and /predict/batch: only readiness (no outside trigger) skips.
        expect(results.probes.map((p) => p.name)).toEqual([
          'explain-memory',
          'batch-dos',
          'log-completeness',
          'readiness',
          'shutdown-deadline',
          'overload',
          'hostile-inputs',
          'rss-stability',
        ]);
        for (const p of results.probes) {
          const want = p.name === 'readiness' ? 'SKIP' : 'PASS';
          expect(p.status, `${p.name}: ${p.measured}`).toBe(want);
          // The printed table has the same row.
          expect(output).toMatch(new RegExp(`^\\| ${p.name} \\|.*\\| ${want} \\|$`, 'm'));
        }
        expect(run.status, output.slice(-6000)).toBe(0);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );

  it(
    'passes every one of its own pre-commit gates: format, lint, types, secrets, policies',
    { timeout: 600_000 },
    () => {
      const env = { ...process.env, CI: '1', FORCE_COLOR: '0', npm_config_loglevel: 'error' };
      const all = spawnSync('npm', ['run', 'precommit:all'], { cwd: dir, encoding: 'utf8', env });
      expect(all.status, strip(`${all.stdout}\n${all.stderr}`).slice(-6000)).toBe(0);
    },
  );
});
