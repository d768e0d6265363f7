/**
 * Small, provable rewrites of a decoded model. Each returns a new model (the input is not touched)
 * and one plain line per change. Everything else (names, metadata, opsets, doc strings, fields the
 * schema does not know) is kept as it was.
 */
import { makeNode, stringAttribute as localeAttribute, tensorType } from './build.js';
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
 * becomes the float [N, C] tensor of class probabilities (C = the ZipMap's labels, in order).
 */
export function removeZipMaps(model: ModelProto): GraphRewrite {
  if (findZipMaps(model.graph!).length === 0) return { model, rewrites: [] };
  const copy = cloneModel(model);
  const graph = copy.graph!;
  const rewrites: string[] = [];
  for (const zipMap of findZipMaps(graph)) {
    const { fact } = zipMap;
    const batch = batchDimension(graph, fact.input);
    const type = tensorType(DataType.FLOAT, [batch, fact.labels.length]);
    graph.node = graph.node.map((n) => (n === zipMap.node ? identityReplacing(n) : n));
    const retyped = new Set(zipMap.values);
    graph.output = graph.output.map((o) => (retyped.has(o.name ?? '') ? withType(o, type) : o));
    graph.value_info = graph.value_info.map((v) =>
      retyped.has(v.name ?? '') ? withType(v, type) : v,
    );
    const shape = `[${describeDimension(batch)}, ${fact.labels.length}]`;
    for (const output of zipMap.outputs) {
      rewrites.push(
        `ZipMap removed: output "${output}" is now the float ${shape} tensor the ZipMap read, one column per class in the order ${describeLabels(fact.labels)}`,
      );
    }
  }
  if (!copy.opset_import.some((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx')) {
    const opset = onnxTypes().operatorSetId.create({ version: defaultDomainOpset });
    copy.opset_import = [
      ...copy.opset_import,
      opset as unknown as ModelProto['opset_import'][number],
    ];
    rewrites.push(
      `opset import of the default ONNX domain (version ${defaultDomainOpset}) added: the Identity that replaces the ZipMap needs it`,
    );
  }
  return { model: copy, rewrites };
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
