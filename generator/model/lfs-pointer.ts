/**
 * A Git LFS pointer: what a clone without git-lfs (a Hugging Face model repository, a CI checkout
 * without `lfs: true`) holds in place of a model kept in LFS. Spec v1
 * (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md): under 1024 bytes of UTF-8, one
 * `key value\n` line each, `version` first (git-lfs's URL, or hawser's on older pointers), then
 * `oid sha256:<64 hex>` and `size <bytes>` among the sorted keys.
 *
 * Only a small file whose text starts with a known `version` line is read, so an ONNX file (binary
 * protobuf, whose first byte is a field tag) is never taken for one.
 */

export interface LfsPointer {
  /** `sha256:<64 lowercase hex>`, the object's id in LFS storage. */
  readonly oid: string;
  /** The size in bytes of the file the pointer stands for. */
  readonly size: number;
}

/** The spec's limit: a pointer is smaller than this. */
const maxPointerBytes = 1024;
const versionPrefixes = [
  'version https://git-lfs.github.com/spec/',
  'version https://hawser.github.com/spec/',
];

/** The pointer `bytes` are, or undefined when they are anything else (a model among them). */
export function lfsPointerOf(bytes: Uint8Array): LfsPointer | undefined {
  if (bytes.byteLength === 0 || bytes.byteLength >= maxPointerBytes) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  if (!versionPrefixes.some((p) => text.startsWith(p))) return undefined;
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const kv = /^([a-z0-9.-]+) ([^\r]*)\r?$/.exec(line);
    if (!kv) return undefined;
    values.set(kv[1]!, kv[2]!);
  }
  const oid = values.get('oid');
  const size = values.get('size');
  if (!oid || !/^sha256:[0-9a-f]{64}$/.test(oid) || !size || !/^\d+$/.test(size)) return undefined;
  return { oid, size: Number(size) };
}

function sizeText(bytes: number): string {
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${bytes} byte${bytes === 1 ? '' : 's'}`;
}

/** What the pointer is instead of `what`, with the fix (after the file's path in a message). */
export function lfsPointerText(pointer: LfsPointer, what = 'the model'): string {
  // The oid's first 12 hex digits and the size: enough to tell which file it stands for.
  const oid = pointer.oid.slice('sha256:'.length, 'sha256:'.length + 12);
  return (
    `is a Git LFS pointer (sha256 ${oid}, ${sizeText(pointer.size)}), not ${what}: ` +
    `run \`git lfs pull\` in its repository to fetch ${what} (install git-lfs from https://git-lfs.com first), then try again`
  );
}
