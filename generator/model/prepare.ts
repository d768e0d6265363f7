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
import { removeZipMaps, setStringNormalizerLocale } from './graph/rewrite.js';
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
  if (facts.zipMaps.length > 0) {
    beforeZipMapRemoval = rewrites.length > 0 ? encodeModel(model) : bytes;
    const result = removeZipMaps(model);
    model = result.model;
    rewrites.push(...result.rewrites);
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
    rewrites,
    hints: hintsOf(facts),
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
