/**
 * The contextual default of `githubRepo`: the `origin` remote of the repository the project is
 * created in (the target's parent directory, else the working directory), when it is on GitHub.
 */
import { execFileSync } from 'node:child_process';

/** `owner/name` of a GitHub remote URL (https, ssh or scp-like), or undefined for any other host. */
export function githubRepoFromUrl(url: string): string | undefined {
  const m =
    /^(?:https:\/\/(?:[^@/]+@)?github\.com\/|ssh:\/\/git@github\.com(?::\d+)?\/|git@github\.com:)([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(
      url.trim(),
    );
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** The `origin` remote of the git repository `dir` is in, or undefined (no git, no repository, no origin). */
function originUrl(dir: string): string | undefined {
  try {
    return execFileSync('git', ['-C', dir, 'remote', 'get-url', 'origin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    }).trim();
  } catch {
    return undefined;
  }
}

/** The first of `dirs` whose origin remote is on GitHub, as `owner/name`. */
export function githubRepoOfDirs(dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const url = originUrl(dir);
    const repo = url ? githubRepoFromUrl(url) : undefined;
    if (repo) return repo;
  }
  return undefined;
}
