/**
 * A model over GitHub's file size is kept in Git LFS (ADR 0026): the first commit holds a pointer,
 * a push through the project's husky hooks uploads the model, a checkout the way actions/checkout
 * does it with `lfs: true` gets it back, and the deploy workflow asks its runner for git-lfs only
 * then. Real git and git-lfs, a bare repository as the remote.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { fixturesDir, tempDir } from '../test-support/cli.js';
import { generateProject } from '../test-support/generate.js';
import { installCached } from '../test-support/installed-project.js';
import { largeModel } from '../test-support/large-model.js';
import { type WorkflowStep, runJob } from '../test-support/workflow-runner.js';
import { gitInit } from './git.js';

const MB = 1_000_000;
const cloud = { cloud: 'gcp', gcpProject: 'lfs-project', githubRepo: 'acme/big' };

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface Workflow {
  jobs: Record<string, { steps: WorkflowStep[] }>;
}
const workflowOf = (dir: string, name: string) =>
  parseYaml(readFileSync(join(dir, '.github/workflows', name), 'utf8')) as Workflow;

/** The deploy workflow's runner job, its LFS step only, run in `dir`: what it outputs. */
function lfsOutputOf(dir: string): string | undefined {
  const step = workflowOf(dir, 'deploy-environment.yml').jobs.runner!.steps.find(
    (s) => s.id === 'lfs',
  )!;
  const [recorded] = runJob([step], { cwd: dir, contexts: {} });
  expect(recorded!.outcome, recorded!.output).toBe('success');
  return recorded!.outputs?.lfs;
}

beforeAll(() => {
  const lfs = spawnSync('git', ['lfs', 'version'], { encoding: 'utf8' });
  if (lfs.status !== 0)
    throw new Error('these tests need git-lfs (apt-get install git-lfs; .ci/run installs it)');
});

describe('a project whose model is over GitHub’s 50 MiB warning size', () => {
  let dir = '';
  let modelSha = '';

  beforeAll(async () => {
    const model = await largeModel(await tempDir('cms-lfs-model-'), 60 * MB);
    dir = await generateProject({ ...cloud, model }, { git: true, prefix: 'cms-lfs-' });
    modelSha = sha256(join(dir, 'model/model.onnx'));
  }, 300_000);

  it('commits a Git LFS pointer in its first commit, never the model', () => {
    expect(readFileSync(join(dir, '.gitattributes'), 'utf8')).toContain(
      'model/**/*.onnx filter=lfs diff=lfs merge=lfs -text',
    );
    expect(git(dir, 'check-attr', 'filter', '--', 'model/challenger/model.onnx')).toContain(
      'filter: lfs',
    );
    const size = readFileSync(join(dir, 'model/model.onnx')).byteLength;
    expect(git(dir, 'cat-file', '-p', 'HEAD:model/model.onnx')).toBe(
      `version https://git-lfs.github.com/spec/v1\noid sha256:${modelSha}\nsize ${size}\n`,
    );
    // No blob of the history holds the model.
    const blobs = git(dir, 'rev-list', '--objects', '--all')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0]!);
    const sizes = spawnSync('git', ['cat-file', '--batch-check=%(objectsize)'], {
      cwd: dir,
      input: blobs.join('\n'),
      encoding: 'utf8',
    }).stdout;
    expect(Math.max(...sizes.split('\n').filter(Boolean).map(Number))).toBeLessThan(MB);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('### The model in Git LFS');
    expect(readme).toMatch(/`model\/model.onnx` is 58 MiB, and GitHub warns on a pushed file/);
    expect(readme).not.toContain('{{');
  });

  it(
    'uploads the model on push through its husky hook; a checkout with lfs gets the same bytes back',
    { timeout: 300_000 },
    async () => {
      await symlink(join(await installCached(dir), 'node_modules'), join(dir, 'node_modules'));
      // `npm install`'s prepare: husky takes over the hooks directory.
      const husky = spawnSync(process.execPath, ['node_modules/husky/bin.js'], { cwd: dir });
      expect(husky.status, String(husky.stderr)).toBe(0);
      expect(git(dir, 'config', 'core.hooksPath').trim()).toBe('.husky/_');
      const root = await tempDir('cms-lfs-remote-');
      const remote = join(root, 'remote.git');
      git(root, 'init', '--quiet', '--bare', remote);
      git(dir, 'remote', 'add', 'origin', remote);
      git(dir, 'push', '--quiet', 'origin', 'main');
      expect(
        existsSync(
          join(remote, 'lfs/objects', modelSha.slice(0, 2), modelSha.slice(2, 4), modelSha),
        ),
      ).toBe(true);

      // actions/checkout with lfs: true (git-source-provider.ts): init, lfs install, fetch, lfs fetch, checkout.
      const ci = join(root, 'ci');
      await mkdir(ci);
      git(ci, 'init', '--quiet');
      git(ci, 'remote', 'add', 'origin', remote);
      git(ci, 'lfs', 'install', '--local');
      git(
        ci,
        'fetch',
        '--quiet',
        '--depth=1',
        'origin',
        '+refs/heads/main:refs/remotes/origin/main',
      );
      git(ci, 'lfs', 'fetch', 'origin', 'refs/remotes/origin/main');
      git(ci, 'checkout', '--quiet', '--force', '-B', 'main', 'refs/remotes/origin/main');
      expect(sha256(join(ci, 'model/model.onnx'))).toBe(modelSha);
    },
  );

  it('has the deploy ask its runner for the models from Git LFS', () => {
    expect(lfsOutputOf(dir)).toBe('true');
    const deploy = workflowOf(dir, 'deploy-environment.yml').jobs.deploy!;
    const checkout = (lfs: string) =>
      runJob(deploy.steps.slice(0, 1), {
        cwd: dir,
        contexts: { needs: { runner: { outputs: { lfs } } } },
      })[0]!.with;
    expect(checkout('true')).toMatchObject({ lfs: 'true' });
    expect(checkout('false')).toMatchObject({ lfs: 'false' });
  });
});

describe('a project whose model is small', () => {
  it('has no Git LFS, and its deploy does not ask its runner for git-lfs', async () => {
    const dir = await generateProject(
      { ...cloud, model: join(fixturesDir, 'tabular.onnx') },
      { git: true, prefix: 'cms-no-lfs-' },
    );
    expect(existsSync(join(dir, '.gitattributes'))).toBe(false);
    expect(existsSync(join(dir, '.husky/pre-push'))).toBe(false);
    expect(await readFile(join(dir, 'README.md'), 'utf8')).not.toContain('Git LFS');
    expect(lfsOutputOf(dir)).toBe('false');
  }, 120_000);
});

describe('git init without git-lfs', () => {
  it('commits nothing, and says what to install and run', async () => {
    const dir = await tempDir('cms-lfs-missing-');
    const bin = await tempDir('cms-git-only-');
    await symlink(
      spawnSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).stdout.trim(),
      join(bin, 'git'),
    );
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      expect(gitInit(dir, 'test', { path: 'model/model.onnx', mib: 420 })).toBe(
        'git-lfs is not installed, and model/model.onnx (420 MiB) must be committed through Git LFS: ' +
          'install git-lfs (https://git-lfs.com), then in the project run ' +
          "`git init && git lfs install --local && git add -A && git commit -m 'Initial commit'`, " +
          'and `npm run prepare` to install its hooks',
      );
    } finally {
      process.env.PATH = path;
    }
    expect(existsSync(join(dir, '.git'))).toBe(false);
  });
});
