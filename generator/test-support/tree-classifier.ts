/**
 * A small binary tree-ensemble classifier laid out as CatBoost's ONNX exporter lays one out
 * (catboost/libs/model/model_export/onnx_helpers.cpp): input "features" float [N, 1], one tree
 * splitting at x > 0.5 (BRANCH_GT, false -> node 1, true -> node 2), post_transform LOGISTIC,
 * nodes without names, a ZipMap over "probability_tensor" to the "probabilities" output, and
 * "label" beside it. Row x <= 0.5 scores -1.5 for class 1, x > 0.5 scores +1.5.
 */
import {
  floatsAttribute,
  intAttribute,
  intsAttribute,
  makeModel,
  makeNode,
  stringAttribute,
  stringsAttribute,
  tensorValueInfo,
  typeFromObject,
  valueInfo,
} from '../model/graph/build.js';
import { DataType, type ModelProto } from '../model/graph/onnx.js';

export interface TreeClassifierOptions {
  /** Class labels: int64 (classlabels_int64s) or strings. */
  readonly labels: readonly number[] | readonly string[];
  /**
   * Which classes each leaf votes for: both (CatBoost: class 0 -v, class 1 +v), or class 1 only
   * (one vote per leaf, as onnxmltools writes LightGBM's binary trees, there for class 0).
   */
  readonly votes?: 'both' | 'one';
  readonly baseValues?: readonly number[];
  /**
   * What computes the "label" output: the tree ensemble itself (default), a Cast of its label, or
   * an ArgMin over the probabilities (a label that names the LEAST probable class).
   */
  readonly label?: 'tree' | 'cast' | 'argmin';
  /**
   * Where the split sends a missing (NaN) value: its false branch (default, CatBoost's nan_mode
   * Min: `nodes_missing_value_tracks_true` 0) or its true branch (1, as XGBoost records a split
   * whose `missing` is its `yes`).
   */
  readonly missingTracksTrue?: boolean;
}

/** Leaf node id -> the score of class 1 there. */
const leafScores: ReadonlyArray<readonly [number, number]> = [
  [1, -1.5],
  [2, 1.5],
];

export function treeClassifier(options: TreeClassifierOptions): ModelProto {
  const labelType = typeof options.labels[0] === 'string' ? DataType.STRING : DataType.INT64;
  const treeLabel = options.label && options.label !== 'tree' ? 'tree_label' : 'label';
  const nodes = [
    makeNode('TreeEnsembleClassifier', ['features'], [treeLabel, 'probability_tensor'], {
      domain: 'ai.onnx.ml',
      attributes: treeAttributes(options),
    }),
    makeNode('ZipMap', ['probability_tensor'], ['probabilities'], {
      domain: 'ai.onnx.ml',
      attributes: [classLabels(options.labels)],
    }),
  ];
  if (options.label === 'cast')
    nodes.push(
      makeNode('Cast', ['tree_label'], ['label'], { attributes: [intAttribute('to', labelType)] }),
    );
  if (options.label === 'argmin') {
    nodes.push(
      makeNode('ArgMin', ['probability_tensor'], ['label'], {
        attributes: [intAttribute('axis', 1), intAttribute('keepdims', 0)],
      }),
    );
  }
  const mapOf = (keyType: number) => ({
    map_type: { key_type: keyType, value_type: { tensor_type: { elem_type: DataType.FLOAT } } },
  });
  return makeModel({
    nodes,
    inputs: [tensorValueInfo('features', DataType.FLOAT, ['N', 1])],
    outputs: [
      tensorValueInfo('label', options.label === 'argmin' ? DataType.INT64 : labelType, ['N']),
      valueInfo(
        'probabilities',
        typeFromObject({ sequence_type: { elem_type: mapOf(labelType) } }),
      ),
    ],
    valueInfo: [tensorValueInfo('probability_tensor', DataType.FLOAT, ['N', 2])],
    opsets:
      options.label === 'cast' || options.label === 'argmin'
        ? { '': 13, 'ai.onnx.ml': 2 }
        : { 'ai.onnx.ml': 2 },
    name: 'CatBoostModel',
  });
}

function classLabels(labels: TreeClassifierOptions['labels']) {
  return typeof labels[0] === 'string'
    ? stringsAttribute('classlabels_strings', labels as string[])
    : intsAttribute('classlabels_int64s', labels as number[]);
}

/** The tree ensemble's attributes, in the order onnx_helpers.cpp adds them. */
function treeAttributes(options: TreeClassifierOptions) {
  const votes = leafScores.flatMap(([leaf, score]) =>
    options.votes === 'one'
      ? [{ leaf, id: 0, weight: score }]
      : [
          { leaf, id: 0, weight: -score },
          { leaf, id: 1, weight: score },
        ],
  );
  return [
    classLabels(options.labels),
    stringAttribute('post_transform', 'LOGISTIC'),
    intsAttribute(
      'class_ids',
      votes.map((v) => v.id),
    ),
    intsAttribute(
      'class_nodeids',
      votes.map((v) => v.leaf),
    ),
    intsAttribute(
      'class_treeids',
      votes.map(() => 0),
    ),
    floatsAttribute(
      'class_weights',
      votes.map((v) => v.weight),
    ),
    ...(options.baseValues ? [floatsAttribute('base_values', options.baseValues)] : []),
    intsAttribute('nodes_falsenodeids', [1, 0, 0]),
    intsAttribute('nodes_featureids', [0, 0, 0]),
    floatsAttribute('nodes_hitrates', [1, 1, 1]),
    intsAttribute('nodes_missing_value_tracks_true', [options.missingTracksTrue ? 1 : 0, 0, 0]),
    stringsAttribute('nodes_modes', ['BRANCH_GT', 'LEAF', 'LEAF']),
    intsAttribute('nodes_nodeids', [0, 1, 2]),
    intsAttribute('nodes_treeids', [0, 0, 0]),
    intsAttribute('nodes_truenodeids', [2, 0, 0]),
    floatsAttribute('nodes_values', [0.5, 0, 0]),
  ];
}
