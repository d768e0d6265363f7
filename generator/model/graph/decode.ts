/**
 * Bytes <-> ModelProto with ONNX's own schema (protobufjs). Files that are not a model (a Git LFS
 * or git-annex pointer, an HTML or XML error page saved by a download, an empty file, a truncated
 * file) are refused with one line naming the problem and the fix, before anything else reads them.
 */
import { UserError } from '../../errors.js';
import { lfsPointerOf, lfsPointerText } from '../lfs-pointer.js';
import { type ModelProto, int64ToNumber } from './onnx.js';
import { onnxTypes } from './schema.js';

const lfsPointer = /^version https:\/\/git-lfs\.github\.com\/spec\/v1\b/;
/** A git-annex key path: a symlink's target saved as text, or an unlocked file's pointer line. */
const annexPointer =
  /^[^\0-\x1f]*(^|\/)annex\/objects\/([^\0-\x1f]+\/)?[A-Z0-9]+-s\d+-[^\0-\x1f]*$/;

/** Throws a UserError when `bytes` are plainly not an ONNX model (a pointer, a page, nothing). */
export function detectNotAModel(bytes: Uint8Array, path: string): void {
  const problem = notAModelProblem(bytes);
  if (problem) throw new UserError(`${path} ${problem}`);
}

/** What the bytes are instead of a model, with the fix; undefined when they may be a model. */
export function notAModelProblem(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength === 0) {
    return 'is empty (0 bytes), not an ONNX model: re-export or re-download it';
  }
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, '');
  const pointer = lfsPointerOf(bytes);
  if (pointer) return lfsPointerText(pointer);
  // Text that starts like a pointer but does not parse as one (cut, or extended past the spec).
  if (lfsPointer.test(head)) {
    return 'is a Git LFS pointer, not the model: run "git lfs pull" in its repository and try again';
  }
  if (bytes.byteLength < 1024 && annexPointer.test(head.trim())) {
    return 'is a git-annex pointer, not the model: run "git annex get" on it in its repository and try again';
  }
  const start = head.trimStart().slice(0, 256).toLowerCase();
  if (/^<!doctype html|^<html|^<head|^<body/.test(start)) {
    return 'is an HTML page, not the model (a download that returned an error or login page): download the file itself (its raw/resolve URL, with credentials if needed) and try again';
  }
  if (start.startsWith('<?xml') || start.startsWith('<error')) {
    return "is an XML document, not the model (a storage service's error reply saved as the file): download it again and check the URL and credentials";
  }
  return undefined;
}

/** Decodes a model; every failure is one UserError line naming the file. */
export function decodeModel(bytes: Uint8Array, path: string): ModelProto {
  detectNotAModel(bytes, path);
  let model: ModelProto;
  try {
    model = onnxTypes().model.decode(bytes) as unknown as ModelProto;
  } catch {
    throw notProtobuf(path);
  }
  if (!model.graph || int64ToNumber(model.ir_version) <= 0 || model.opset_import.length === 0) {
    throw notProtobuf(path);
  }
  return model;
}

/** Encodes a model (decoded by `decodeModel`, possibly rewritten) back to bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  return onnxTypes()
    .model.encode(model as unknown as Record<string, unknown>)
    .finish();
}

function notProtobuf(path: string): UserError {
  return new UserError(
    `${path} is not an ONNX model (the file is truncated or not protobuf): re-export or re-download it`,
  );
}
