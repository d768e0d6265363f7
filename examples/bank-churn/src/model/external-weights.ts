/**
 * The service serves one self-contained model.onnx: the deploy publishes that one file (checked by
 * its sha256) and the pods fetch it alone. A graph whose weights live in another file (ONNX
 * "external data", which `torch.onnx.export` writes by default since PyTorch 2.9) would load here,
 * where the weights file happens to lie beside it, and fail in the cluster. Such a model is refused
 * when the service or `npm run model:check` loads it, with the one-line fix.
 *
 * Only the fields that say where a tensor's bytes are are decoded (onnx.proto's field numbers):
 * protobufjs skips everything else, the weights included, without copying them.
 */
import protobuf from 'protobufjs';

const schema = `
syntax = "proto2";
message ModelProto { optional GraphProto graph = 7; repeated FunctionProto functions = 25; }
message FunctionProto { repeated NodeProto node = 7; }
message GraphProto {
  repeated NodeProto node = 1;
  repeated TensorProto initializer = 5;
  repeated SparseTensorProto sparse_initializer = 15;
}
message NodeProto { repeated AttributeProto attribute = 5; }
message AttributeProto {
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
  optional SparseTensorProto sparse_tensor = 22;
  repeated SparseTensorProto sparse_tensors = 23;
}
message SparseTensorProto { optional TensorProto values = 1; optional TensorProto indices = 2; }
message TensorProto {
  optional string name = 8;
  repeated StringStringEntryProto external_data = 13;
  optional int32 data_location = 14;
}
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
`;

interface Tensor {
  name?: string;
  external_data?: Array<{ key?: string; value?: string }>;
  data_location?: number;
}
interface Sparse {
  values?: Tensor;
  indices?: Tensor;
}
interface Graph {
  node?: Node[];
  initializer?: Tensor[];
  sparse_initializer?: Sparse[];
}
interface Node {
  attribute?: Array<{
    t?: Tensor;
    g?: Graph;
    tensors?: Tensor[];
    graphs?: Graph[];
    sparse_tensor?: Sparse;
    sparse_tensors?: Sparse[];
  }>;
}
interface Model {
  graph?: Graph;
  functions?: Array<{ node?: Node[] }>;
}

/** TensorProto.DataLocation.EXTERNAL. */
const EXTERNAL = 1;
let modelType: protobuf.Type | undefined;

export interface ExternalWeights {
  /** The files named by the tensors, as the graph names them. */
  readonly files: readonly string[];
  readonly tensors: number;
}

/** The weights a model keeps outside its file; undefined when it keeps them all inside. */
export function externalWeightsOf(bytes: Uint8Array): ExternalWeights | undefined {
  modelType ??= protobuf.parse(schema, { keepCase: true }).root.lookupType('ModelProto');
  let model: Model;
  try {
    model = modelType.decode(bytes) as unknown as Model;
  } catch {
    return undefined; // not protobuf: onnxruntime says so when it loads the file
  }
  const external = tensorsOf(model).filter((t) => t.data_location === EXTERNAL);
  if (external.length === 0) return undefined;
  const files = new Set(
    external.map((t) => t.external_data?.find((e) => e.key === 'location')?.value ?? '(unnamed)'),
  );
  return { files: [...files], tensors: external.length };
}

/** Why the model at `path` cannot be served as one file, with the fix; undefined when it can. */
export function externalWeightsProblem(bytes: Uint8Array, path: string): string | undefined {
  const found = externalWeightsOf(bytes);
  if (!found) return undefined;
  return (
    `${path} keeps the weights of ${found.tensors} tensor${found.tensors === 1 ? '' : 's'} in ${found.files.join(', ')} ` +
    `(ONNX external data), but the service ships and deploys model.onnx alone: read them into the graph ` +
    `(python3 -c "import onnx; onnx.save(onnx.load('${path}'), '${path}')", or export with ` +
    `torch.onnx.export(..., external_data=False)), or run \`npx create-mlops-service upgrade --model <dir>\` for a new champion`
  );
}

function tensorsOf(model: Model): Tensor[] {
  const tensors: Tensor[] = [];
  const sparse = (s: Sparse | undefined) => {
    if (s?.values) tensors.push(s.values);
    if (s?.indices) tensors.push(s.indices);
  };
  const visitNodes = (nodes: Node[] | undefined) => {
    for (const node of nodes ?? []) {
      for (const a of node.attribute ?? []) {
        if (a.t) tensors.push(a.t);
        tensors.push(...(a.tensors ?? []));
        sparse(a.sparse_tensor);
        a.sparse_tensors?.forEach(sparse);
        if (a.g) visitGraph(a.g);
        a.graphs?.forEach(visitGraph);
      }
    }
  };
  const visitGraph = (graph: Graph) => {
    tensors.push(...(graph.initializer ?? []));
    graph.sparse_initializer?.forEach(sparse);
    visitNodes(graph.node);
  };
  if (model.graph) visitGraph(model.graph);
  for (const f of model.functions ?? []) visitNodes(f.node);
  return tensors;
}
