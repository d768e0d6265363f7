/**
 * End to end, as a user: the built CLI generates a project, installs it, and the project's own
 * test suite passes. Slow (a real npm install), so it runs once, with the default answers.
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './test-support/cli.js';

describe('a generated project', () => {
  it('installs with npm and passes its own npm test', { timeout: 600_000 }, async () => {
    const cwd = await tempDir('cms-e2e-');
    const created = await runCli(['churn-api', '--yes', '--json'], { cwd });
    expect(created.code, created.stderr).toBe(0);
    const report = JSON.parse(created.stdout);
    expect(report.install, report.install.skipped).toEqual({ done: true });
    expect(report.git).toEqual({ done: true });
    const dir = join(cwd, 'churn-api');
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).name).toBe('churn-api');

    const test = spawnSync('npm', ['test'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CI: '1', FORCE_COLOR: '0' },
    });
    expect(test.status, `${test.stdout}\n${test.stderr}`).toBe(0);
    expect(test.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/Tests\s+\d+ passed/);
    // The project's tests are its own: nothing about the generator leaks into it.
    const git = spawnSync('git', ['ls-files'], { cwd: dir, encoding: 'utf8' });
    expect(git.stdout).not.toMatch(/__fixtures__|test-support|create\.test|e2e\.test/);
  });
});
