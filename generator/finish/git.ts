import { spawnSync } from 'node:child_process';

/** `git init` and a first commit. Returns why it was skipped, or undefined when done. */
export function gitInit(dir: string, generatorVersion: string): string | undefined {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (git('--version').error) return 'git is not installed';
  const inside = git('rev-parse', '--is-inside-work-tree');
  if (inside.status === 0 && inside.stdout.trim() === 'true')
    return 'the directory is already inside a git repository';
  const steps: string[][] = [
    ['init', '--quiet', '--initial-branch=main'],
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
