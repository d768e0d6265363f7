/**
 * Models a service must refuse at start: the real model cut short, a valid ONNX graph that is not
 * the one the service was generated for (one float input `x` -> `y` through Identity), a graph with
 * the service's input and output names and types but one input a column wider (a re-trained
 * skl2onnx model keeps `float_input` when its feature count changes), and the real model with its
 * weights in a separate file (ONNX external data).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import type { TensorInfo } from '../../src/model/contract-types.js';
import { contract } from '../../src/model/contract.js';
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

/** ONNX TensorProto.DataType of onnxruntime-node's element type names. */
const onnxElementType: Record<string, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float64: 11,
};

/** A ValueInfoProto: a tensor of `type` and `shape` (numbers are fixed sizes, strings symbolic). */
function valueInfo(name: string, type: string, shape: ReadonlyArray<number | string>): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32((1 << 3) | 2).string(name);
  w.uint32((2 << 3) | 2).fork(); // type: TypeProto
  w.uint32((1 << 3) | 2).fork(); // tensor_type
  w.uint32(1 << 3).int32(onnxElementType[type] ?? 1);
  w.uint32((2 << 3) | 2).fork(); // shape
  for (const d of shape) {
    w.uint32((1 << 3) | 2).fork();
    if (typeof d === 'number') w.uint32(1 << 3).int64(d);
    else w.uint32((2 << 3) | 2).string(d);
    w.ldelim();
  }
  return w.ldelim().ldelim().ldelim().finish();
}

/**
 * Writes `<dir>/model.onnx`: every input and output of the service's contract, by name and element
 * type, but `contract.inputs[0]` one column wider (its last fixed size + 1, or one more dimension
 * when none is fixed). Each output comes from a Constant, so the graph loads and runs on its own.
 * Returns its path and the widened input.
 */
export function widenedModel(dir: string): { path: string; widened: TensorInfo } {
  mkdirSync(dir, { recursive: true });
  const [first, ...rest] = contract.inputs as readonly TensorInfo[];
  if (!first) throw new Error('the contract has no input');
  const last = first.shape.at(-1);
  const shape =
    typeof last === 'number' ? [...first.shape.slice(0, -1), last + 1] : [...first.shape, 2];
  const widened = { ...first, shape };
  const g = protobuf.Writer.create();
  for (const output of contract.outputs) {
    const t = protobuf.Writer.create().uint32(8).int64(1); // dims: [1]
    t.uint32(2 << 3).int32(onnxElementType[output.type] ?? 1);
    if (output.type === 'string') t.uint32((6 << 3) | 2).bytes(new Uint8Array(0));
    else if (output.type === 'float32')
      t.uint32((4 << 3) | 2)
        .fork()
        .float(0)
        .ldelim();
    else if (output.type === 'float64')
      t.uint32((10 << 3) | 2)
        .fork()
        .double(0)
        .ldelim();
    else if (output.type === 'int64')
      t.uint32((7 << 3) | 2)
        .fork()
        .int64(0)
        .ldelim();
    else
      t.uint32((5 << 3) | 2)
        .fork()
        .int32(0)
        .ldelim(); // int32_data: the smaller integers, bool
    const node = protobuf.Writer.create()
      .uint32((2 << 3) | 2)
      .string(output.name)
      .uint32((4 << 3) | 2)
      .string('Constant');
    node.uint32((5 << 3) | 2).fork(); // attribute "value"
    node.uint32((1 << 3) | 2).string('value');
    node.uint32((5 << 3) | 2).bytes(t.finish());
    node.uint32(20 << 3).int32(4); // AttributeProto.TENSOR
    node.ldelim();
    g.uint32((1 << 3) | 2).bytes(node.finish());
  }
  g.uint32((2 << 3) | 2).string('widened');
  for (const input of [widened, ...rest]) {
    g.uint32((11 << 3) | 2).bytes(valueInfo(input.name, input.type, input.shape));
  }
  for (const output of contract.outputs) {
    g.uint32((12 << 3) | 2).bytes(valueInfo(output.name, output.type, [1]));
  }
  const model = protobuf.Writer.create()
    .uint32(1 << 3)
    .int64(8); // ir_version 8
  model
    .uint32((8 << 3) | 2)
    .fork()
    .uint32((2 << 3) | 0)
    .int64(13)
    .ldelim(); // opset 13
  model.uint32((7 << 3) | 2).bytes(g.finish());
  const path = join(dir, 'model.onnx');
  writeFileSync(path, model.finish());
  return { path, widened };
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
