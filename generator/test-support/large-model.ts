/** Models of a given size for tests of what size changes: memory, Git LFS. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeModel, makeNode, tensorValueInfo } from '../model/graph/build.js';
import { encodeModel } from '../model/graph/decode.js';
import { DataType, type TensorProto } from '../model/graph/onnx.js';
import { onnxTypes } from '../model/graph/schema.js';

/**
 * A records model of `bytes` (one float input [N, 4], a regression): its weight lies in one large
 * initializer of which the graph reads one value, so it loads and runs fast at any size.
 */
export async function largeModel(dir: string, bytes: number): Promise<string> {
  const big = onnxTypes().tensor.create({
    name: 'big',
    dims: [bytes / 4],
    data_type: DataType.FLOAT,
    raw_data: new Uint8Array(bytes),
  });
  const w = onnxTypes().tensor.create({
    name: 'w',
    dims: [4, 1],
    data_type: DataType.FLOAT,
    float_data: [0.5, -0.25, 1, 2],
  });
  const first = onnxTypes().tensor.create({
    name: 'first',
    dims: [1],
    data_type: DataType.INT64,
    int64_data: [0],
  });
  const model = makeModel({
    nodes: [
      makeNode('MatMul', ['x', 'w'], ['m']),
      makeNode('Gather', ['big', 'first'], ['g']),
      makeNode('Add', ['m', 'g'], ['y']),
    ],
    inputs: [tensorValueInfo('x', DataType.FLOAT, ['N', 4])],
    outputs: [tensorValueInfo('y', DataType.FLOAT, ['N', 1])],
    initializers: [big, w, first] as unknown as TensorProto[],
    opsets: { '': 17 },
  });
  const path = join(dir, 'model.onnx');
  await writeFile(path, encodeModel(model));
  return path;
}
