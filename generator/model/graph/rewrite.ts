/**
 * Small, provable rewrites of a decoded model. Each returns a new model (the input is not touched)
 * and one plain line per change. Everything else (names, metadata, opsets, doc strings, fields the
 * schema does not know) is kept as it was.
 */
import {
  int64Tensor,
  intAttribute,
  makeNode,
  stringAttribute as localeAttribute,
  stringTensor,
  tensorAttribute,
  tensorType,
} from './build.js';
import { decodeModel, encodeModel } from './decode.js';
import { allNodes, findZipMaps } from './facts.js';
import {
  DataType,
  type Dimension,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TypeProto,
  type ValueInfo,
  attributeOf,
  int64ToNumber,
  nodeLabel,
  stringAttribute,
} from './onnx.js';
import { onnxTypes } from './schema.js';

export interface GraphRewrite {
  readonly model: ModelProto;
  /** One line per change, in plain words. Empty: nothing needed changing (same model back). */
  readonly rewrites: readonly string[];
}

/** Locales onnxruntime finds on any glibc system, the service image included. */
const servedLocales = /^(C|POSIX|C\.utf-?8)$/i;

export function isServedLocale(locale: string | undefined): boolean {
  return locale !== undefined && servedLocales.test(locale);
}

/** Opset of the default domain added when a model has none (Identity exists in every one). */
const defaultDomainOpset = 7;

/**
 * Replaces each ZipMap that produces a graph output with an Identity of its input: the output
 * becomes the [N, C] tensor of class probabilities (C = the ZipMap's labels, in order), float, or
 * double where the ZipMap's output declares double values (skl2onnx's double path).
 */
export function removeZipMaps(model: ModelProto): GraphRewrite {
  if (findZipMaps(model.graph!).length === 0) return { model, rewrites: [] };
  const copy = cloneModel(model);
  const graph = copy.graph!;
  const rewrites: string[] = [];
  for (const zipMap of findZipMaps(graph)) {
    const { fact } = zipMap;
    const batch = batchDimension(graph, fact.input);
    const elem = fact.probabilities === 'double' ? DataType.DOUBLE : DataType.FLOAT;
    const type = tensorType(elem, [batch, fact.labels.length]);
    graph.node = graph.node.map((n) => (n === zipMap.node ? identityReplacing(n) : n));
    const retyped = new Set(zipMap.values);
    graph.output = graph.output.map((o) => (retyped.has(o.name ?? '') ? withType(o, type) : o));
    graph.value_info = graph.value_info.map((v) =>
      retyped.has(v.name ?? '') ? withType(v, type) : v,
    );
    const shape = `[${describeDimension(batch)}, ${fact.labels.length}]`;
    for (const output of zipMap.outputs) {
      rewrites.push(
        `ZipMap removed: output "${output}" is now the ${fact.probabilities} ${shape} tensor the ZipMap read, one column per class in the order ${describeLabels(fact.labels)}${fact.probabilities === 'double' ? ' (onnxruntime cannot load the original: its ZipMap takes float probabilities only, so the removal is proven against the original without its ZipMap)' : ''}`,
      );
    }
  }
  const opset = addDefaultDomain(copy, 'the Identity that replaces the ZipMap needs it');
  return { model: copy, rewrites: opset ? [...rewrites, opset] : rewrites };
}

/**
 * The model without its ZipMaps: each ZipMap node (and the Identity nodes after it) and the graph
 * outputs they produce are dropped, every other output kept. It computes the original's other
 * outputs (the label) with the original's nodes, so it stands in for the original in the removal's
 * proof when onnxruntime cannot load the original because a ZipMap reads double probabilities
 * (ZipMap takes tensor(float) only).
 */
export function withoutZipMaps(model: ModelProto): ModelProto {
  const copy = cloneModel(model);
  const graph = copy.graph!;
  const dropped = new Set<NodeProto>();
  const values = new Set<string>();
  for (const zipMap of findZipMaps(graph)) {
    dropped.add(zipMap.node);
    for (const v of zipMap.values) values.add(v);
  }
  graph.node = graph.node.filter(
    (n) => !dropped.has(n) && !(n.op_type === 'Identity' && values.has(n.output[0] ?? '')),
  );
  graph.output = graph.output.filter((o) => !values.has(o.name ?? ''));
  return copy;
}

/** Adds the default ONNX domain's opset import when the model has none; the line saying so. */
function addDefaultDomain(model: ModelProto, why: string): string | undefined {
  if (model.opset_import.some((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx'))
    return undefined;
  const opset = onnxTypes().operatorSetId.create({ version: defaultDomainOpset });
  model.opset_import = [
    ...model.opset_import,
    opset as unknown as ModelProto['opset_import'][number],
  ];
  return `opset import of the default ONNX domain (version ${defaultDomainOpset}) added: ${why}`;
}

/** A classifier's label output and the probabilities output it is recomputed from. */
export interface LabelSource {
  /** The graph output holding the label. */
  readonly label: string;
  /** The float [N, C] graph output holding the class probabilities, one column per class. */
  readonly probabilities: string;
  /** The class labels, in column order. */
  readonly labels: readonly string[];
  readonly labelType: 'string' | 'int64';
}

/**
 * Recomputes a classifier's label output from its probabilities output: the column of each row's
 * largest probability (ArgMax, the first on a tie, as a probability of exactly 0.5 gives the first
 * class) looked up in the class labels, so the label is always the most probable class. The node
 * that computed the label keeps computing it under a new name that is no graph output. Undefined
 * when that cannot be done safely: another node reads the label, no node of the main graph computes
 * it, the probabilities are no graph output, or an int64 label is not a safe integer.
 */
export function labelFromProbabilities(
  model: ModelProto,
  source: LabelSource,
): GraphRewrite | undefined {
  if (!labelRecomputable(model.graph!, source)) return undefined;
  const { label, probabilities, labels } = source;
  const copy = cloneModel(model);
  const nodes = copy.graph!.node;
  const producer = nodes.findIndex((n) => n.output.includes(label));
  const fresh = freshNames(copy.graph!);
  const exported = fresh(`${label}_as_exported`);
  const classes = fresh(`${label}_classes`);
  const column = fresh(`${label}_column`);
  const computing = nodes[producer]!;
  computing.output = computing.output.map((o) => (o === label ? exported : o));
  const values =
    source.labelType === 'string'
      ? stringTensor(classes, [labels.length], labels)
      : int64Tensor(classes, [labels.length], labels.map(Number));
  const docString =
    'Recomputes the label from the class probabilities (create-mlops-service): the most probable class.';
  copy.graph!.node = [
    ...nodes,
    makeNode('Constant', [], [classes], {
      name: classes,
      attributes: [tensorAttribute('value', values)],
    }),
    makeNode('ArgMax', [probabilities], [column], {
      name: column,
      attributes: [intAttribute('axis', 1), intAttribute('keepdims', 0)],
    }),
    makeNode('Gather', [classes, column], [label], {
      name: fresh(`${label}_from_probabilities`),
      attributes: [intAttribute('axis', 0)],
      docString,
    }),
  ];
  const opset = addDefaultDomain(copy, 'the ArgMax and Gather that recompute the label need it');
  const line = `output "${label}" recomputed from "${probabilities}" as each row's most probable class of ${describeLabels(labels)} (ArgMax, the first on a tie; the exported label is kept as "${exported}", no longer an output)`;
  return { model: copy, rewrites: opset ? [line, opset] : [line] };
}

/** Whether `labelFromProbabilities` can recompute the label (see there), without copying anything. */
export function labelRecomputable(graph: GraphProto, source: LabelSource): boolean {
  const { label, probabilities, labels } = source;
  const computed = graph.node.some((n) => n.output.includes(label));
  const read = graph.node.some((n) => n.input.includes(label));
  const outputs = new Set(graph.output.map((o) => o.name ?? ''));
  const safe =
    source.labelType === 'string' || labels.every((l) => Number.isSafeInteger(Number(l)));
  return computed && !read && outputs.has(label) && outputs.has(probabilities) && safe;
}

/** A generator of names no value or node of `graph` has yet (seed, seed_1, seed_2...). */
function freshNames(graph: GraphProto): (seed: string) => string {
  const taken = new Set<string>([
    ...graph.node.flatMap((n) => [...n.input, ...n.output, n.name ?? '']),
    ...graph.input.map((i) => i.name ?? ''),
    ...graph.output.map((o) => o.name ?? ''),
    ...graph.value_info.map((v) => v.name ?? ''),
    ...graph.initializer.map((t) => t.name ?? ''),
  ]);
  return (seed) => {
    let name = seed;
    for (let i = 1; taken.has(name); i++) name = `${seed}_${i}`;
    taken.add(name);
    return name;
  };
}

/**
 * Sets `locale` on every StringNormalizer (main graph, subgraphs, local functions) whose own
 * locale is missing or one the service image lacks. Without the attribute onnxruntime asks the
 * system for en_US.UTF-8 (Linux), which slim images do not have, and the model fails to load.
 */
export function setStringNormalizerLocale(model: ModelProto, locale: string): GraphRewrite {
  const lacking = (n: NodeProto) =>
    n.op_type === 'StringNormalizer' && !isServedLocale(stringAttribute(n, 'locale'));
  if (![...allNodes(model)].some(lacking)) return { model, rewrites: [] };
  const copy = cloneModel(model);
  const rewrites: string[] = [];
  for (const node of allNodes(copy)) {
    if (!lacking(node)) continue;
    const was = stringAttribute(node, 'locale');
    const replacement = localeAttribute('locale', locale);
    node.attribute = attributeOf(node, 'locale')
      ? node.attribute.map((a) => (a.name === 'locale' ? replacement : a))
      : [...node.attribute, replacement];
    rewrites.push(
      was === undefined
        ? `StringNormalizer "${nodeLabel(node)}": locale set to "${locale}" (it named none, so onnxruntime would load en_US.UTF-8, which the service image does not have)`
        : `StringNormalizer "${nodeLabel(node)}": locale "${was}" replaced by "${locale}" (the service image does not have "${was}")`,
    );
  }
  return { model: copy, rewrites };
}

/** An independent copy (encode + decode): rewrites mutate it, never the caller's model. */
function cloneModel(model: ModelProto): ModelProto {
  return decodeModel(encodeModel(model), 'the rewritten model');
}

function identityReplacing(zipMap: NodeProto): NodeProto {
  return makeNode('Identity', [zipMap.input[0]!], [zipMap.output[0]!], {
    ...(zipMap.name ? { name: zipMap.name } : {}),
    docString:
      'Replaces a ZipMap (create-mlops-service): passes the [N, C] class probabilities through.',
  });
}

function withType(v: ValueInfo, type: TypeProto): ValueInfo {
  v.type = type;
  return v;
}

/**
 * The batch dimension of the probabilities: the ZipMap input's declared one; else the graph
 * input's (rows in = rows out; an unknown one stays unknown), else the classifier's label output.
 * The label output comes last because exporters declare it wrongly (onnxmltools writes [1]).
 */
function batchDimension(graph: GraphProto, zipMapInput: string): Dimension {
  const firstDim = (v: ValueInfo | undefined) => v?.type?.tensor_type?.shape?.dim[0];
  const declared = [...graph.value_info, ...graph.output].find((v) => v.name === zipMapInput);
  const fromZipMapInput = knownDimension(firstDim(declared));
  if (fromZipMapInput) return fromZipMapInput;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const input = graph.input.find((i) => !initializers.has(i.name) && i.type?.tensor_type?.shape);
  if (input) return knownDimension(firstDim(input)) ?? {};
  const labelOutputs = new Set(
    graph.node
      .filter((n) => n.attribute.some((a) => a.name?.startsWith('classlabels_')))
      .flatMap((n) => n.output),
  );
  return knownDimension(firstDim(graph.output.find((o) => labelOutputs.has(o.name ?? '')))) ?? {};
}

function knownDimension(d: Dimension | undefined): Dimension | undefined {
  if (d && Object.hasOwn(d, 'dim_value')) return { dim_value: int64ToNumber(d.dim_value) };
  if (d && d.dim_param) return { dim_param: d.dim_param };
  return undefined;
}

function describeDimension(d: Dimension): string {
  if (Object.hasOwn(d, 'dim_value')) return String(int64ToNumber(d.dim_value));
  return d.dim_param || 'N';
}

function describeLabels(labels: readonly string[]): string {
  const plain = labels.every((l) => l !== '' && !/[,"]|^\s|\s$/.test(l));
  return plain ? labels.join(', ') : labels.map((l) => JSON.stringify(l)).join(', ');
}
