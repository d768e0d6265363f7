/**
 * Typed view of the ONNX messages this folder reads and rewrites, as protobufjs decodes them from
 * the vendored `onnx-ml.proto` (field names kept as the schema spells them). Only the fields the
 * generator uses are typed; every other field, known or unknown to the schema, is still carried
 * by the decoded objects and written back unchanged by `encodeModel`.
 */

/** protobufjs decodes int64 as a `Long` (the `long` package) or, for small values, a number. */
export interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
  toNumber(): number;
  toString(): string;
}
export type Int64 = number | LongLike;

export interface OperatorSetId {
  domain?: string;
  version?: Int64;
}

export interface StringStringEntry {
  key?: string;
  value?: string;
}

export interface TensorProto {
  dims: Int64[];
  data_type?: number;
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: Int64[];
  name?: string;
  raw_data?: Uint8Array;
  double_data: number[];
  /** Where the bytes are when `data_location` is EXTERNAL (1): location, offset, length. */
  external_data: StringStringEntry[];
  data_location?: number;
}

export interface Dimension {
  dim_value?: Int64;
  dim_param?: string;
  denotation?: string;
}

export interface TensorShape {
  dim: Dimension[];
}

export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: TensorShape };
  sequence_type?: { elem_type?: TypeProto };
  map_type?: { key_type?: number; value_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
  sparse_tensor_type?: { elem_type?: number; shape?: TensorShape };
  opaque_type?: { domain?: string; name?: string };
  /** The oneof's discriminator, set by protobufjs on decoded messages. */
  value?: string;
  denotation?: string;
}

export interface ValueInfo {
  name?: string;
  type?: TypeProto;
  doc_string?: string;
}

export interface AttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute: AttributeProto[];
  doc_string?: string;
}

export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  sparse_initializer?: Array<{ values?: TensorProto; indices?: TensorProto }>;
  doc_string?: string;
  input: ValueInfo[];
  output: ValueInfo[];
  value_info: ValueInfo[];
}

export interface FunctionProto {
  name?: string;
  domain?: string;
  overload?: string;
  node: NodeProto[];
}

export interface ModelProto {
  ir_version?: Int64;
  opset_import: OperatorSetId[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props: StringStringEntry[];
  functions: FunctionProto[];
}

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, STRING: 8, DOUBLE: 11 } as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  GRAPHS: 10,
} as const;

export function int64ToNumber(v: Int64 | undefined): number {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function int64ToString(v: Int64): string {
  return typeof v === 'number' ? String(v) : v.toString();
}

const utf8 = new TextDecoder('utf-8');
export function bytesToString(b: Uint8Array | undefined): string {
  return b ? utf8.decode(b) : '';
}

export function attributeOf(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function stringsAttribute(node: NodeProto, name: string): string[] | undefined {
  const a = attributeOf(node, name);
  return a && a.strings.length > 0 ? a.strings.map(bytesToString) : undefined;
}

/** An int64 list attribute, as decimal strings (exact beyond 2^53). */
export function intsAttribute(node: NodeProto, name: string): string[] | undefined {
  const a = attributeOf(node, name);
  return a && a.ints.length > 0 ? a.ints.map(int64ToString) : undefined;
}

export function stringAttribute(node: NodeProto, name: string): string | undefined {
  const a = attributeOf(node, name);
  return a && Object.hasOwn(a, 's') ? bytesToString(a.s) : undefined;
}

export function intAttribute(node: NodeProto, name: string): number | undefined {
  const a = attributeOf(node, name);
  return a && Object.hasOwn(a, 'i') ? int64ToNumber(a.i) : undefined;
}

/** A node's name for messages: its own, else the first value it produces. */
export function nodeLabel(node: NodeProto): string {
  return node.name || node.output[0] || node.op_type || '?';
}

/** The value kind of a type: 'tensor', 'sequence', 'map', 'optional', 'sparse tensor', 'opaque'. */
export function typeKind(t: TypeProto | undefined): string | undefined {
  if (!t) return undefined;
  if (t.tensor_type) return 'tensor';
  if (t.sequence_type) return 'sequence';
  if (t.map_type) return 'map';
  if (t.optional_type) return 'optional';
  if (t.sparse_tensor_type) return 'sparse tensor';
  if (t.opaque_type) return 'opaque';
  return undefined;
}
