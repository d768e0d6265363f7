/**
 * `upgrade` and `diff` end to end with the built CLI, in a project the CLI created from the real
 * templates. The "new version" is a copy of the real templates with changes, passed with the
 * hidden `--templates` option (template development and tests).
 */
import { spawnSync } from 'node:child_process';
import { appendFile, cp, readFile, rm, writeFile } from 'node:fs/promises';
import * as prettier from 'prettier';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../errors.js';
import { fixturesDir, runCli, tempDir } from '../test-support/cli.js';
import { templatesDir } from '../version.js';

const tabular = join(fixturesDir, 'tabular.onnx');

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.email=t@localhost', '-c', 'user.name=t', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const commitAll = (dir: string, message: string) => {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--no-verify', '-m', message);
};

describe('create-mlops-service upgrade (built CLI)', () => {
  it('--help lists upgrade and diff; upgrade --help documents its options', async () => {
    const top = await runCli(['--help']);
    expect(top.stdout).toMatch(/upgrade \[options\] \[dir\]/);
    expect(top.stdout).toMatch(/diff \[options\] \[paths\.\.\.\]/);
    const help = await runCli(['upgrade', '--help']);
    for (const flag of ['--to', '--dry-run', '--json', '--allow-dirty', '--base', '--model']) {
      expect(help.stdout).toContain(flag);
    }
    expect(help.stdout).not.toContain('--templates');
    expect(help.stdout).toMatch(/--dry-run[\s\S]*exit 3 if it would conflict/);
  });

  it('merges a newer template tree into an edited project, reports, and is a no-op the second time', async () => {
    const cwd = await tempDir('cms-upgrade-cli-');
    const created = await runCli(['svc', '--yes', '--model', tabular, '--no-install', '--json'], {
      cwd,
    });
    expect(created.code, created.stderr).toBe(0);
    const dir = join(cwd, 'svc');
    expect(JSON.parse(created.stdout).git).toEqual({ done: true });

    // The next template version: a line appended to the README, a new file.
    const next = join(await tempDir('cms-templates-'), 'templates');
    await cp(templatesDir, next, { recursive: true });
    await appendFile(join(next, 'README.md.hbs'), '\nSee UPGRADING.md after each upgrade.\n');
    await writeFile(
      join(next, 'UPGRADING.md'),
      '# Upgrading\n\nRead .mlops-service/UPDATE_REPORT.json.\n',
    );

    // The user's edits: a note at the top of the README, a dependency.
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    await writeFile(join(dir, 'README.md'), `> Internal: owned by the risk team.\n\n${readme}`);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    pkg.dependencies = { ...pkg.dependencies, 'left-pad': '1.3.0' };
    await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);

    // Uncommitted: refused, exit 1, nothing written.
    const dirty = await runCli(['upgrade', '--templates', next], { cwd: dir });
    expect(dirty.code).toBe(ExitCode.failure);
    expect(dirty.stderr).toContain('uncommitted changes');
    commitAll(dir, 'my edits');

    // Dry run: the diff on stdout, nothing written.
    const dry = await runCli(['upgrade', '--templates', next, '--dry-run'], { cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('+See UPGRADING.md after each upgrade.\n');
    expect(dry.stdout).toContain('--- /dev/null\n+++ b/UPGRADING.md\n');
    expect(git(dir, 'status', '--porcelain')).toBe('');

    const up = await runCli(['upgrade', '--templates', next, '--json'], { cwd: dir });
    expect(up.code, up.stderr).toBe(0);
    const report = JSON.parse(up.stdout);
    expect(report).toMatchObject({
      ok: true,
      exitCode: 0,
      conflicts: [],
      base: { sources: ['snapshot'] },
    });
    expect(report.files.map((f: { path: string; action: string }) => [f.path, f.action])).toEqual([
      ['README.md', 'merged'],
      ['UPGRADING.md', 'created'],
    ]);
    const merged = await readFile(join(dir, 'README.md'), 'utf8');
    expect(merged.startsWith('> Internal: owned by the risk team.\n')).toBe(true);
    expect(merged.endsWith('See UPGRADING.md after each upgrade.\n')).toBe(true);
    expect(
      JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).dependencies['left-pad'],
    ).toBe('1.3.0');
    expect(
      JSON.parse(await readFile(join(dir, '.mlops-service/UPDATE_REPORT.json'), 'utf8')),
    ).toEqual(report);
    commitAll(dir, 'upgrade');

    const again = await runCli(['upgrade', '--templates', next, '--json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ upToDate: true, files: [], records: [] });
    expect(git(dir, 'status', '--porcelain')).toBe('');

    // diff: the user's edits against the last render.
    const diff = await runCli(['diff'], { cwd: dir });
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain('+> Internal: owned by the risk team.\n');
    expect(diff.stdout).toContain('+    "left-pad": "1.3.0"');
    const listed = await runCli(['diff', '--json', 'package.json'], { cwd: dir });
    expect(JSON.parse(listed.stdout).files).toEqual([{ path: 'package.json', status: 'modified' }]);

    // Both sides change the same line: markers, the file listed, exit code 3.
    await writeFile(
      join(next, 'UPGRADING.md'),
      '# Upgrading (template)\n\nRead .mlops-service/UPDATE_REPORT.json.\n',
    );
    await writeFile(
      join(dir, 'UPGRADING.md'),
      '# Upgrading (ours)\n\nRead .mlops-service/UPDATE_REPORT.json.\n',
    );
    commitAll(dir, 'retitle');
    const conflicted = await runCli(['upgrade', '--templates', next], { cwd: dir });
    expect(conflicted.code, conflicted.stderr).toBe(ExitCode.conflicts);
    expect(conflicted.stderr).toContain('CONFLICT');
    expect(conflicted.stderr).toContain('UPGRADING.md');
    expect(await readFile(join(dir, 'UPGRADING.md'), 'utf8')).toMatch(
      /^<<<<<<< yours\n# Upgrading \(ours\)\n/,
    );

    // --to another version: usage error, exit 2.
    const to = await runCli(['upgrade', '--to', '9.9.9', '--allow-dirty'], { cwd: dir });
    expect(to.code).toBe(ExitCode.usage);
    expect(to.stderr).toContain('not available offline');
  });

  /** A project the CLI made (committed by it), and a copy of the real templates to change. */
  async function created(...flags: string[]): Promise<{ dir: string; next: string }> {
    const cwd = await tempDir('cms-upgrade-cli-');
    const made = await runCli(
      ['svc', '--yes', '--model', tabular, '--no-install', '--json', ...flags],
      { cwd },
    );
    expect(made.code, made.stderr).toBe(0);
    const next = join(await tempDir('cms-templates-'), 'templates');
    await cp(templatesDir, next, { recursive: true });
    return { dir: join(cwd, 'svc'), next };
  }
  const edit = async (file: string, from: string, to: string) => {
    const text = await readFile(file, 'utf8');
    expect(text).toContain(from);
    await writeFile(file, text.replace(from, to));
  };
  const files = (report: { files: Array<{ path: string; action: string }> }) =>
    report.files.map((f) => [f.path, f.action]);

  it('a Windows checkout (core.autocrlf=true) upgrades cleanly and stays CRLF', async () => {
    const { dir, next } = await created();
    git(dir, 'config', 'core.autocrlf', 'true');
    for (const path of git(dir, 'ls-files', '-z').split('\0').filter(Boolean))
      await rm(join(dir, path));
    git(dir, 'checkout', '--', '.');
    expect(await readFile(join(dir, 'package.json'), 'utf8')).toContain('\r\n');
    await appendFile(join(next, 'README.md.hbs'), '\nSee UPGRADING.md after each upgrade.\n');
    await writeFile(join(next, 'UPGRADING.md'), '# Upgrading\n\nRead the report.\n');
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    await writeFile(join(dir, 'README.md'), `> Internal: owned by the risk team.\r\n\r\n${readme}`);
    commitAll(dir, 'my edit');

    const up = await runCli(['upgrade', '--templates', next, '--json'], { cwd: dir });
    expect(up.code, up.stderr).toBe(0);
    const report = JSON.parse(up.stdout);
    expect(report).toMatchObject({ ok: true, conflicts: [], base: { missing: [] } });
    expect(files(report)).toEqual([
      ['README.md', 'merged'],
      ['UPGRADING.md', 'created'],
    ]);
    const mixed: string[] = [];
    for (const path of git(dir, 'ls-files', '-z', '--cached', '--others').split('\0')) {
      if (!path || path.endsWith('.onnx') || path.endsWith('.gz')) continue;
      const text = await readFile(join(dir, path), 'utf8');
      if (/(^|[^\r])\n/.test(text)) mixed.push(path);
    }
    expect(mixed).toEqual([]);
    const merged = await readFile(join(dir, 'README.md'), 'utf8');
    expect(merged.startsWith('> Internal: owned by the risk team.\r\n')).toBe(true);
    expect(merged.endsWith('See UPGRADING.md after each upgrade.\r\n')).toBe(true);
    commitAll(dir, 'upgrade');
    const again = await runCli(['upgrade', '--templates', next, '--json'], { cwd: dir });
    expect(JSON.parse(again.stdout)).toMatchObject({ upToDate: true, files: [] });
    const diff = await runCli(['diff', '--json'], { cwd: dir });
    expect(JSON.parse(diff.stdout).files).toEqual([{ path: 'README.md', status: 'modified' }]);
  });

  it('switching clouds aws -> gcp: the edited AWS workflow stays (pending delete), the GCP one is the template', async () => {
    const { dir } = await created(
      '--cloud',
      'aws',
      '--aws-account-id',
      '123456789012',
      '--github-repo',
      'acme/svc',
    );
    const aws = join(dir, '.github/workflows/deploy-aws.yml');
    const original = await readFile(aws, 'utf8');
    await writeFile(aws, `${original}# Ours: the AWS-only smoke step is run by ops.\n`);
    const answers = join(dir, '.mlops-service/answers.json');
    const record = JSON.parse(await readFile(answers, 'utf8'));
    delete record.answers.awsAccountId;
    record.answers = { ...record.answers, cloud: 'gcp', gcpProject: 'acme-ml-prod' };
    await writeFile(answers, `${JSON.stringify(record, null, 2)}\n`);
    commitAll(dir, 'to gcp');

    const up = await runCli(['upgrade', '--json'], { cwd: dir });
    expect(up.code, up.stderr).toBe(0);
    const report = JSON.parse(up.stdout);
    expect(report.conflicts).toEqual([]);
    expect(report.files.filter((f: { action: string }) => f.action === 'renamed')).toEqual([]);
    const workflows = report.files.filter((f: { path: string }) =>
      /deploy-(aws|gcp)\.yml$/.test(f.path),
    );
    expect(files({ files: workflows })).toEqual([
      ['.github/workflows/deploy-aws.yml', 'pending-delete'],
      ['.github/workflows/deploy-gcp.yml', 'created'],
    ]);
    expect(await readFile(aws, 'utf8')).toContain('# Ours: the AWS-only smoke step');
    expect(await readFile(join(dir, '.github/workflows/deploy-gcp.yml'), 'utf8')).toBe(
      await readFile(join(templatesDir, '_github/workflows/[cloud-gcp]/deploy-gcp.yml'), 'utf8'),
    );
  });

  it('dependencies npm install sorted stay sorted, and the merged JSON passes the project prettier', async () => {
    const { dir, next } = await created();
    // The next template version bumps vitest and prettier, and adds a type to tsconfig's inline array.
    await edit(join(next, 'package.json.hbs'), '"vitest": "4.1.12"', '"vitest": "4.1.13"');
    await edit(join(next, 'package.json.hbs'), '"prettier": "3.10.1"', '"prettier": "3.10.2"');
    await edit(join(next, 'tsconfig.json'), '"types": ["node"]', '"types": ["node", "vitest"]');
    // The user: `npm install -D vitest@4.1.13` (npm sorts devDependencies), one tsconfig option.
    const pkgFile = join(dir, 'package.json');
    const pkg = JSON.parse(await readFile(pkgFile, 'utf8'));
    const dev = { ...pkg.devDependencies, vitest: '4.1.13' };
    pkg.devDependencies = Object.fromEntries(
      Object.keys(dev)
        .sort()
        .map((k) => [k, dev[k]]),
    );
    await writeFile(pkgFile, `${JSON.stringify(pkg, null, 2)}\n`);
    await edit(
      join(dir, 'tsconfig.json'),
      '"rootDir": "."',
      '"rootDir": ".",\n    "sourceMap": true',
    );
    commitAll(dir, 'npm install -D vitest@4.1.13');

    const up = await runCli(['upgrade', '--templates', next, '--json'], { cwd: dir });
    expect(up.code, up.stderr).toBe(0);
    const report = JSON.parse(up.stdout);
    expect(report.conflicts).toEqual([]);
    expect(files(report)).toEqual([
      ['package.json', 'merged'],
      ['tsconfig.json', 'merged'],
    ]);
    const merged = JSON.parse(await readFile(pkgFile, 'utf8'));
    expect(Object.keys(merged.devDependencies)).toEqual(Object.keys(pkg.devDependencies));
    expect(merged.devDependencies).toMatchObject({ vitest: '4.1.13', prettier: '3.10.2' });
    const tsconfig = await readFile(join(dir, 'tsconfig.json'), 'utf8');
    expect(tsconfig).toContain('"types": ["node", "vitest"],');
    expect(tsconfig).toContain('"sourceMap": true');
    for (const file of [pkgFile, join(dir, 'tsconfig.json')]) {
      const options = await prettier.resolveConfig(file);
      expect(
        await prettier.check(await readFile(file, 'utf8'), { ...options, filepath: file }),
        `${file} is formatted as the project's prettier wants`,
      ).toBe(true);
    }
  });
});
