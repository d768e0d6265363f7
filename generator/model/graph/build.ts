/**
 * Constructors for the few ONNX messages a rewrite adds (nodes, attributes, tensor types), the
 * counterpart of onnx.helper. They return schema messages, so `encodeModel` writes them like
 * decoded ones. Tests use them to build small graphs.
 */
import {
  AttributeType,
  DataType,
  type AttributeProto,
  type Dimension,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type TypeProto,
  type ValueInfo,
} from './onnx.js';
import { onnxTypes } from './schema.js';

const utf8 = new TextEncoder();

export interface NodeOptions {
  readonly name?: string;
  readonly domain?: string;
  readonly attributes?: readonly AttributeProto[];
  readonly docString?: string;
}

export function makeNode(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  options: NodeOptions = {},
): NodeProto {
  return onnxTypes().node.create({
    input: [...inputs],
    output: [...outputs],
    op_type: opType,
    ...(options.name ? { name: options.name } : {}),
    ...(options.domain ? { domain: options.domain } : {}),
    ...(options.attributes ? { attribute: [...options.attributes] } : {}),
    ...(options.docString ? { doc_string: options.docString } : {}),
  }) as unknown as NodeProto;
}

function attribute(fields: Record<string, unknown>): AttributeProto {
  return onnxTypes().attribute.create(fields) as unknown as AttributeProto;
}

export const stringAttribute = (name: string, value: string) =>
  attribute({ name, type: AttributeType.STRING, s: utf8.encode(value) });
export const stringsAttribute = (name: string, values: readonly string[]) =>
  attribute({ name, type: 8, strings: values.map((v) => utf8.encode(v)) });
export const intAttribute = (name: string, value: number) =>
  attribute({ name, type: AttributeType.INT, i: value });
export const intsAttribute = (name: string, values: readonly number[]) =>
  attribute({ name, type: 7, ints: [...values] });
export const floatAttribute = (name: string, value: number) =>
  attribute({ name, type: AttributeType.FLOAT, f: value });
export const floatsAttribute = (name: string, values: readonly number[]) =>
  attribute({ name, type: 6, floats: [...values] });
export const tensorAttribute = (name: string, value: TensorProto) =>
  attribute({ name, type: AttributeType.TENSOR, t: value });
export const graphAttribute = (name: string, value: GraphProto) =>
  attribute({ name, type: AttributeType.GRAPH, g: value });

/** An int64 tensor (for Constant nodes and initializers). */
export function int64Tensor(
  name: string,
  dims: readonly number[],
  values: readonly number[],
): TensorProto {
  return onnxTypes().tensor.create({
    name,
    dims: [...dims],
    data_type: DataType.INT64,
    int64_data: [...values],
  }) as unknown as TensorProto;
}

/** A string tensor (for Constant nodes and initializers). */
export function stringTensor(
  name: string,
  dims: readonly number[],
  values: readonly string[],
): TensorProto {
  return onnxTypes().tensor.create({
    name,
    dims: [...dims],
    data_type: DataType.STRING,
    string_data: values.map((v) => utf8.encode(v)),
  }) as unknown as TensorProto;
}

export function dimension(d: number | string | undefined): Dimension {
  if (typeof d === 'number') return { dim_value: d };
  if (typeof d === 'string') return { dim_param: d };
  return {};
}

/** tensor(elemType) with the given dims (a string is a symbolic dim, undefined an unknown one). */
export function tensorType(
  elemType: number,
  dims: ReadonlyArray<Dimension | number | string | undefined>,
): TypeProto {
  return onnxTypes().typeProto.fromObject({
    tensor_type: {
      elem_type: elemType,
      shape: { dim: dims.map((d) => (typeof d === 'object' ? d : dimension(d))) },
    },
  }) as unknown as TypeProto;
}

export function valueInfo(name: string, type: TypeProto): ValueInfo {
  return onnxTypes().valueInfo.create({ name, type }) as unknown as ValueInfo;
}

export function tensorValueInfo(
  name: string,
  elemType: number,
  dims: ReadonlyArray<number | string | undefined>,
): ValueInfo {
  return valueInfo(name, tensorType(elemType, dims));
}

/** A type from its JSON form, e.g. `{ sequence_type: { elem_type: { map_type: ... } } }`. */
export function typeFromObject(object: Record<string, unknown>): TypeProto {
  return onnxTypes().typeProto.fromObject(object) as unknown as TypeProto;
}

export interface ModelParts {
  readonly nodes: readonly NodeProto[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly initializers?: readonly TensorProto[];
  readonly valueInfo?: readonly ValueInfo[];
  /** Domain -> version; default `{ '': 17, 'ai.onnx.ml': 3 }`. */
  readonly opsets?: Readonly<Record<string, number>>;
  readonly irVersion?: number;
  readonly name?: string;
}

export function makeModel(parts: ModelParts): ModelProto {
  const { model, graph: graphType, operatorSetId } = onnxTypes();
  const graph: Partial<GraphProto> = {
    node: [...parts.nodes],
    name: parts.name ?? 'graph',
    input: [...parts.inputs],
    output: [...parts.outputs],
    initializer: [...(parts.initializers ?? [])],
    value_info: [...(parts.valueInfo ?? [])],
  };
  const opsets = parts.opsets ?? { '': 17, 'ai.onnx.ml': 3 };
  return model.create({
    ir_version: parts.irVersion ?? 8,
    producer_name: 'create-mlops-service-tests',
    opset_import: Object.entries(opsets).map(([domain, version]) =>
      operatorSetId.create(domain ? { domain, version } : { version }),
    ),
    graph: graphType.create(graph),
  }) as unknown as ModelProto;
}
