import { spawnSync } from 'node:child_process';
import type { Plan } from '../plan/plan.js';

/** The model kept in Git LFS (`plan.largeModelFile`), when it is. */
type LfsModel = Pick<NonNullable<Plan['largeModelFile']>, 'path' | 'mib'>;

/**
 * `git init` and a first commit. Returns why it was skipped, or undefined when done.
 *
 * With a model in Git LFS, LFS's filters and hooks are installed in the repository before the
 * first `git add`, so that the first commit already holds a pointer, never the model itself (a
 * model once committed stays in the history, and GitHub refuses the push). Without git-lfs nothing
 * is done, and the reason names the commands to run once it is installed.
 */
export function gitInit(
  dir: string,
  generatorVersion: string,
  lfsModel?: LfsModel,
): string | undefined {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (git('--version').error) return 'git is not installed';
  const inside = git('rev-parse', '--is-inside-work-tree');
  if (inside.status === 0 && inside.stdout.trim() === 'true')
    return 'the directory is already inside a git repository';
  if (lfsModel && git('lfs', 'version').status !== 0) return noLfs(lfsModel);
  const steps: string[][] = [
    ['init', '--quiet', '--initial-branch=main'],
    // --local: the hooks go into this repository's .git/hooks (husky takes them over at install).
    ...(lfsModel ? [['lfs', 'install', '--local']] : []),
    ['add', '--all'],
    [
      // An identity only when the user has none, so the commit never fails on a fresh machine.
      ...(git('config', 'user.email').stdout.trim()
        ? []
        : [
            '-c',
            'user.email=create-mlops-service@localhost',
            '-c',
            'user.name=create-mlops-service',
          ]),
      'commit',
      '--quiet',
      '--no-verify',
      '-m',
      `Initial commit from create-mlops-service ${generatorVersion}`,
    ],
  ];
  for (const args of steps) {
    const r = git(...args);
    if (r.status !== 0)
      return `git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? ''} failed: ${r.stderr.trim()}`;
  }
  return undefined;
}

function noLfs({ path, mib }: LfsModel): string {
  return (
    `git-lfs is not installed, and ${path} (${mib} MiB) must be committed through Git LFS: ` +
    'install git-lfs (https://git-lfs.com), then in the project run ' +
    "`git init && git lfs install --local && git add -A && git commit -m 'Initial commit'`, " +
    'and `npm run prepare` to install its hooks'
  );
}
