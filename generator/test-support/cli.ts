/** Runs the built CLI as a user would: a child process with no terminal. */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { packageRoot } from '../version.js';

export const binPath = resolve(packageRoot, 'bin/create-mlops-service.js');
export const fixturesDir = resolve(packageRoot, 'generator/__fixtures__/models');

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], {
      cwd: options.cwd ?? packageRoot,
      env: { ...process.env, CI: '1', FORCE_COLOR: '0', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Directories `tempDir` made in this test process: removed when it exits. */
const madeDirs = new Set<string>();

/**
 * A new directory under the system temp directory, removed after the test file that made it
 * (`removeTempDirs`, run by `temp-dirs.setup.ts`), so repeated runs do not fill the disk with
 * generated projects and models.
 */
export async function tempDir(prefix = 'cms-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  madeDirs.add(dir);
  return dir;
}

/** Removes what `tempDir` made; `CMS_KEEP_TEMP=1` keeps it for a post-mortem. */
export function removeTempDirs(): void {
  if (process.env.CMS_KEEP_TEMP) return;
  for (const dir of madeDirs) rmSync(dir, { recursive: true, force: true });
  madeDirs.clear();
}
