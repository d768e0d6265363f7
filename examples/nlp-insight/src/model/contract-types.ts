/**
 * What an inference service needs to know about its model: the result of introspection merged
 * with the sidecar. This file is self-contained because it is also copied, as it is, into every
 * generated project as `src/model/contract-types.ts`: the service's validation, OpenAPI, metrics
 * and drift all read the one `ModelContract` the generator wrote.
 */

/**
 * What the service answers. `tensor`: no class or value semantics are known; every output comes
 * back by name, as the graph computes it (deep-learning exports, preprocessing pipelines).
 */
export const taskKinds = [
  'binary',
  'multiclass',
  'regression',
  'text-classification',
  'tensor',
] as const;
export type TaskKind = (typeof taskKinds)[number];

/** Element types a record feature can be fed as (onnxruntime-node's names). */
export type TensorType = 'float32' | 'float64' | 'int64' | 'int32' | 'string';

/** Element types a tensor model's inputs may have (onnxruntime-node's names). */
export const tensorElementTypes = [
  'float32',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'int64',
  'bool',
  'string',
] as const;
export type TensorElementType = (typeof tensorElementTypes)[number];

export interface TensorInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: ReadonlyArray<number | string>;
}

interface FeatureBase {
  readonly name: string;
  readonly description: string;
  /** The graph input that carries the feature. */
  readonly input: string;
  /** Column inside that input: 0 for per-column models, i for a [N, K] matrix. */
  readonly column: number;
  readonly tensorType: TensorType;
}
export interface NumericFeature extends FeatureBase {
  readonly type: 'number' | 'integer';
  readonly min?: number;
  readonly max?: number;
  readonly nullable: boolean;
}
export interface CategoryFeature extends FeatureBase {
  readonly type: 'category';
  /** Empty: any string is accepted (no sidecar to list them). */
  readonly categories: readonly string[];
  readonly nullable: boolean;
}
export interface TextFeature extends FeatureBase {
  readonly type: 'text';
  readonly minLength: number;
  readonly maxLength: number;
}
export type Feature = NumericFeature | CategoryFeature | TextFeature;

/**
 * How requests reach the graph:
 * - `merge`: every input's leading dimension is the same dynamic batch dimension, so rows of
 *   several requests are coalesced into one run (up to MAX_BATCH_SIZE rows);
 * - `fixed`: the graph takes exactly `size` rows per run; rows run in chunks of `size` (the last
 *   chunk padded by repeating its last row, whose results are dropped), never merged beyond it;
 * - `none`: the inputs share no batch dimension (e.g. recurrent state); each request runs alone.
 */
export interface Batching {
  readonly mode: 'merge' | 'fixed' | 'none';
  /** Rows per run for `fixed`. */
  readonly size?: number;
}

/** A slice of live quality: a categorical feature's values, or a numeric feature cut at `edges`. */
export interface SliceSpec {
  readonly feature: string;
  readonly edges?: readonly number[];
}

/**
 * How live quality is measured once ground truth comes back (POST /feedback): the request field
 * that names the entity labels may be keyed by, the slices, the sample size below which a metric is
 * "insufficient", and how far below its training-time value (metrics.json) a metric may fall.
 */
export interface MonitoringSpec {
  readonly entityId?: string;
  readonly slices: readonly SliceSpec[];
  readonly minSamples: number;
  /** Relative: a floor is the training value moved this fraction towards worse. */
  readonly tolerance: number;
}

/** A transformer text classifier's tokenizer: `/predict` takes `{"text": ...}`. */
export interface TokenizerSpec {
  /** `tokenizer.json` beside the model (copied into `model/`). */
  readonly file: string;
  /** `tokenizer_config.json` beside it, when there is one. */
  readonly configFile?: string;
  /** Tokens per text after truncation (the graph's fixed sequence length, or the tokenizer's). */
  readonly maxLength: number;
  /** Pad every text to `maxLength` (the graph's sequence dimension is fixed). */
  readonly padToMax: boolean;
  readonly padId: number;
  /** Graph input names. */
  readonly inputIds: string;
  readonly attentionMask?: string;
  readonly tokenTypeIds?: string;
  /** The logits output [N, C] (`scores: 'logits'`: probabilities are its softmax). */
  readonly logits: string;
}

/**
 * How the class-probability output holds a classifier's scores: the probability of every class
 * (`probabilities`), their `logits` (probabilities are their softmax), or one column for the
 * positive class of a binary model, its probability (`positive-probability`, a sigmoid output) or
 * its logit (`positive-logit`; the other class gets 1 - p).
 */
export const classScoreForms = [
  'probabilities',
  'logits',
  'positive-probability',
  'positive-logit',
] as const;
export type ClassScores = (typeof classScoreForms)[number];

/** Where the served graph came from when the generator rewrote the user's file. */
export interface ModelOrigin {
  /** sha256 of the file the user gave. */
  readonly sha256: string;
  readonly bytes: number;
  /** One line per rewrite, saying what changed and why. */
  readonly rewrites: readonly string[];
  /** What the generator ran to prove the rewrite faithful. */
  readonly verification: string;
}

export interface ModelContract {
  readonly name: string;
  readonly version: string;
  readonly task: TaskKind;
  readonly description: string;
  /** sha256 of the model file, hex. */
  readonly sha256: string;
  readonly bytes: number;
  /**
   * What `/predict` takes: `records` (named features, tabular or one text), `tensors` (named
   * tensors, as the V2 protocol), `text` (one text, tokenized by the service for a transformer).
   */
  readonly kind: 'records' | 'tensors' | 'text';
  /** `columns`: one graph input per feature; `matrix`: one float input [N, K] (records only). */
  readonly layout: 'columns' | 'matrix';
  readonly batching: Batching;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly features: readonly Feature[];
  /** Graph output names by role. */
  readonly outputNames: {
    readonly label?: string;
    readonly probabilities?: string;
    readonly prediction?: string;
  };
  /** Graph outputs that have no role above: `/predict` returns each of them by name. */
  readonly extraOutputs: readonly string[];
  /** Class names in probability column order (classification only). */
  readonly labels: readonly string[];
  /** How the class-probability output holds the scores (classification only). */
  readonly scores?: ClassScores;
  /**
   * A classifier-shaped output that holds no probabilities, and what it holds (decision-function
   * scores, distances): why such a model is served as task `tensor`, every output by name.
   */
  readonly rawScores?: { readonly output: string; readonly holds: string };
  readonly positiveLabel?: string;
  readonly threshold?: number;
  readonly thresholdRationale?: string;
  readonly unknownCategories: 'reject' | 'accept';
  /** Artifact files shipped beside the model in the generated project's `model/` folder. */
  readonly artifacts: {
    readonly driftBaseline?: string;
    readonly background?: string;
    readonly golden?: string;
    readonly metrics?: string;
    readonly modelCard?: string;
    readonly lineage?: string;
  };
  /** Whether a sidecar described the model (otherwise names and ranges are inferred). */
  readonly described: boolean;
  /** Set when the served graph is a rewrite of the user's file (e.g. a ZipMap removed). */
  readonly origin?: ModelOrigin;
  /** Set for `kind: 'text'`. */
  readonly tokenizer?: TokenizerSpec;
  /**
   * Tensor models: a shape per input that the generator ran the model with (dynamic dimensions
   * resolved), used for warm-up, examples and tests.
   */
  readonly exampleShapes?: Readonly<Record<string, readonly number[]>>;
  /** Live quality settings (models with a label or a value to compare: not `tensor`). */
  readonly monitoring?: MonitoringSpec;
}
