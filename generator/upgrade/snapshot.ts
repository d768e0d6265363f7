/**
 * The base snapshot: `.mlops-service/base.json.gz`, the pristine render of the recorded generator
 * version, kept in the project so that `upgrade` and `diff` have their merge base offline and when
 * that version can no longer be downloaded or run (docs/adr/0005-upgrade-keeps-its-base-in-the-project.md).
 *
 * gzip of `{format, generator, files: {path: {utf8} | {base64}}}`, paths sorted, so the same
 * render gives the same bytes. It holds what the generator rendered, except the `.mlops-service/`
 * records and the copies of the user's model (those are the project's own). Every entry is
 * checked against the manifest's sha256 before it is trusted.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export const baseSnapshotFile = '.mlops-service/base.json.gz';
const format = 'create-mlops-service/base@1';

const entrySchema = z.union([
  z.object({ utf8: z.string() }).strict(),
  z.object({ base64: z.string() }).strict(),
]);
const snapshotSchema = z.object({
  format: z.literal(format),
  generator: z.object({ name: z.string(), version: z.string() }),
  files: z.record(z.string(), entrySchema),
});

export interface Snapshot {
  readonly generator: { readonly name: string; readonly version: string };
  readonly files: ReadonlyMap<string, Buffer>;
}

/** Is this content text that survives a round trip through UTF-8? */
export function isText(content: Buffer): boolean {
  if (content.includes(0)) return false;
  return Buffer.from(content.toString('utf8'), 'utf8').equals(content);
}

export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const files: Record<string, { utf8: string } | { base64: string }> = {};
  for (const path of [...snapshot.files.keys()].sort()) {
    const content = snapshot.files.get(path)!;
    files[path] = isText(content)
      ? { utf8: content.toString('utf8') }
      : { base64: content.toString('base64') };
  }
  const json = JSON.stringify({ format, generator: snapshot.generator, files });
  return gzipSync(json, { level: 9 });
}

export function decodeSnapshot(bytes: Buffer): Snapshot {
  const parsed = snapshotSchema.parse(JSON.parse(gunzipSync(bytes).toString('utf8')));
  const files = new Map<string, Buffer>();
  for (const [path, entry] of Object.entries(parsed.files)) {
    files.set(
      path,
      'utf8' in entry ? Buffer.from(entry.utf8, 'utf8') : Buffer.from(entry.base64, 'base64'),
    );
  }
  return { generator: parsed.generator, files };
}

/** Reads the project's snapshot; `undefined` with the reason when it is absent or unreadable. */
export async function readSnapshot(
  root: string,
): Promise<{ snapshot: Snapshot } | { snapshot: undefined; reason: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(root, baseSnapshotFile));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      snapshot: undefined,
      reason: code === 'ENOENT' ? `${baseSnapshotFile} is absent` : `${baseSnapshotFile}: ${code}`,
    };
  }
  try {
    return { snapshot: decodeSnapshot(bytes) };
  } catch (err) {
    return {
      snapshot: undefined,
      reason: `${baseSnapshotFile} is unreadable (${(err as Error).message.split('\n')[0]})`,
    };
  }
}
