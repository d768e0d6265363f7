/**
 * What a graph states about serving it, read from the graph alone: operators onnxruntime lacks,
 * ZipMaps, class labels, the categories encoders apply to each input column, the columns an
 * imputer or a tree ensemble routing missing values treats as missing, StringNormalizer locales,
 * outputs that are not tensors, and binary tree ensembles onnxruntime answers for by class index.
 */
import {
  type FunctionProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  DataType,
  attributeOf,
  bytesToString,
  int64ToNumber,
  int64ToString,
  intsAttribute,
  nodeLabel,
  stringAttribute,
  stringsAttribute,
  typeKind,
} from './onnx.js';
import { ColumnTracer, type Column } from './trace.js';

/** Operator domains onnxruntime(-node) implements. */
export const runtimeDomains: ReadonlySet<string> = new Set([
  '',
  'ai.onnx',
  'ai.onnx.ml',
  'com.microsoft',
  'com.microsoft.nchwc',
  'ai.onnx.preview.training',
]);

export interface ZipMapFact {
  /** The graph output the ZipMap produces (directly or through Identity nodes). */
  readonly output: string;
  /** The [N, C] tensor the ZipMap reads. */
  readonly input: string;
  readonly labels: readonly string[];
  readonly labelType: 'string' | 'int64';
  /**
   * The probabilities' element type, as the ZipMap's output declares its map values: 'double'
   * for skl2onnx's double path (an input declared DoubleTensorType), which onnxruntime refuses to
   * load (ZipMap takes tensor(float) only); else 'float'.
   */
  readonly probabilities: 'float' | 'double';
  /** The ZipMap node's name (or its output when unnamed). */
  readonly node: string;
}

export interface StringNormalizerFact {
  readonly name: string;
  /** The `locale` attribute; undefined when the node has none. */
  readonly locale: string | undefined;
  readonly caseChangeAction: string;
}

export interface NonTensorOutput {
  readonly name: string;
  readonly kind: 'sequence' | 'map' | 'optional' | 'sparse tensor' | 'opaque';
  /** A ZipMap produces it, so `removeZipMaps` makes it a tensor. */
  readonly fromZipMap: boolean;
}

/**
 * A binary TreeEnsembleClassifier whose leaves vote for both classes, as CatBoost writes every
 * binary model (class 0: -v, class 1: +v, post_transform LOGISTIC). onnxruntime computes such a
 * node's probabilities right, but (tree_ensemble_aggregator.h, `binary_case_` false) its label is
 * the class index, 1 when the class-1 score is positive and 0 otherwise, whatever its class
 * labels; and with two base_values it takes class 1's score to be base_values[1] plus class 0's
 * score, ignoring class 1's votes.
 */
export interface BinaryTreeVotes {
  /** The node's name, or the values it computes when it has none (CatBoost names no node). */
  readonly node: string;
  /** Graph outputs holding its label (its first output, directly or through Identity and Cast). */
  readonly labelOutputs: readonly string[];
  readonly labels: readonly string[];
  readonly labelType: 'string' | 'int64';
  /** `base_values`; empty when the node has none. */
  readonly baseValues: readonly number[];
}

export interface GraphFacts {
  readonly opsetImports: ReadonlyArray<{ readonly domain: string; readonly version: number }>;
  /** Operators of domains onnxruntime does not implement (model-local functions excepted). */
  readonly customOps: ReadonlyArray<{ readonly opType: string; readonly domain: string }>;
  readonly zipMaps: readonly ZipMapFact[];
  /** Labels a classifier node states, in probability column order; undefined when none does. */
  readonly classifierLabels: readonly string[] | undefined;
  /** Graph input -> column -> the categories an encoder applies to it. */
  readonly categories: ReadonlyMap<string, ReadonlyMap<number, readonly string[]>>;
  /**
   * Graph input -> columns an imputer (NaN replaced), IsNaN or a tree ensemble that routes
   * missing values (see `routesMissingValues`) reads.
   */
  readonly nullable: ReadonlyMap<string, ReadonlySet<number>>;
  readonly stringNormalizers: readonly StringNormalizerFact[];
  readonly nonTensorOutputs: readonly NonTensorOutput[];
  /**
   * Graph output -> the operator that computes it, looking through Identity and Cast (`Softmax`,
   * `Sigmoid`, `Gemm`...): whether a classifier's scores are probabilities or logits. Absent for an
   * output that is a graph input or an initializer.
   */
  readonly outputProducers: ReadonlyMap<string, string>;
  /**
   * Graph output -> what its numbers are, when a classifier-shaped output holds no probabilities:
   * decision-function scores (skl2onnx's LinearSVC, SVC without probability=True, SGDClassifier's
   * default hinge loss) or distances to cluster centres (KMeans). See `rawScoresOf`.
   */
  readonly rawScores: ReadonlyMap<string, string>;
  /** Binary TreeEnsembleClassifiers whose leaves vote for both classes (see `BinaryTreeVotes`). */
  readonly binaryTreeVotes: readonly BinaryTreeVotes[];
}

export function readGraphFacts(model: ModelProto): GraphFacts {
  const graph = model.graph!;
  const tracer = new ColumnTracer(graph);
  const found = findZipMaps(graph);
  const zipMapOutputs = new Set(found.flatMap((z) => z.outputs));
  const nodes = [...allNodes(model)];
  return {
    opsetImports: model.opset_import.map((o) => ({
      domain: o.domain ?? '',
      version: int64ToNumber(o.version),
    })),
    customOps: customOps(nodes, model.functions),
    zipMaps: found.map((z) => z.fact),
    classifierLabels: classifierLabels(graph),
    categories: categoriesByColumn(graph, tracer),
    nullable: nullableColumns(graph, tracer),
    stringNormalizers: nodes
      .filter((n) => n.op_type === 'StringNormalizer')
      .map((n) => ({
        name: nodeLabel(n),
        locale: stringAttribute(n, 'locale'),
        caseChangeAction: stringAttribute(n, 'case_change_action') ?? 'NONE',
      })),
    outputProducers: outputProducers(graph),
    rawScores: rawScoresOf(graph),
    binaryTreeVotes: binaryTreeVotes(graph),
    nonTensorOutputs: graph.output.flatMap((o) => {
      const kind = typeKind(o.type);
      if (!kind || kind === 'tensor') return [];
      return [
        {
          name: o.name ?? '',
          kind: kind as NonTensorOutput['kind'],
          fromZipMap: zipMapOutputs.has(o.name ?? ''),
        },
      ];
    }),
  };
}

/** The main graph's binary TreeEnsembleClassifiers whose leaves vote for both classes. */
export function binaryTreeVotes(graph: GraphProto): BinaryTreeVotes[] {
  const producer = producersOf(graph);
  return graph.node.flatMap((node) => {
    if (node.op_type !== 'TreeEnsembleClassifier' || node.domain !== 'ai.onnx.ml') return [];
    const strings = stringsAttribute(node, 'classlabels_strings');
    const labels = strings ?? intsAttribute(node, 'classlabels_int64s') ?? [];
    const votedFor = new Set(attributeOf(node, 'class_ids')?.ints.map(int64ToNumber));
    const label = node.output[0];
    if (labels.length !== 2 || votedFor.size < 2 || !label) return [];
    return [
      {
        node: node.name || `computing "${node.output.join('", "')}"`,
        labelOutputs: graph.output
          .map((o) => o.name ?? '')
          .filter((o) => traceBack(producer, o, passThrough).value === label),
        labels,
        labelType: strings ? 'string' : 'int64',
        baseValues: attributeOf(node, 'base_values')?.floats ?? [],
      },
    ];
  });
}

/** Value name -> the node of the main graph that computes it. */
function producersOf(graph: GraphProto): Map<string, NodeProto> {
  const producer = new Map<string, NodeProto>();
  for (const node of graph.node) for (const out of node.output) producer.set(out, node);
  return producer;
}

/**
 * Where `value` comes from, walking back through the operators in `through` (each by its first
 * input; Concat by its last, the positive column of skl2onnx's `[-s, s]` and `[1 - p, p]`): the
 * value reached and the node that computes it.
 */
function traceBack(
  producer: ReadonlyMap<string, NodeProto>,
  value: string,
  through: ReadonlySet<string>,
): { readonly value: string; readonly node: NodeProto | undefined } {
  let from = value;
  let node = producer.get(from);
  for (let hops = 0; node && through.has(node.op_type ?? '') && hops < 32; hops++) {
    from = (node.op_type === 'Concat' ? node.input[node.input.length - 1] : node.input[0]) ?? '';
    node = producer.get(from);
  }
  return { value: from, node };
}

/** The node that computes `value`, walking back through the operators in `through`. */
function sourceOf(
  producer: ReadonlyMap<string, NodeProto>,
  value: string,
  through: ReadonlySet<string>,
): NodeProto | undefined {
  return traceBack(producer, value, through).node;
}

function outputProducers(graph: GraphProto): Map<string, string> {
  const producer = producersOf(graph);
  const producers = new Map<string, string>();
  for (const o of graph.output) {
    const node = sourceOf(producer, o.name ?? '', passThrough);
    if (node?.op_type) producers.set(o.name ?? '', node.op_type);
  }
  return producers;
}

/** Operators that pass a tensor's values on unchanged (or only re-typed). */
const passThrough: ReadonlySet<string> = new Set(['Identity', 'Cast']);

/** Operators that move, select, re-type or negate scores without making them something else. */
const carriesScores: ReadonlySet<string> = new Set([
  'Identity',
  'Cast',
  'ZipMap',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'ArrayFeatureExtractor',
  'Neg',
  'Mul',
  'Concat',
]);

/** Linear operators: in a scikit-learn graph, the classifier's decision function itself. */
const linearOperators: ReadonlySet<string> = new Set(['Add', 'MatMul', 'Gemm']);

/**
 * Outputs whose numbers are not probabilities although they sit where a classifier's
 * probabilities do, by what computes them (walking back through `carriesScores`):
 * - a LinearClassifier with post_transform NONE (skl2onnx: LinearSVC, RidgeClassifier, Perceptron);
 * - an SVMClassifier with post_transform NONE and no `prob_a` (an SVC fitted without
 *   probability=True, scikit-learn's default);
 * - in a graph using the ai.onnx.ml domain (a scikit-learn export), a linear operator: the decision
 *   function (SGDClassifier's default hinge loss) or the one-vs-rest votes of an SVC;
 * - an SVMRegressor: the decision function of an outlier detector (OneClassSVM) when a label
 *   output sits beside it (an SVR has none, and is never read through this map);
 * - a Sqrt: distances to cluster centres (KMeans).
 * A network's bare logits (Gemm/MatMul in a graph without ai.onnx.ml) are not listed: a softmax
 * turns them into the probabilities they were trained as (see the contract's `scores`).
 */
export function rawScoresOf(graph: GraphProto): Map<string, string> {
  const producer = producersOf(graph);
  const sklearn = graph.node.some((n) => n.domain === 'ai.onnx.ml');
  const raw = new Map<string, string>();
  for (const o of graph.output) {
    const node = sourceOf(producer, o.name ?? '', carriesScores);
    const reason = node ? rawScoreReason(node, sklearn) : undefined;
    if (reason) raw.set(o.name ?? '', reason);
  }
  return raw;
}

function rawScoreReason(node: NodeProto, sklearn: boolean): string | undefined {
  const op = node.op_type ?? '';
  const transform = stringAttribute(node, 'post_transform') ?? 'NONE';
  if (op === 'LinearClassifier' && transform === 'NONE')
    return 'decision-function scores (a LinearClassifier without post_transform, as skl2onnx exports LinearSVC, RidgeClassifier and Perceptron)';
  if (op === 'SVMClassifier' && transform === 'NONE' && !attributeOf(node, 'prob_a')?.floats.length)
    return 'decision-function scores (an SVMClassifier without prob_a, as skl2onnx exports an SVC fitted without probability=True)';
  if (op === 'SVMRegressor')
    return 'decision-function scores (an SVMRegressor beside a label, as skl2onnx exports OneClassSVM)';
  if (op === 'Sqrt') return 'distances to cluster centres (as skl2onnx exports KMeans)';
  if (sklearn && linearOperators.has(op))
    return "decision-function scores (a linear function, as skl2onnx exports SGDClassifier's default hinge loss)";
  return undefined;
}

/** Every node of the model: the main graph, its subgraphs (If, Loop, Scan) and local functions. */
export function* allNodes(model: ModelProto): Generator<NodeProto> {
  if (model.graph) yield* graphNodes(model.graph);
  for (const f of model.functions) for (const n of f.node) yield* nodeAndSubgraphs(n);
}

function* graphNodes(graph: GraphProto): Generator<NodeProto> {
  for (const node of graph.node) yield* nodeAndSubgraphs(node);
}

function* nodeAndSubgraphs(node: NodeProto): Generator<NodeProto> {
  yield node;
  for (const a of node.attribute) {
    if (a.g) yield* graphNodes(a.g);
    for (const g of a.graphs) yield* graphNodes(g);
  }
}

function customOps(nodes: readonly NodeProto[], functions: readonly FunctionProto[]) {
  const local = new Set(functions.map((f) => `${f.domain ?? ''}\0${f.name ?? ''}`));
  const seen = new Map<string, { opType: string; domain: string }>();
  for (const n of nodes) {
    const domain = n.domain ?? '';
    const opType = n.op_type ?? '';
    const key = `${domain}\0${opType}`;
    if (runtimeDomains.has(domain) || local.has(key) || seen.has(key)) continue;
    seen.set(key, { opType, domain });
  }
  return [...seen.values()];
}

export interface FoundZipMap {
  readonly node: NodeProto;
  readonly fact: ZipMapFact;
  /** Graph outputs it produces (its own output, or through Identity nodes). */
  readonly outputs: readonly string[];
  /** Its output and every Identity output on the way to the graph outputs. */
  readonly values: readonly string[];
}

/** ZipMaps whose result only reaches graph outputs (directly or through Identity nodes). */
export function findZipMaps(graph: GraphProto): FoundZipMap[] {
  const consumers = new Map<string, NodeProto[]>();
  for (const n of graph.node)
    for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphOutputs = new Set(graph.output.map((o) => o.name ?? ''));
  const found: FoundZipMap[] = [];
  for (const node of graph.node) {
    if (
      node.op_type !== 'ZipMap' ||
      node.domain !== 'ai.onnx.ml' ||
      !node.input[0] ||
      !node.output[0]
    )
      continue;
    const values: string[] = [];
    if (!identityChain(node.output[0], consumers, values)) continue;
    const outputs = values.filter((v) => graphOutputs.has(v));
    const strings = stringsAttribute(node, 'classlabels_strings');
    const labels = strings ?? intsAttribute(node, 'classlabels_int64s') ?? [];
    if (outputs.length === 0 || labels.length === 0) continue;
    const declared = graph.output.find((o) => o.name === outputs[0]);
    const mapValue = declared?.type?.sequence_type?.elem_type?.map_type?.value_type;
    const probabilities =
      mapValue?.tensor_type?.elem_type === DataType.DOUBLE
        ? ('double' as const)
        : ('float' as const);
    found.push({
      node,
      outputs,
      values,
      fact: {
        output: outputs[0]!,
        input: node.input[0],
        labels,
        labelType: strings ? 'string' : 'int64',
        probabilities,
        node: nodeLabel(node),
      },
    });
  }
  return found;
}

/** Collects `value` and the Identity outputs it flows into; false if anything else reads them. */
function identityChain(
  value: string,
  consumers: ReadonlyMap<string, NodeProto[]>,
  into: string[],
): boolean {
  into.push(value);
  for (const c of consumers.get(value) ?? []) {
    const isIdentity = c.op_type === 'Identity' && (c.domain ?? '') === '' && c.output[0];
    if (!isIdentity || !identityChain(c.output[0]!, consumers, into)) return false;
  }
  return true;
}

const classifierLabelAttributes = ['classlabels_strings', 'classlabels_int64s', 'classlabels_ints'];

/** The labels the first classifier node states (TreeEnsemble/Linear/SVM classifiers and others). */
export function classifierLabels(graph: GraphProto): string[] | undefined {
  for (const node of graph.node) {
    for (const name of classifierLabelAttributes) {
      const a = attributeOf(node, name);
      if (a && a.strings.length > 0) return a.strings.map(bytesToString);
      if (a && a.ints.length > 0) return a.ints.map(int64ToString);
    }
  }
  return undefined;
}

type ColumnMap<T> = Map<string, Map<number, T>>;

function categoriesByColumn(graph: GraphProto, tracer: ColumnTracer) {
  const elemTypes = new Map(graph.input.map((i) => [i.name ?? '', i.type?.tensor_type?.elem_type]));
  const result: ColumnMap<string[]> = new Map();
  for (const node of graph.node) {
    if (node.domain !== 'ai.onnx.ml' || !node.input[0]) continue;
    const columns = tracer.columnsOf(node.input[0]);
    if (!columns || columns.length === 0) continue;
    const categories = encoderCategories(node, elemTypes.get(columns[0]!.input));
    if (!categories) continue;
    for (const c of columns) addCategories(result, c, categories);
  }
  return result;
}

/** The categories an encoder node matches its input against; undefined for other nodes. */
function encoderCategories(
  node: NodeProto,
  inputElemType: number | undefined,
): string[] | undefined {
  const strings = (name: string) => stringsAttribute(node, name);
  const ints = (name: string) => intsAttribute(node, name);
  switch (node.op_type) {
    case 'OneHotEncoder':
      return strings('cats_strings') ?? ints('cats_int64s');
    case 'LabelEncoder':
      return strings('keys_strings') ?? ints('keys_int64s') ?? keysTensor(node);
    case 'CategoryMapper':
      return inputElemType === DataType.INT64 ? ints('cats_int64s') : strings('cats_strings');
    default:
      return undefined;
  }
}

/** LabelEncoder (ai.onnx.ml 4) keys given as a tensor. */
function keysTensor(node: NodeProto): string[] | undefined {
  const t = attributeOf(node, 'keys_tensor')?.t;
  if (!t) return undefined;
  if (t.data_type === DataType.STRING && t.string_data.length > 0)
    return t.string_data.map(bytesToString);
  if (t.data_type === DataType.INT64 && t.int64_data.length > 0)
    return t.int64_data.map(int64ToString);
  return undefined;
}

function addCategories(
  result: ColumnMap<string[]>,
  c: Column,
  categories: readonly string[],
): void {
  const byColumn = result.get(c.input) ?? new Map<number, string[]>();
  result.set(c.input, byColumn);
  const known = byColumn.get(c.column) ?? [];
  byColumn.set(c.column, [...known, ...categories.filter((x) => !known.includes(x))]);
}

function nullableColumns(graph: GraphProto, tracer: ColumnTracer) {
  const result = new Map<string, Set<number>>();
  for (const node of graph.node) {
    if (!node.input[0] || !readsMissingValues(node)) continue;
    for (const c of tracer.columnsOf(node.input[0]) ?? []) {
      const set = result.get(c.input) ?? new Set<number>();
      result.set(c.input, set.add(c.column));
    }
  }
  return result;
}

/**
 * An Imputer replacing NaN, an IsNaN test, or a tree ensemble that routes missing values: the
 * graph handles a missing (NaN) value.
 */
function readsMissingValues(node: NodeProto): boolean {
  if (node.op_type === 'IsNaN' && (node.domain ?? '') === '') return true;
  if (routesMissingValues(node)) return true;
  if (node.op_type !== 'Imputer' || node.domain !== 'ai.onnx.ml') return false;
  const replaced = attributeOf(node, 'replaced_value_float');
  return replaced !== undefined && Number.isNaN(replaced.f);
}

const treeEnsembles = new Set(['TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'TreeEnsemble']);

/**
 * A tree ensemble (ai.onnx.ml) some of whose splits send a missing (NaN) value to their true
 * branch (`nodes_missing_value_tracks_true` 1): its exporter wrote the direction the trainer
 * chose for missing values at each split (XGBoost's `missing`, LightGBM's `default_left`), the
 * others taking their false branch, as the trainer's own predict does for NaN in any feature.
 * With none set (CatBoost's default nan_mode Min, skl2onnx's forests) the graph says nothing:
 * NaN would take every false branch, which the trainer may never have meant.
 */
function routesMissingValues(node: NodeProto): boolean {
  if (node.domain !== 'ai.onnx.ml' || !treeEnsembles.has(node.op_type ?? '')) return false;
  return (intsAttribute(node, 'nodes_missing_value_tracks_true') ?? []).some((v) => v !== '0');
}
