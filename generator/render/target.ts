/**
 * The target directory: checked before any work, rendered beside it in a staging directory, then
 * moved into place with one rename. A failure or Ctrl-C at any point leaves the target as it was.
 */
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../errors.js';

export type TargetState = 'absent' | 'empty' | 'non-empty';

export async function targetState(target: string): Promise<TargetState> {
  try {
    const entries = await readdir(target);
    return entries.length === 0 ? 'empty' : 'non-empty';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    if (code === 'ENOTDIR') throw new UsageError(`${target} exists and is not a directory`);
    throw err;
  }
}

/** Refuses a non-empty target unless `overwrite`; call before any work. */
export async function assertTargetWritable(
  target: string,
  overwrite: boolean,
): Promise<TargetState> {
  const state = await targetState(target);
  if (state === 'non-empty' && !overwrite) {
    throw new UsageError(`${target} is not empty; nothing was written.`, [
      'Choose a new directory, or pass --overwrite to replace its contents.',
    ]);
  }
  return state;
}

/** A fresh staging directory on the same filesystem as the target, so the final move is a rename. */
export async function makeStagingDir(target: string): Promise<string> {
  await mkdir(dirname(target), { recursive: true });
  return mkdtemp(join(dirname(target), `.${basename(target)}.create-mlops-service-`));
}

/** Moves the staging directory into place. With `overwrite`, the old contents go only after the move. */
export async function moveIntoPlace(
  staging: string,
  target: string,
  overwrite: boolean,
): Promise<void> {
  const state = await assertTargetWritable(target, overwrite);
  if (state === 'empty') await rm(target, { recursive: true });
  if (state === 'non-empty') {
    const old = `${staging}.old`;
    await rename(target, old);
    try {
      await rename(staging, target);
    } catch (err) {
      await rename(old, target);
      throw err;
    }
    await rm(old, { recursive: true, force: true });
    return;
  }
  await rename(staging, target);
}
