import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { githubRepoFromUrl, githubRepoOfDirs } from './github-remote.js';

describe('the githubRepo default', () => {
  it.each([
    ['https://github.com/acme/churn-api.git', 'acme/churn-api'],
    ['https://github.com/acme/churn-api', 'acme/churn-api'],
    ['https://x-access-token@github.com/Acme-Org/churn.api_2.git', 'Acme-Org/churn.api_2'],
    ['git@github.com:acme/churn-api.git', 'acme/churn-api'],
    ['ssh://git@github.com/acme/churn-api.git', 'acme/churn-api'],
  ])('reads %s as %s', (url, repo) => {
    expect(githubRepoFromUrl(url)).toBe(repo);
  });

  it.each([
    'https://gitlab.com/acme/churn-api.git',
    'https://github.com.evil.example/acme/churn-api.git',
    'https://github.com/acme',
    '/srv/git/churn-api.git',
  ])('takes nothing from %s', (url) => {
    expect(githubRepoFromUrl(url)).toBeUndefined();
  });

  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("reads the origin remote of the first directory's repository that is on GitHub", async () => {
    const none = await mkdtemp(join(tmpdir(), 'no-git-'));
    const repo = await mkdtemp(join(tmpdir(), 'gh-remote-'));
    dirs.push(none, repo);
    execFileSync('git', ['init', '-q', repo]);
    execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', 'git@github.com:acme/svc.git']);
    expect(githubRepoOfDirs([none])).toBeUndefined();
    expect(githubRepoOfDirs([none, repo])).toBe('acme/svc');
  });
});
