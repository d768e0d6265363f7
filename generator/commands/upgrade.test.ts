/**
 * `upgrade` and `diff` on a project generated from the v1 fixture templates, upgraded to the v2
 * fixture templates (generator/__fixtures__/upgrade/README.md lists what changes between them).
 * One scenario of issue 9 per test; no network.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as prettier from 'prettier';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type UpgradeOptions, upgrade, updateReportFile } from './upgrade.js';
import { diffProject } from './diff.js';
import { ExitCode, UsageError, UserError } from '../errors.js';
import type { AnswersMigration } from '../answers/migrations.js';
import { gitInit } from '../finish/git.js';
import { answersFile, hashTree, manifestFile, sha256 } from '../record/record.js';
import { readTree } from '../upgrade/files.js';
import { baseSnapshotFile, decodeSnapshot, encodeSnapshot, isText } from '../upgrade/snapshot.js';
import { fixturesDir, tempDir } from '../test-support/cli.js';
import { generateProject } from '../test-support/generate.js';
import { largeModel } from '../test-support/large-model.js';
import { packageRoot } from '../version.js';

const tabular = join(fixturesDir, 'tabular.onnx');
const MB = 1_000_000;
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

/** A model folder: tabular.onnx with a sidecar naming `artifacts`, which hold small JSON/text. */
async function modelDir(sidecar: {
  version: string;
  artifacts: Record<string, string>;
}): Promise<string> {
  const dir = join(await tempDir('cms-model-'), 'model');
  await mkdir(dir);
  await cp(tabular, join(dir, 'model.onnx'));
  const base = JSON.parse(await readFile(join(fixturesDir, 'tabular.schema.json'), 'utf8'));
  await writeFile(join(dir, 'model.schema.json'), JSON.stringify({ ...base, ...sidecar }, null, 2));
  for (const name of Object.values(sidecar.artifacts))
    await writeFile(join(dir, name), name.endsWith('.md') ? '# Model card\n' : '[]\n');
  return dir;
}

const once = <T>(make: () => Promise<T>) => {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
};
/** v1 projects for the cloud and model scenarios, made once. */
const pristineAws = once(() =>
  generateProject(
    { model: tabular, cloud: 'aws', awsAccountId: '123456789012', githubRepo: 'acme/svc' },
    { prefix: 'cms-upgrade-aws-', templatesDir: v1 },
  ),
);
const pristineWithArtifacts = once(async () => {
  const model = await modelDir({
    version: '1.0.0',
    artifacts: { modelCard: 'MODEL_CARD.md', metrics: 'metrics.json', lineage: 'lineage.json' },
  });
  return generateProject(
    { model: join(model, 'model.onnx') },
    { prefix: 'cms-upgrade-model-', templatesDir: v1 },
  );
});

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.email=t@localhost', '-c', 'user.name=t', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * How the project is checked out: as generated (LF), or as Windows users with
 * `core.autocrlf=true` get it (every text file CRLF). Every scenario runs on both.
 */
type Checkout = 'lf' | 'crlf';
let checkout: Checkout = 'lf';
const crlf = (text: string) => text.replace(/\r?\n/g, '\r\n');
const lf = (text: string) => text.replace(/\r\n/g, '\n');

/** Rewrites every text file of `dir` with CRLF line endings, as a Windows checkout has them. */
async function toCrlf(dir: string): Promise<void> {
  if (spawnSync('git', ['rev-parse'], { cwd: dir }).status === 0) {
    git(dir, 'config', 'core.autocrlf', 'true');
    for (const path of git(dir, 'ls-files', '-z').split('\0').filter(Boolean))
      await rm(join(dir, path));
    git(dir, 'checkout', '--', '.');
    return;
  }
  for (const [path, state] of await readTree(dir)) {
    if (isText(state.content)) await writeFile(join(dir, path), crlf(state.content.toString()));
  }
}

/** A copy of `from` (the v1 project), committed to its own git repository (unless `git: false`). */
async function project(options: { git?: boolean; from?: string } = {}): Promise<string> {
  const dir = join(await tempDir('cms-upgrade-'), 'svc');
  await cp(options.from ?? pristineV1, dir, { recursive: true });
  if (options.git !== false) expect(gitInit(dir, 'test')).toBeUndefined();
  if (checkout === 'crlf') {
    await toCrlf(dir);
    expect(await readFile(join(dir, 'README.md'), 'utf8')).toContain('\r\n');
  }
  return dir;
}

const commit = (dir: string, message = 'user edits') => {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--no-verify', '-m', message);
};
/** A text file, with `\n` line endings; on a CRLF checkout it must be CRLF throughout. */
async function read(dir: string, rel: string): Promise<string> {
  const text = await readFile(join(dir, rel), 'utf8');
  if (checkout === 'crlf' && text.includes('\n'))
    expect(/(^|[^\r])\n/.test(text), `${rel} has mixed line endings`).toBe(false);
  return lf(text);
}
/** Writes a text file the way the checkout's editor would (CRLF on a CRLF checkout). */
const write = (dir: string, rel: string, text: string) =>
  writeFile(join(dir, rel), checkout === 'crlf' ? crlf(text) : text);
const exists = (dir: string, rel: string) =>
  readFile(join(dir, rel)).then(
    () => true,
    () => false,
  );
async function edit(dir: string, rel: string, from: string, to: string): Promise<void> {
  const text = await read(dir, rel);
  expect(text, `${rel} holds ${JSON.stringify(from)}`).toContain(from);
  await write(dir, rel, text.replace(from, to));
}

/** Every text file of the project is in one line ending, the checkout's where git decides. */
async function expectLineEndings(dir: string): Promise<void> {
  if (checkout !== 'crlf') return;
  const mixed: string[] = [];
  for (const [path, state] of await readTree(dir)) {
    const text = state.content.toString('utf8');
    if (!isText(state.content) || !text.includes('\n')) continue;
    if (/(^|[^\r])\n/.test(text)) mixed.push(path);
  }
  expect(mixed, 'files not in CRLF').toEqual([]);
}

async function run(dir: string, options: Partial<UpgradeOptions> = {}) {
  const result = await upgrade({
    dir,
    dryRun: false,
    json: true,
    allowDirty: false,
    interactive: false,
    templatesDir: v2,
    ...options,
  });
  if (spawnSync('git', ['rev-parse'], { cwd: dir }).status === 0) await expectLineEndings(dir);
  return result;
}

/** The tree's hashes with `\n` line endings (so a CRLF checkout compares with a fresh render). */
async function lfTree(dir: string, skip: ReadonlySet<string> = new Set()) {
  const out: Record<string, string> = {};
  for (const [path, state] of await readTree(dir)) {
    if (!skip.has(path))
      out[path] = sha256(isText(state.content) ? lf(state.content.toString()) : state.content);
  }
  return out;
}
const withoutReport = async (dir: string) => lfTree(dir, new Set([updateReportFile]));

describe.each(['lf', 'crlf'] as const)('on a %s checkout', (kind) => {
  beforeAll(() => {
    checkout = kind;
  });

  describe('upgrade', () => {
    it('no user edits: the project becomes exactly what v2 would create, and says what changed', async () => {
      const dir = await project();
      const { report } = await run(dir);
      expect(report).toMatchObject({ ok: true, exitCode: 0, upToDate: false, conflicts: [] });
      expect(await withoutReport(dir)).toEqual(await lfTree(freshV2));
      expect(report.files.map((f) => [f.path, f.action, f.from])).toEqual([
        ['CHANGELOG.md', 'created', undefined],
        ['config/settings.yaml', 'updated', undefined],
        ['CONTRIBUTING.md', 'updated', undefined],
        ['docs/guide.md', 'renamed', 'docs/old-guide.md'],
        ['obsolete.txt', 'deleted', undefined],
        ['package.json', 'updated', undefined],
        ['README.md', 'updated', undefined],
        ['scripts/release.sh', 'updated', undefined],
        ['src/server.ts', 'updated', undefined],
        ['tsconfig.json', 'updated', undefined],
      ]);
      expect(report.base.sources).toEqual(['snapshot']);
      const onDisk = JSON.parse(await read(dir, updateReportFile));
      expect(onDisk.files).toEqual(report.files);
      expect(await exists(dir, 'docs/old-guide.md')).toBe(false);
      // v2 made the script executable (same content): the mode reaches the project.
      expect(report.files.find((f) => f.path === 'scripts/release.sh')?.note).toMatch(
        /^mode \d{3} -> \d{3}$/,
      );
      expect((await stat(join(dir, 'scripts/release.sh'))).mode & 0o100).toBe(0o100);
      expect(report.nextSteps.join('\n')).not.toContain('.mlops-new');
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
      await write(
        dir,
        'src/server.ts',
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
      await write(dir, 'package.json', `${JSON.stringify(pkg, null, 2)}\n`);
      await write(dir, 'package-lock.json', '{"lockfileVersion": 3}\n');
      commit(dir);
      const { report } = await run(dir);
      expect(report.conflicts).toEqual([]);
      const merged = JSON.parse(await read(dir, 'package.json'));
      expect(merged.dependencies).toEqual({
        zod: '4.1.0',
        fastify: '5.0.0',
        pino: '9.6.0',
        piscina: '5.1.0',
        zx: '8.0.0',
      });
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
      await write(dir, 'obsolete.txt', 'I still need this.\n');
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
      await write(
        dir,
        answersFile,
        `${JSON.stringify({ ...record, schemaVersion: 0, answers: { ...toV0(record.answers), replicas: { min: 3, max: 7 } } }, null, 2)}\n`,
      );
      const manifest = JSON.parse(await read(dir, manifestFile));
      await write(
        dir,
        manifestFile,
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
      const { report, diff: raw } = await run(dir, { dryRun: true });
      const diff = lf(raw);
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
      expect(await withoutReport(dir)).toEqual(await lfTree(freshV2));
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

    it('a JSON conflict stays on its key: the rest of the file merges, the report names that key', async () => {
      const dir = await project();
      await edit(dir, 'package.json', '"pino": "9.0.0"', '"pino": "9.5.0"');
      commit(dir);
      const { report } = await run(dir);
      expect(report).toMatchObject({ exitCode: ExitCode.conflicts, conflicts: ['package.json'] });
      expect(report.files.find((f) => f.path === 'package.json')).toEqual({
        path: 'package.json',
        action: 'merged',
        method: 'json',
        conflict: { blocks: 1, keys: ['dependencies.pino'] },
      });
      const pkg = await read(dir, 'package.json');
      expect(pkg).toContain(
        [
          '    "fastify": "5.0.0",',
          '<<<<<<< yours',
          '    "pino": "9.5.0",',
          '||||||| create-mlops-service 0.1.0 (base)',
          '    "pino": "9.0.0",',
          '=======',
          '    "pino": "9.6.0",',
          '>>>>>>> create-mlops-service 0.1.0',
          '    "piscina": "5.1.0"',
        ].join('\n'),
      );
      expect(pkg).toContain('"zod": "4.1.0"');
      expect(pkg).toContain('"typecheck": "tsc --noEmit"');
      expect(report.nextSteps[0]).toBe(
        'Resolve the conflicts in package.json (search for <<<<<<<)',
      );
    });

    it('dependencies npm install sorted stay in the user order when the template bumps them', async () => {
      const dir = await project();
      // `npm install zod@4.1.0`: the template's own bump, and npm sorts the dependencies.
      await edit(
        dir,
        'package.json',
        '"zod": "4.0.0",\n    "fastify": "5.0.0",\n    "pino": "9.0.0",\n    "piscina": "5.0.0"',
        '"fastify": "5.0.0",\n    "pino": "9.0.0",\n    "piscina": "5.0.0",\n    "zod": "4.1.0"',
      );
      commit(dir);
      const { report } = await run(dir);
      expect(report.conflicts).toEqual([]);
      const pkg = await read(dir, 'package.json');
      expect(pkg).toContain(
        '"dependencies": {\n    "fastify": "5.0.0",\n    "pino": "9.6.0",\n    "piscina": "5.1.0",\n    "zod": "4.1.0"\n  },',
      );
      expect(pkg).toContain('"test": "vitest run",\n    "typecheck": "tsc --noEmit"\n');
    });

    it('a clean JSON merge writes through the project layout: inline arrays stay, prettier --check passes', async () => {
      const dir = await project();
      await edit(dir, 'tsconfig.json', '"strict": true', '"strict": true,\n    "noEmit": true');
      commit(dir);
      const { report } = await run(dir);
      expect(report.files.find((f) => f.path === 'tsconfig.json')).toEqual({
        path: 'tsconfig.json',
        action: 'merged',
        method: 'json',
      });
      const tsconfig = await read(dir, 'tsconfig.json');
      expect(tsconfig).toBe(
        [
          '{',
          '  "compilerOptions": {',
          '    "target": "ES2022",',
          '    "lib": ["ES2022"],',
          '    "strict": true,',
          '    "noUncheckedIndexedAccess": true,',
          '    "noEmit": true',
          '  },',
          '  "include": ["src/**/*.ts", "test/**/*.ts"],',
          '  "exclude": ["node_modules", "dist"]',
          '}',
          '',
        ].join('\n'),
      );
      expect(await prettier.check(tsconfig, { parser: 'json' })).toBe(true);
      expect(await prettier.check(await read(dir, 'package.json'), { parser: 'json' })).toBe(true);
    });

    it('switching clouds is no rename: the edited AWS workflow is kept and reported, the GCP one is the template', async () => {
      const dir = await project({ from: await pristineAws() });
      const aws = '.github/workflows/deploy-aws.yml';
      const gcp = '.github/workflows/deploy-gcp.yml';
      await edit(
        dir,
        aws,
        '      - run: npm test\n',
        '      - run: npm test\n      - run: ./aws-only-smoke.sh\n',
      );
      const record = JSON.parse(await read(dir, answersFile));
      record.answers = { ...record.answers, cloud: 'gcp', gcpProject: 'acme-ml-prod' };
      delete record.answers.awsAccountId;
      await write(dir, answersFile, `${JSON.stringify(record, null, 2)}\n`);
      commit(dir);
      const { report } = await run(dir);
      expect(report).toMatchObject({ ok: true, exitCode: 0 });
      expect(report.answers.changed).toMatchObject({ cloud: { from: 'aws', to: 'gcp' } });
      expect(report.files.filter((f) => f.path.includes('deploy-'))).toEqual([
        {
          path: aws,
          action: 'pending-delete',
          note: expect.stringMatching(
            /^no longer rendered since the answers changed \(.*cloud: "aws" -> "gcp"/,
          ),
        },
        { path: gcp, action: 'created' },
      ]);
      expect(await read(dir, aws)).toContain('./aws-only-smoke.sh');
      const deployGcp = await read(dir, gcp);
      expect(deployGcp).not.toContain('aws-only-smoke');
      expect(deployGcp).toContain('./scripts/deploy.sh gcp');
      // The template's own move is still one, answers changed or not.
      expect(report.files.find((f) => f.path === 'docs/guide.md')).toMatchObject({
        action: 'renamed',
        from: 'docs/old-guide.md',
      });
      expect(report.nextSteps.join('\n')).toContain(aws);
    });

    it('switching clouds with an untouched workflow deletes the old cloud one and says why', async () => {
      const dir = await project({ from: await pristineAws() });
      const record = JSON.parse(await read(dir, answersFile));
      record.answers = { ...record.answers, cloud: 'gcp', gcpProject: 'acme-ml-prod' };
      delete record.answers.awsAccountId;
      await write(dir, answersFile, `${JSON.stringify(record, null, 2)}\n`);
      commit(dir);
      const { report } = await run(dir);
      expect(report.files.filter((f) => f.path.includes('deploy-'))).toEqual([
        {
          path: '.github/workflows/deploy-aws.yml',
          action: 'deleted',
          note: expect.stringContaining('cloud: "aws" -> "gcp"'),
        },
        { path: '.github/workflows/deploy-gcp.yml', action: 'created' },
      ]);
      expect(await exists(dir, '.github/workflows/deploy-aws.yml')).toBe(false);
    });

    it('a cloud project recorded before githubRepo existed takes it from its origin remote, and without one the error names the answer', async () => {
      const dir = await project({ from: await pristineAws() });
      const record = JSON.parse(await read(dir, answersFile));
      delete record.answers.githubRepo;
      await write(dir, answersFile, `${JSON.stringify(record, null, 2)}\n`);
      commit(dir);
      const refused = await run(dir).then(
        () => undefined,
        (e: unknown) => e as UserError,
      );
      expect(refused?.details.join('\n')).toMatch(/githubRepo.*is required when cloud is "aws"/);
      expect(git(dir, 'status', '--porcelain')).toBe('');

      git(dir, 'remote', 'add', 'origin', 'git@github.com:acme-ml/churn-api.git');
      const { report } = await run(dir);
      expect(report).toMatchObject({ ok: true });
      expect(report.answers.added).toEqual({ githubRepo: 'acme-ml/churn-api' });
      expect(JSON.parse(await read(dir, answersFile)).answers.githubRepo).toBe('acme-ml/churn-api');
    });

    it('a new model copied into model/ by hand: upgrade keeps the old model artifacts', async () => {
      const dir = await project({ from: await pristineWithArtifacts() });
      const artifacts = ['model/MODEL_CARD.md', 'model/lineage.json', 'model/metrics.json'];
      for (const a of artifacts) expect(await exists(dir, a)).toBe(true);
      // The user copies a new model's sidecar into model/: it names no artifacts.
      const sidecar = JSON.parse(await read(dir, 'model/model.schema.json'));
      await write(
        dir,
        'model/model.schema.json',
        `${JSON.stringify({ ...sidecar, version: '2.0.0', artifacts: {} }, null, 2)}\n`,
      );
      await write(dir, 'model/NOTES.md', 'Our notes on the model.\n');
      commit(dir);
      const { report } = await run(dir);
      expect(report.files.filter((f) => f.path.startsWith('model/'))).toEqual([]);
      for (const a of artifacts) expect(await exists(dir, a)).toBe(true);
      expect(await read(dir, 'model/NOTES.md')).toBe('Our notes on the model.\n');
    });

    it('upgrade --model replaces the model and its artifacts: the old ones go, the user files stay', async () => {
      const dir = await project({ from: await pristineWithArtifacts() });
      const artifacts = ['model/lineage.json', 'model/metrics.json', 'model/MODEL_CARD.md'];
      await write(dir, 'model/NOTES.md', 'Our notes on the model.\n');
      commit(dir);
      const next = await modelDir({ version: '3.0.0', artifacts: { golden: 'golden.json' } });
      const { report } = await run(dir, { model: next });
      expect(report.files.filter((f) => f.path.startsWith('model/'))).toEqual([
        { path: 'model/golden.json', action: 'created', note: 'from --model' },
        ...artifacts.map((path) => ({
          path,
          action: 'deleted',
          note: 'from --model: the new model does not have it',
        })),
        { path: 'model/model.schema.json', action: 'updated', note: 'from --model' },
      ]);
      for (const a of artifacts) expect(await exists(dir, a)).toBe(false);
      expect(await read(dir, 'model/golden.json')).toBe('[]\n');
      expect(await read(dir, 'model/NOTES.md')).toBe('Our notes on the model.\n');
      expect(JSON.parse(await read(dir, manifestFile)).model.version).toBe('3.0.0');
    });

    it('--model that names no model is a usage error, and nothing is written', async () => {
      const dir = await project();
      const before = await hashTree(dir);
      const err = await run(dir, { model: join(dir, 'nowhere') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toContain('no such file or folder');
      expect(await hashTree(dir)).toEqual(before);
    });

    it('invalid answers are named as answers.json names them, not as flags', async () => {
      const dir = await project();
      const record = JSON.parse(await read(dir, answersFile));
      record.answers.minReplicas = 0;
      await write(dir, answersFile, `${JSON.stringify(record, null, 2)}\n`);
      commit(dir);
      const err = await run(dir).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      const details = (err as UsageError).details.join('\n');
      expect(details).toMatch(/^minReplicas 0: /m);
      expect(details).not.toMatch(/min-replicas/);
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
      expect(untrusted.report.base.notes).toContainEqual(
        expect.stringMatching(
          /base\.json\.gz does not hold what the last render wrote for README\.md/,
        ),
      );
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

    it('shows the files the user added, and refuses a path that is not in the project', async () => {
      const dir = await project();
      await write(dir, 'src/metrics.ts', 'export const extra = 1;\n');
      const result = await diffProject({ dir });
      expect(result.files).toEqual([{ path: 'src/metrics.ts', status: 'added' }]);
      expect(lf(result.diff)).toContain(
        '--- /dev/null\n+++ b/src/metrics.ts\n@@ -0,0 +1 @@\n+export const extra = 1;\n',
      );
      expect((await diffProject({ dir, paths: ['src'] })).files).toHaveLength(1);
      const err = await diffProject({ dir, paths: ['no/such.ts'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toContain('no/such.ts');
    });

    async function editReadme(dir: string) {
      await edit(dir, 'README.md', '## Support', '## Help');
    }
  });
});

describe('upgrade --model to a model of another task', () => {
  beforeAll(() => {
    checkout = 'lf';
  });

  it('says so first: the service answers in another shape', async () => {
    // The real templates: their src/model/contract.ts states the task.
    const dir = await generateProject({ model: tabular }, { prefix: 'cms-upgrade-task-' });
    expect(gitInit(dir, 'test')).toBeUndefined();
    expect(await readFile(join(dir, 'src/model/contract.ts'), 'utf8')).toContain(
      '"task": "binary"',
    );
    const templatesDir = resolve(packageRoot, 'templates');
    // A LinearSVC as skl2onnx exports it: decision scores, served by name (task tensor).
    const svc = join(fixturesDir, 'wild', 'skl-linearsvc-binary.onnx');
    const { report } = await run(dir, { model: svc, templatesDir });
    expect(report.task).toEqual({ from: 'binary', to: 'tensor' });
    expect(report.nextSteps[0]).toMatch(
      /^The model's task changes from binary to tensor \(src\/model\/contract.ts\): \/predict, \/predict\/batch and V2 answer in another shape/,
    );
    expect(await readFile(join(dir, 'src/model/contract.ts'), 'utf8')).toContain(
      '"task": "tensor"',
    );
    // The same task again is no news.
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '--no-verify', '-m', 'upgraded');
    expect((await run(dir, { templatesDir })).report.task).toBeUndefined();
  });
});

describe('upgrade --model to a model over GitHub’s 50 MiB warning size', () => {
  beforeAll(() => {
    checkout = 'lf';
  });

  it(
    'adds Git LFS and says what to install first; the commit after holds a pointer',
    { timeout: 300_000 },
    async () => {
      const dir = await generateProject({ model: tabular }, { prefix: 'cms-upgrade-lfs-' });
      expect(gitInit(dir, 'test')).toBeUndefined();
      const templatesDir = resolve(packageRoot, 'templates');
      const big = await largeModel(await tempDir('cms-upgrade-lfs-model-'), 60 * MB);
      const { report } = await run(dir, { model: big, templatesDir });
      expect(report.files).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ path: '.gitattributes', action: 'created' }),
          expect.objectContaining({ path: '.husky/pre-push', action: 'created' }),
        ]),
      );
      expect(report.nextSteps).toContain(
        'The model is now kept in Git LFS (.gitattributes, .husky/pre-push): install git-lfs and run `git lfs install` before you commit, so that the commit holds a pointer, not the model (README: "The model in Git LFS")',
      );
      git(dir, 'lfs', 'install', '--local');
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '--no-verify', '-m', 'a larger model');
      expect(git(dir, 'cat-file', '-p', 'HEAD:model/model.onnx')).toMatch(
        /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:[0-9a-f]{64}\nsize 6\d{7}\n$/,
      );
    },
  );
});
