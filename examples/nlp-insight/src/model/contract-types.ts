/**
 * What an inference service needs to know about its model: the result of introspection merged
 * with the sidecar. This file is self-contained because it is also copied, as it is, into every
 * generated project as `src/model/contract-types.ts`: the service's validation, OpenAPI, metrics
 * and drift all read the one `ModelContract` the generator wrote.
 */

export const taskKinds = ['binary', 'multiclass', 'regression', 'text-classification'] as const;
export type TaskKind = (typeof taskKinds)[number];

/** Element types the service can feed from JSON (onnxruntime-node's names). */
export type TensorType = 'float32' | 'float64' | 'int64' | 'int32' | 'string';

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

export interface ModelContract {
  readonly name: string;
  readonly version: string;
  readonly task: TaskKind;
  readonly description: string;
  /** sha256 of the model file, hex. */
  readonly sha256: string;
  readonly bytes: number;
  /** `columns`: one graph input per feature; `matrix`: one float input [N, K]. */
  readonly layout: 'columns' | 'matrix';
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly features: readonly Feature[];
  /** Graph output names by role. */
  readonly outputNames: {
    readonly label?: string;
    readonly probabilities?: string;
    readonly prediction?: string;
  };
  /** Class names in probability column order (classification only). */
  readonly labels: readonly string[];
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
}
