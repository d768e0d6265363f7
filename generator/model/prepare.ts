/**
 * The graph as the user's tool wrote it -> the graph the service will serve. Refuses what cannot be
 * served (not a model, custom operators, sequence or map outputs other than a ZipMap, locales the
 * runtime image lacks, weights files it cannot read) with one line naming the problem and the fix,
 * and rewrites what can be served after a small, provable change (external weights read into the
 * graph, a ZipMap removed, a missing StringNormalizer locale set).
 */
import { UserError } from '../errors.js';
import { decodeModel, detectNotAModel, encodeModel } from './graph/decode.js';
import {
  type InlinedWeights,
  describeInlining,
  inlineExternalData,
} from './graph/external-data.js';
import { type GraphFacts, readGraphFacts } from './graph/facts.js';
import { DataType, type ModelProto } from './graph/onnx.js';
import {
  type LabelSource,
  labelFromProbabilities,
  labelRecomputable,
  removeZipMaps,
  withoutZipMaps,
  setStringNormalizerLocale,
} from './graph/rewrite.js';
import type { GraphHints } from './features.js';

/** The locale the generated image (Debian, node:*-slim) and this runtime both have. */
export const servedLocale = 'C.UTF-8';
/** Locales whose case mapping C.UTF-8 reproduces for the text models exporters write. */
const replaceableLocale = /^(|en_US(\.utf-?8)?|en(_[A-Z]{2})?(\.utf-?8)?)$/i;
const availableLocale = /^(C|POSIX|C\.utf-?8)$/i;

export interface PreparedGraph {
  /** The bytes the project ships and the service loads. */
  readonly served: Uint8Array;
  /** The original with every rewrite but the ZipMap removal (to prove that one), if removed. */
  readonly beforeZipMapRemoval?: Uint8Array;
  /** The weights read from files beside the model, and the model with only that change (to prove it). */
  readonly inlined?: InlinedWeights & { readonly served: Uint8Array };
  readonly rewrites: readonly string[];
  readonly hints: GraphHints;
  /**
   * A binary classifier whose ZipMap was removed, with its label output recomputed from its
   * probabilities: what is served instead when onnxruntime's label disagrees with them.
   */
  readonly relabel?: Relabel;
  /** The served graph's label output is the one recomputed from the probabilities (`relabel`). */
  readonly labelRecomputed?: boolean;
}

export interface Relabel {
  /** The label and class probabilities outputs, and the labels in column order. */
  readonly source: LabelSource;
  /** The served model (its ZipMap removed), to recompute the label in. */
  readonly model: ModelProto;
  /**
   * Why onnxruntime's own label is wrong for this graph whatever the rows (a binary tree ensemble
   * labelled by class index); undefined when only running it can tell.
   */
  readonly knownWrong?: string;
}

export async function prepareGraph(bytes: Uint8Array, path: string): Promise<PreparedGraph> {
  detectNotAModel(bytes, path);
  let model = decodeModel(bytes, path);
  const facts = readGraphFacts(model);
  refuseUnservable(path, facts);
  const rewrites: string[] = [];
  const weights = await inlineExternalData(model, path, bytes.byteLength, (m) =>
    decodeModel(encodeModel(m), path),
  );
  let inlined: PreparedGraph['inlined'];
  if (weights) {
    model = weights.model;
    inlined = { ...weights, served: encodeModel(model) };
    rewrites.push(describeInlining(weights));
  }
  const lacking = facts.stringNormalizers.filter((s) => !availableLocale.test(s.locale ?? ''));
  if (lacking.length > 0) {
    const foreign = lacking.find((s) => !replaceableLocale.test(s.locale ?? ''));
    if (foreign) {
      throw new UserError(
        `${path}: StringNormalizer "${foreign.name}" uses locale "${foreign.locale}", which the service image does not have: re-export with locale "${servedLocale}", or add that locale to the Dockerfile and to this machine`,
      );
    }
    const result = setStringNormalizerLocale(model, servedLocale);
    model = result.model;
    rewrites.push(...result.rewrites);
  }
  let beforeZipMapRemoval: Uint8Array | undefined;
  let relabel: Relabel | undefined;
  if (facts.zipMaps.length > 0) {
    // onnxruntime refuses a ZipMap reading double probabilities (skl2onnx's double path writes
    // one): the removal is then proven against the original without its ZipMap (its own label).
    const doubleZipMap = facts.zipMaps.some((z) => z.probabilities === 'double');
    beforeZipMapRemoval = doubleZipMap
      ? encodeModel(withoutZipMaps(model))
      : rewrites.length > 0
        ? encodeModel(model)
        : bytes;
    const result = removeZipMaps(model);
    model = result.model;
    rewrites.push(...result.rewrites);
    relabel = binaryRelabel(model, facts);
  }
  return {
    served:
      inlined && model === weights?.model
        ? inlined.served
        : rewrites.length > 0
          ? encodeModel(model)
          : bytes,
    ...(beforeZipMapRemoval ? { beforeZipMapRemoval } : {}),
    ...(inlined ? { inlined } : {}),
    ...(relabel ? { relabel } : {}),
    rewrites,
    hints: hintsOf(facts),
  };
}

/**
 * The graph served with its label recomputed from the probabilities, and the lineage saying why:
 * `why` is what showed onnxruntime's own label to be wrong.
 */
export function withRecomputedLabel(graph: PreparedGraph, why: string): PreparedGraph {
  const { relabel, ...rest } = graph;
  const result = relabel && labelFromProbabilities(relabel.model, relabel.source);
  if (!result) throw new Error('withRecomputedLabel: the graph has no label to recompute');
  const [line, ...more] = result.rewrites;
  return {
    ...rest,
    served: encodeModel(result.model),
    rewrites: [...rest.rewrites, `${line}: ${why}`, ...more],
    labelRecomputed: true,
  };
}

/**
 * A binary classifier (its ZipMap removed) whose label output can be recomputed from the
 * probabilities the ZipMap read, in case onnxruntime's label disagrees with them. The label output
 * is the one tensor beside the probabilities of the labels' type (int64 or strings).
 */
function binaryRelabel(model: ModelProto, facts: GraphFacts): Relabel | undefined {
  const [zipMap, ...others] = facts.zipMaps;
  if (!zipMap || others.length > 0 || zipMap.labels.length !== 2) return undefined;
  const labelElem = zipMap.labelType === 'string' ? DataType.STRING : DataType.INT64;
  const labelled = model.graph!.output.filter(
    (o) => o.name !== zipMap.output && o.type?.tensor_type?.elem_type === labelElem,
  );
  const label = labelled.length === 1 ? labelled[0]!.name : undefined;
  if (!label) return undefined;
  const { labels, labelType } = zipMap;
  const source = { label, probabilities: zipMap.output, labels, labelType };
  if (!labelRecomputable(model.graph!, source)) return undefined;
  const byIndex = facts.binaryTreeVotes.find(
    (t) =>
      t.labelOutputs.includes(label) &&
      t.labelType === 'int64' &&
      (t.labels[0] !== '0' || t.labels[1] !== '1'),
  );
  return {
    source,
    model,
    ...(byIndex
      ? {
          knownWrong: `onnxruntime labels the rows of the binary TreeEnsembleClassifier ${byIndex.node} (leaves voting for both classes) by class index, 1 or 0, not by its labels ${byIndex.labels.join(', ')}`,
        }
      : {}),
  };
}

function refuseUnservable(path: string, facts: GraphFacts): void {
  const custom = facts.customOps[0];
  if (custom) {
    throw new UserError(
      `${path}: the graph uses the custom operator ${custom.opType} of domain "${custom.domain}", which onnxruntime-node does not ship: re-export with standard ONNX operators (or serve it with a runtime that registers that op library)`,
    );
  }
  const other = facts.nonTensorOutputs.find((o) => !o.fromZipMap);
  if (other) {
    throw new UserError(
      `${path}: output "${other.name}" is a ${other.kind}, which onnxruntime-node cannot return: re-export so that every output is a tensor`,
    );
  }
  const misadded = facts.binaryTreeVotes.find((t) => t.baseValues.length === 2);
  if (misadded) {
    const values = misadded.baseValues.map((v) => Number(v.toPrecision(6))).join(', ');
    throw new UserError(
      `${path}: the binary TreeEnsembleClassifier ${misadded.node} has base_values [${values}] and leaves voting for both classes, which onnxruntime adds wrongly (class 1's score becomes base_values[1] plus class 0's score, its own votes ignored), so every probability it answered would be wrong: re-export without base_values (CatBoost: train with boost_from_average=False)`,
    );
  }
}

function hintsOf(facts: GraphFacts): GraphHints {
  const labels = facts.zipMaps[0]?.labels ?? facts.classifierLabels;
  return {
    categories: (input, column) => facts.categories.get(input)?.get(column),
    nullable: (input, column) => facts.nullable.get(input)?.has(column) ?? false,
    ...(labels ? { labels } : {}),
    classifier: facts.zipMaps.length > 0 || facts.classifierLabels !== undefined,
    producer: (output) => facts.outputProducers.get(output),
    rawScores: (output) => facts.rawScores.get(output),
  };
}
