/**
 * `upgrade` and `diff` on a project generated from the v1 fixture templates, upgraded to the v2
 * fixture templates (generator/__fixtures__/upgrade/README.md lists what changes between them).
 * One scenario of issue 9 per test; no network.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type UpgradeOptions, upgrade, updateReportFile } from './upgrade.js';
import { diffProject } from './diff.js';
import { ExitCode, UserError } from '../errors.js';
import type { AnswersMigration } from '../answers/migrations.js';
import { gitInit } from '../finish/git.js';
import { answersFile, hashTree, manifestFile } from '../record/record.js';
import { baseSnapshotFile, decodeSnapshot, encodeSnapshot } from '../upgrade/snapshot.js';
import { fixturesDir, tempDir } from '../test-support/cli.js';
import { generateProject } from '../test-support/generate.js';
import { packageRoot } from '../version.js';

const tabular = join(fixturesDir, 'tabular.onnx');
const v1 = resolve(packageRoot, 'generator/__fixtures__/upgrade/v1');
const v2 = resolve(packageRoot, 'generator/__fixtures__/upgrade/v2');

async function generate(templatesDir: string): Promise<string> {
  return generateProject({ model: tabular }, { prefix: 'cms-upgrade-', templatesDir });
}

let pristineV1: string;
let freshV2: string;
beforeAll(async () => {
  [pristineV1, freshV2] = await Promise.all([generate(v1), generate(v2)]);
});

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.email=t@localhost', '-c', 'user.name=t', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A copy of the v1 project, committed to its own git repository (unless `git: false`). */
async function project(options: { git?: boolean } = {}): Promise<string> {
  const dir = join(await tempDir('cms-upgrade-'), 'svc');
  await cp(pristineV1, dir, { recursive: true });
  if (options.git !== false) expect(gitInit(dir, 'test')).toBeUndefined();
  return dir;
}

const commit = (dir: string, message = 'user edits') => {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--no-verify', '-m', message);
};
const read = (dir: string, rel: string) => readFile(join(dir, rel), 'utf8');
const exists = (dir: string, rel: string) =>
  readFile(join(dir, rel)).then(
    () => true,
    () => false,
  );
async function edit(dir: string, rel: string, from: string, to: string): Promise<void> {
  const text = await read(dir, rel);
  expect(text, `${rel} holds ${JSON.stringify(from)}`).toContain(from);
  await writeFile(join(dir, rel), text.replace(from, to));
}

function run(dir: string, options: Partial<UpgradeOptions> = {}) {
  return upgrade({
    dir,
    dryRun: false,
    json: true,
    allowDirty: false,
    interactive: false,
    templatesDir: v2,
    ...options,
  });
}

const withoutReport = async (dir: string) => hashTree(dir, new Set([updateReportFile]));

describe('upgrade', () => {
  it('no user edits: the project becomes exactly what v2 would create, and says what changed', async () => {
    const dir = await project();
    const { report } = await run(dir);
    expect(report).toMatchObject({ ok: true, exitCode: 0, upToDate: false, conflicts: [] });
    expect(await withoutReport(dir)).toEqual(await hashTree(freshV2));
    expect(report.files.map((f) => [f.path, f.action, f.from])).toEqual([
      ['CHANGELOG.md', 'created', undefined],
      ['config/settings.yaml', 'updated', undefined],
      ['CONTRIBUTING.md', 'updated', undefined],
      ['docs/guide.md', 'renamed', 'docs/old-guide.md'],
      ['obsolete.txt', 'deleted', undefined],
      ['package.json', 'updated', undefined],
      ['README.md', 'updated', undefined],
      ['src/server.ts', 'updated', undefined],
    ]);
    expect(report.base.sources).toEqual(['snapshot']);
    const onDisk = JSON.parse(await read(dir, updateReportFile));
    expect(onDisk.files).toEqual(report.files);
    expect(await exists(dir, 'docs/old-guide.md')).toBe(false);
  });

  it('a user edit away from the template change is kept, and the change is merged in', async () => {
    const dir = await project();
    await edit(
      dir,
      'README.md',
      'Apply the manifests with kubectl.\n',
      'Apply the manifests with kubectl.\nAsk #ml-platform for registry access.\n',
    );
    await edit(dir, 'config/settings.yaml', 'graceSeconds: 25', 'graceSeconds: 40');
    commit(dir);
    const { report } = await run(dir);
    expect(report.exitCode).toBe(ExitCode.ok);
    const readme = await read(dir, 'README.md');
    expect(readme).toContain('Ask #ml-platform for registry access.');
    expect(readme).toContain('    npm ci\n    npm run dev #');
    const settings = await read(dir, 'config/settings.yaml');
    expect(settings).toContain('logLevel: warn');
    expect(settings).toContain('graceSeconds: 40');
    expect(report.files.find((f) => f.path === 'README.md')).toEqual({
      path: 'README.md',
      action: 'merged',
      method: 'text',
    });
  });

  it('the same lines changed on both sides: markers, listed, exit code 3, and the rest still merged', async () => {
    const dir = await project();
    await edit(dir, 'src/server.ts', 'requestTimeoutMs = 5000;', 'requestTimeoutMs = 2500;');
    commit(dir);
    const { report } = await run(dir);
    expect(report).toMatchObject({
      ok: false,
      exitCode: ExitCode.conflicts,
      conflicts: ['src/server.ts'],
    });
    const server = await read(dir, 'src/server.ts');
    expect(server).toMatch(
      /<<<<<<< yours\nconst requestTimeoutMs = 2500;\n\|{7} create-mlops-service \S+ \(base\)\nconst requestTimeoutMs = 5000;\n=======\nconst requestTimeoutMs = 10000;\n>>>>>>> create-mlops-service \S+\n/,
    );
    expect(report.files.find((f) => f.path === 'src/server.ts')).toMatchObject({
      action: 'merged',
      conflict: { blocks: 1 },
    });
    expect(JSON.parse(await read(dir, updateReportFile)).conflicts).toEqual(['src/server.ts']);
    expect(await read(dir, 'CHANGELOG.md')).toContain('# Changelog');

    // The next upgrade refuses until the markers are gone.
    commit(dir, 'with markers');
    const err = await run(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain(
      'Conflicts from an earlier upgrade are not resolved',
    );
    expect((err as UserError).details).toContain('src/server.ts (conflict markers)');

    // Resolved the user's way, it stays resolved: the base is now v2.
    await writeFile(
      join(dir, 'src/server.ts'),
      server.replace(/<<<<<<< yours\n(.*\n)[\s\S]*?>>>>>>> .*\n/, '$1'),
    );
    commit(dir, 'resolved');
    expect(await read(dir, 'src/server.ts')).toContain('requestTimeoutMs = 2500;');
    const again = await run(dir);
    expect(again.report).toMatchObject({ upToDate: true, exitCode: 0 });
  });

  it('package.json: the user dependency and the template bump are both kept, with no conflict', async () => {
    const dir = await project();
    const pkg = JSON.parse(await read(dir, 'package.json'));
    pkg.dependencies.zx = '8.0.0';
    await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    await writeFile(join(dir, 'package-lock.json'), '{"lockfileVersion": 3}\n');
    commit(dir);
    const { report } = await run(dir);
    expect(report.conflicts).toEqual([]);
    const merged = JSON.parse(await read(dir, 'package.json'));
    expect(merged.dependencies).toEqual({ fastify: '5.0.0', zod: '4.1.0', zx: '8.0.0' });
    expect(merged.scripts.typecheck).toBe('tsc --noEmit');
    expect(report.files.find((f) => f.path === 'package.json')).toEqual({
      path: 'package.json',
      action: 'merged',
      method: 'json',
    });
    // The lockfile is not merged, only reported for npm install.
    expect(await read(dir, 'package-lock.json')).toBe('{"lockfileVersion": 3}\n');
    expect(report.lockfiles).toEqual([
      { path: 'package-lock.json', note: expect.stringContaining('npm install') },
    ]);
  });

  it('template files added, deleted and renamed; an edited renamed file carries its edits', async () => {
    const dir = await project();
    await edit(dir, 'docs/old-guide.md', '2. A 503 means', '2. An HTTP 503 means');
    commit(dir);
    const { report } = await run(dir);
    expect(await exists(dir, 'CHANGELOG.md')).toBe(true);
    expect(await exists(dir, 'obsolete.txt')).toBe(false);
    expect(await exists(dir, 'docs/old-guide.md')).toBe(false);
    const guide = await read(dir, 'docs/guide.md');
    expect(guide).toContain('2. An HTTP 503 means');
    expect(guide).toContain('redeploying the previous image digest');
    expect(report.files.find((f) => f.path === 'docs/guide.md')).toMatchObject({
      action: 'renamed',
      from: 'docs/old-guide.md',
    });
  });

  it('a deleted template file the user edited is kept and reported as pending delete', async () => {
    const dir = await project();
    await writeFile(join(dir, 'obsolete.txt'), 'I still need this.\n');
    commit(dir);
    const { report } = await run(dir);
    expect(await read(dir, 'obsolete.txt')).toBe('I still need this.\n');
    expect(report.files.find((f) => f.path === 'obsolete.txt')?.action).toBe('pending-delete');
    expect(report.nextSteps.join('\n')).toContain('obsolete.txt');
  });

  it('a file the user deleted stays deleted, now and at the next upgrade', async () => {
    const dir = await project();
    await rm(join(dir, 'CONTRIBUTING.md'));
    await rm(join(dir, 'docs/old-guide.md'));
    commit(dir);
    const { report } = await run(dir);
    expect(await exists(dir, 'CONTRIBUTING.md')).toBe(false);
    expect(await exists(dir, 'docs/guide.md')).toBe(false);
    expect(report.files.filter((f) => f.action === 'kept-deleted').map((f) => f.path)).toEqual([
      'CONTRIBUTING.md',
      'docs/guide.md',
    ]);
    commit(dir, 'upgrade');
    const again = await run(dir);
    expect(again.report.upToDate).toBe(true);
    expect(await exists(dir, 'CONTRIBUTING.md')).toBe(false);
  });

  it('a changed answers schema: the recorded answers migrate, a new question takes its default', async () => {
    const dir = await project();
    // Rewrite the records as a (fictional) answers schema v0 had them: `replicas` was one object
    // and there was no costCenter question.
    const toV0 = (a: Record<string, unknown>) => {
      const { minReplicas, maxReplicas, costCenter, ...rest } = a;
      void costCenter;
      return { ...rest, replicas: { min: minReplicas, max: maxReplicas } };
    };
    const record = JSON.parse(await read(dir, answersFile));
    await writeFile(
      join(dir, answersFile),
      `${JSON.stringify({ ...record, schemaVersion: 0, answers: { ...toV0(record.answers), replicas: { min: 3, max: 7 } } }, null, 2)}\n`,
    );
    const manifest = JSON.parse(await read(dir, manifestFile));
    await writeFile(
      join(dir, manifestFile),
      `${JSON.stringify({ ...manifest, answersSchemaVersion: 0, renderedAnswers: toV0(manifest.renderedAnswers) }, null, 2)}\n`,
    );
    commit(dir);
    const migrations: AnswersMigration[] = [
      {
        from: 0,
        to: 1,
        description: 'replicas split into minReplicas and maxReplicas; costCenter asked',
        added: ['costCenter'],
        migrate: (a) => {
          const { replicas, ...rest } = a as { replicas: { min: number; max: number } };
          return { ...rest, minReplicas: replicas.min, maxReplicas: replicas.max };
        },
      },
    ];
    const { report } = await run(dir, { migrations });
    expect(report.answers).toEqual({
      migrations: ['v0 -> v1: replicas split into minReplicas and maxReplicas; costCenter asked'],
      added: { costCenter: 'ml' },
      changed: { minReplicas: { from: 2, to: 3 }, maxReplicas: { from: 10, to: 7 } },
    });
    const written = JSON.parse(await read(dir, answersFile));
    expect(written.schemaVersion).toBe(1);
    expect(written.answers).toMatchObject({ minReplicas: 3, maxReplicas: 7, costCenter: 'ml' });
    expect(written.answers).not.toHaveProperty('replicas');
    expect(JSON.parse(await read(dir, manifestFile))).toMatchObject({
      answersSchemaVersion: 1,
      renderedAnswers: { minReplicas: 3, maxReplicas: 7 },
    });
    // Without the migration the same records are a clear error, not a guess.
    await rm(join(dir, updateReportFile));
    git(dir, 'checkout', '--', '.');
    git(dir, 'clean', '-fdq');
    await expect(run(dir)).rejects.toThrow('no migration from answers schema version 0 to 1');
  });

  it('--dry-run prints the unified diff and changes nothing', async () => {
    const dir = await project();
    await edit(dir, 'src/server.ts', 'requestTimeoutMs = 5000;', 'requestTimeoutMs = 2500;');
    commit(dir);
    const before = await hashTree(dir);
    const { report, diff } = await run(dir, { dryRun: true });
    expect(await hashTree(dir)).toEqual(before);
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(report).toMatchObject({
      dryRun: true,
      exitCode: ExitCode.conflicts,
      conflicts: ['src/server.ts'],
    });
    expect(diff).toContain('--- a/README.md\n+++ b/README.md\n');
    expect(diff).toContain('-    npm install\n');
    expect(diff).toContain('+    npm ci\n');
    expect(diff).toContain('--- /dev/null\n+++ b/CHANGELOG.md\n');
    expect(diff).toContain('--- a/obsolete.txt\n+++ /dev/null\n');
    expect(diff).toContain('+<<<<<<< yours\n');
  });

  it('a dirty tree is refused (nothing written); --allow-dirty goes ahead', async () => {
    const dir = await project();
    await edit(dir, 'README.md', '## Support', '## Help');
    const before = await hashTree(dir);
    const err = await run(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('uncommitted changes');
    expect((err as UserError).details.join('\n')).toContain('README.md');
    expect(await hashTree(dir)).toEqual(before);
    const { report } = await run(dir, { allowDirty: true });
    expect(report.git).toMatch(/^uncommitted changes/);
    expect(await read(dir, 'README.md')).toContain('## Help');
    expect(await read(dir, 'README.md')).toContain('npm ci');
  });

  it('outside git it is refused with the reason; --allow-dirty upgrades in place', async () => {
    const dir = await project({ git: false });
    const err = await run(dir).catch((e: unknown) => e);
    expect((err as UserError).message).toContain(
      'not in a git repository, so an upgrade could not be undone',
    );
    const { report } = await run(dir, { allowDirty: true });
    expect(report.git).toMatch(/^not a git repository/);
    expect(await withoutReport(dir)).toEqual(await hashTree(freshV2));
  });

  it('running upgrade twice: the second run changes nothing', async () => {
    const dir = await project();
    await edit(dir, 'README.md', '## Support', '## Help');
    commit(dir);
    await run(dir);
    commit(dir, 'upgrade');
    const before = await hashTree(dir);
    const { report, diff } = await run(dir);
    expect(report).toMatchObject({ upToDate: true, exitCode: 0, files: [], records: [] });
    expect(diff).toBe('');
    expect(await hashTree(dir)).toEqual(before);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('nothing is written unless everything can be: a blocked path leaves the project as it was', async () => {
    const dir = await project();
    await mkdir(join(dir, 'CHANGELOG.md'));
    await writeFile(join(dir, 'CHANGELOG.md/keep.txt'), 'a directory where v2 puts a file\n');
    commit(dir);
    const before = await hashTree(dir);
    const err = await run(dir).catch((e: unknown) => e);
    expect((err as UserError).message).toContain('nothing was changed');
    expect((err as UserError).details).toEqual(['CHANGELOG.md: a directory is in the way']);
    expect(await hashTree(dir)).toEqual(before);
  });

  it('--to a version that is not available offline is a usage error', async () => {
    const dir = await project();
    const err = await run(dir, { to: '99.0.0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(ExitCode.usage);
    expect((err as UserError).details.join('\n')).toContain(
      'npx create-mlops-service@99.0.0 upgrade',
    );
  });
});

describe('the base', () => {
  const editReadme = async (dir: string) => {
    await edit(dir, 'README.md', '## Support', '## Help');
  };

  it('without the snapshot it is re-rendered from the recorded answers (verified by hash)', async () => {
    const dir = await project();
    await editReadme(dir);
    await rm(join(dir, baseSnapshotFile));
    commit(dir);
    const { report } = await run(dir, { baseTemplatesDir: v1 });
    expect(report.base.sources).toEqual(['re-render']);
    expect(report.base.missing).toEqual([]);
    expect(report.conflicts).toEqual([]);
    expect(await read(dir, 'README.md')).toMatch(/npm ci[\s\S]*## Help/);
  });

  it('a tampered snapshot entry is not trusted; --base <dir> supplies a pristine render', async () => {
    const dir = await project();
    await editReadme(dir);
    const snapshot = decodeSnapshot(await readFile(join(dir, baseSnapshotFile)));
    const files = new Map(snapshot.files);
    files.set('README.md', Buffer.from('# not what v1 rendered\n'));
    await writeFile(join(dir, baseSnapshotFile), encodeSnapshot({ ...snapshot, files }));
    commit(dir);
    const untrusted = await run(dir, { dryRun: true });
    expect(untrusted.report.base.missing).toEqual(['README.md']);
    expect(untrusted.report.conflicts).toEqual(['README.md']);
    const { report } = await run(dir, { baseDir: pristineV1, dryRun: true });
    expect(report.base.sources).toContain('base-dir');
    expect(report.base.missing).toEqual([]);
    expect(report.conflicts).toEqual([]);
  });

  it('with no base at all, unedited files still upgrade and edited ones conflict only where they differ', async () => {
    const dir = await project();
    await editReadme(dir);
    await rm(join(dir, baseSnapshotFile));
    commit(dir);
    // The recorded version is this generator's own, so its bundled templates are tried: they are
    // not the fixture's, the hashes say so, and nothing unverified is used.
    const { report } = await run(dir);
    expect(report.base.sources).not.toContain('snapshot');
    expect(report.base.missing).toEqual(['README.md']);
    expect(report.conflicts).toEqual(['README.md']);
    expect(report.files.find((f) => f.path === 'README.md')?.conflict).toEqual({
      blocks: 2,
      noBase: true,
    });
    expect(await read(dir, 'src/server.ts')).toContain('requestTimeoutMs = 10000;');
  });
});

describe('diff', () => {
  it('shows the user edits and deletions against the pristine render', async () => {
    const dir = await project();
    await editReadme(dir);
    await rm(join(dir, 'CONTRIBUTING.md'));
    const result = await diffProject({ dir });
    expect(result.files).toEqual([
      { path: 'CONTRIBUTING.md', status: 'deleted' },
      { path: 'README.md', status: 'modified' },
    ]);
    expect(result.diff).toContain('--- a/README.md\n+++ b/README.md\n');
    expect(result.diff).toContain('-## Support\n+## Help\n');
    expect(result.diff).toContain('--- a/CONTRIBUTING.md\n+++ /dev/null\n');
    expect((await diffProject({ dir, paths: ['README.md'] })).files).toHaveLength(1);
    expect((await diffProject({ dir: await project() })).diff).toBe('');
  });

  async function editReadme(dir: string) {
    await edit(dir, 'README.md', '## Support', '## Help');
  }
});
