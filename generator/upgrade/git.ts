/** Is the project committed? Looks only at the project's own directory, not the whole repository. */
import { spawnSync } from 'node:child_process';

export type GitState =
  | { readonly repo: false; readonly reason: string }
  | { readonly repo: true; readonly dirty: string[] };

export function gitState(root: string): GitState {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const inside = git('rev-parse', '--is-inside-work-tree');
  if (inside.error) return { repo: false, reason: 'git is not installed' };
  if (inside.status !== 0 || inside.stdout.trim() !== 'true')
    return { repo: false, reason: 'it is not in a git repository' };
  const status = git('status', '--porcelain=v1', '--untracked-files=all', '--', '.');
  if (status.status !== 0)
    return { repo: false, reason: `git status failed: ${status.stderr.trim()}` };
  return { repo: true, dirty: status.stdout.split('\n').filter((l) => l.trim() !== '') };
}
