/**
 * Models a service must refuse at start: the real model cut short, a valid ONNX graph that is not
 * the one the service was generated for (one float input `x` -> `y` through Identity), and the real
 * model with its weights in a separate file (ONNX external data).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { projectRoot } from './build.js';

const identityModel =
  'CAg6SAoQCgF4EgF5IghJZGVudGl0eRIIbWlzbWF0Y2haFAoBeBIPCg0IARIJCgMSAU4KAggBYhQKAXkSDwoNCAESCQoDEgFOCgIIAUIECgAQDQ==';

/** Writes `<dir>/model.onnx` (the real model truncated to its first half); returns its path. */
export function truncatedModel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const bytes = readFileSync(join(projectRoot, 'model', 'model.onnx'));
  const path = join(dir, 'model.onnx');
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
  return path;
}

/** Writes `<dir>/model.onnx` (a valid graph with other inputs and outputs); returns its path. */
export function mismatchedModel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'model.onnx');
  writeFileSync(path, Buffer.from(identityModel, 'base64'));
  return path;
}

/**
 * Writes `<dir>/model.onnx` and `<dir>/model.onnx.data`: the project's model with the bytes of
 * every initializer of 1 KiB or more moved to the data file, as `onnx.save_model(model, path,
 * save_as_external_data=True, location="model.onnx.data")` writes them with its default
 * size_threshold (and `torch.onnx.export` by default since PyTorch 2.9). Returns the model's path
 * and how many tensors moved: 0 when the graph has no initializer that large (its weights are
 * node attributes, as in tree ensembles), which onnx leaves inside the file too.
 */
export function externalWeightsModel(dir: string): { path: string; tensors: number } {
  mkdirSync(dir, { recursive: true });
  const data: Uint8Array[] = [];
  let offset = 0;
  let tensors = 0;
  const tensor = (bytes: Uint8Array): Uint8Array => {
    let raw: Uint8Array | undefined;
    const kept = fields(bytes, (field, value) => {
      if (field !== 9) return undefined; // raw_data
      raw = value;
      return null;
    });
    if (!raw || raw.byteLength < 1024) return bytes;
    const w = protobuf.Writer.create();
    const entry = (key: string, value: string) =>
      w
        .uint32((13 << 3) | 2)
        .fork()
        .uint32((1 << 3) | 2)
        .string(key)
        .uint32((2 << 3) | 2)
        .string(value)
        .ldelim();
    entry('location', 'model.onnx.data');
    entry('offset', String(offset));
    entry('length', String(raw.byteLength));
    w.uint32(14 << 3).int32(1); // data_location: EXTERNAL
    data.push(raw);
    offset += raw.byteLength;
    tensors++;
    return Buffer.concat([kept, w.finish()]);
  };
  const graph = (bytes: Uint8Array) =>
    fields(bytes, (field, value) => (field === 5 ? tensor(value) : undefined)); // initializer
  const model = fields(readFileSync(join(projectRoot, 'model', 'model.onnx')), (field, value) =>
    field === 7 ? graph(value) : undefined,
  );
  const path = join(dir, 'model.onnx');
  writeFileSync(path, model);
  writeFileSync(join(dir, 'model.onnx.data'), Buffer.concat(data));
  return { path, tensors };
}

/**
 * Re-encodes a message field by field: `change` returns a length-delimited field's new value,
 * `null` to drop it, or undefined to keep it (every other field is copied as it is).
 */
function fields(
  bytes: Uint8Array,
  change: (field: number, value: Uint8Array) => Uint8Array | null | undefined,
): Buffer {
  const reader = protobuf.Reader.create(bytes);
  const out: Uint8Array[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    if ((tag & 7) === 2) {
      const value = reader.bytes();
      const changed = change(tag >>> 3, value);
      if (changed === null) continue;
      if (changed !== undefined) {
        out.push(protobuf.Writer.create().uint32(tag).bytes(changed).finish());
        continue;
      }
    } else {
      reader.skipType(tag & 7);
    }
    out.push(bytes.subarray(start, reader.pos));
  }
  return Buffer.concat(out);
}
