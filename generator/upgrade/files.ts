/** Reading trees into memory, and writing an upgrade all at once. */
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
  chmod,
} from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { UserError } from '../errors.js';
import { insideRoot } from '../render/render.js';
import { recordDir } from '../record/record.js';
import type { FileState } from './engine.js';

/** Every regular file under `root` (POSIX paths), without `.git` and `node_modules`. */
export async function readTree(root: string): Promise<Map<string, FileState>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const out = new Map<string, FileState>();
  const paths: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const rel = relative(root, join(e.parentPath, e.name)).split(sep).join('/');
    if (rel.startsWith('.git/') || rel.split('/').includes('node_modules')) continue;
    paths.push(rel);
  }
  for (const p of paths.sort()) {
    const full = join(root, p);
    out.set(p, { content: await readFile(full), mode: (await stat(full)).mode & 0o777 });
  }
  return out;
}

/** The project's regular files at `paths` (symlinks and directories count as absent). */
export async function readFiles(
  root: string,
  paths: Iterable<string>,
): Promise<Map<string, FileState>> {
  const out = new Map<string, FileState>();
  for (const p of paths) {
    const full = insideRoot(root, p);
    const info = await lstat(full).catch(() => undefined);
    if (!info?.isFile()) continue;
    out.set(p, { content: await readFile(full), mode: info.mode & 0o777 });
  }
  return out;
}

/**
 * Writes every file and deletes every path, or nothing: each content is first written in full
 * into a staging directory inside the project (same filesystem), and only when all of them are
 * there is each one renamed over its target. A path whose parent is a file is refused up front.
 */
export async function applyChanges(
  root: string,
  writes: ReadonlyMap<string, FileState>,
  deletes: readonly string[],
): Promise<void> {
  const blocked: string[] = [];
  for (const path of writes.keys()) {
    const full = insideRoot(root, path);
    const target = await lstat(full).catch(() => undefined);
    if (target && !target.isFile())
      blocked.push(`${path}: a ${target.isDirectory() ? 'directory' : 'non-file'} is in the way`);
    for (let dir = dirname(full); dir.length > root.length; dir = dirname(dir)) {
      const info = await lstat(dir).catch(() => undefined);
      if (info && !info.isDirectory()) {
        blocked.push(`${path}: ${relative(root, dir)} is a file, not a directory`);
        break;
      }
    }
  }
  if (blocked.length > 0) {
    throw new UserError('The upgrade cannot be written; nothing was changed:', blocked);
  }
  await mkdir(join(root, recordDir), { recursive: true });
  const staging = await mkdtemp(join(root, recordDir, '.upgrade-'));
  try {
    const staged: Array<[string, string, number]> = [];
    let i = 0;
    for (const [path, state] of writes) {
      const file = join(staging, String(i++));
      await writeFile(file, state.content);
      await chmod(file, state.mode);
      staged.push([file, insideRoot(root, path), state.mode]);
    }
    for (const [file, target] of staged) {
      await mkdir(dirname(target), { recursive: true });
      await rename(file, target);
    }
    for (const path of deletes) {
      const full = insideRoot(root, path);
      await rm(full, { force: true });
      // Remove the directories the deletion emptied.
      for (let dir = dirname(full); dir.length > root.length; dir = dirname(dir)) {
        if ((await readdir(dir).catch(() => ['?'])).length > 0) break;
        await rmdir(dir).catch(() => undefined);
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
