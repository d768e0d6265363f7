/**
 * The examples are generated projects and are tested like any user's: each is exactly what the
 * generator renders from its answers file, and each passes its own test suite.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answersDir, diffExample, examplesDir } from './sync.js';

const names = ['bank-churn', 'nlp-insight', 'chicago-taxi'];
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

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

  it('passes its own test suite', { timeout: 900_000 }, () => {
    const env = { ...process.env, CI: '1', FORCE_COLOR: '0', npm_config_loglevel: 'error' };
    // Installed from its committed lockfile, once; `npm ci` again only when the lockfile changed.
    const stamp = join(dir, 'node_modules/.package-lock.json');
    const lock = join(dir, 'package-lock.json');
    if (!existsSync(stamp) || statSync(stamp).mtimeMs < statSync(lock).mtimeMs) {
      const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
        cwd: dir,
        encoding: 'utf8',
        env,
      });
      expect(install.status, install.stderr).toBe(0);
    }
    const test = spawnSync('npm', ['test'], { cwd: dir, encoding: 'utf8', env });
    expect(test.status, strip(`${test.stdout}\n${test.stderr}`).slice(-6000)).toBe(0);
    expect(strip(test.stdout)).toMatch(/Tests\s+\d+ passed/);
  });

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
