import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../version.js';
import {
  floatAttribute,
  floatsAttribute,
  graphAttribute,
  int64Tensor,
  intAttribute,
  intsAttribute,
  makeModel,
  makeNode,
  stringAttribute,
  stringsAttribute,
  tensorAttribute,
  tensorValueInfo,
  typeFromObject,
  valueInfo,
} from './build.js';
import { decodeModel } from './decode.js';
import { readGraphFacts } from './facts.js';
import { withoutZipMaps } from './rewrite.js';
import { DataType, type FunctionProto, type ModelProto } from './onnx.js';
import { type TreeClassifierOptions, treeClassifier } from '../../test-support/tree-classifier.js';

const { FLOAT, INT64, STRING } = DataType;
const ml = { domain: 'ai.onnx.ml' };
const wild = join(packageRoot, 'generator/__fixtures__/models/wild');

/** seq(map(int64, float)): what a ZipMap with int64 labels produces. */
const zipMapType = () =>
  typeFromObject({
    sequence_type: {
      elem_type: {
        map_type: { key_type: INT64, value_type: { tensor_type: { elem_type: FLOAT } } },
      },
    },
  });

function categoriesOf(model: ModelProto) {
  const facts = readGraphFacts(model);
  return Object.fromEntries(
    [...facts.categories].map(([input, byColumn]) => [input, Object.fromEntries(byColumn)]),
  );
}

function nullableOf(model: ModelProto) {
  const facts = readGraphFacts(model);
  return Object.fromEntries(
    [...facts.nullable].map(([input, columns]) => [input, [...columns].sort()]),
  );
}

describe('operators onnxruntime does not implement', () => {
  it('lists custom domains once, anywhere in the model, and accepts local functions', () => {
    const branch = makeModel({
      nodes: [makeNode('Inverse', ['x'], ['y'], { domain: 'com.example' })],
      inputs: [],
      outputs: [tensorValueInfo('y', FLOAT, [])],
    }).graph!;
    const model = makeModel({
      nodes: [
        makeNode('StringRegexReplace', ['t', 'p', 'r'], ['a'], { domain: 'ai.onnx.contrib' }),
        makeNode('StringRegexReplace', ['a', 'p', 'r'], ['b'], { domain: 'ai.onnx.contrib' }),
        makeNode('FusedGemm', ['x', 'w'], ['c'], { domain: 'com.microsoft' }),
        makeNode('MyScale', ['x'], ['d'], { domain: 'local.fns' }),
        makeNode('If', ['cond'], ['e'], {
          attributes: [graphAttribute('then_branch', branch)],
        }),
      ],
      inputs: [tensorValueInfo('x', FLOAT, ['N', 2])],
      outputs: [tensorValueInfo('b', STRING, ['N'])],
    });
    const fn: FunctionProto = {
      name: 'MyScale',
      domain: 'local.fns',
      node: [makeNode('Mul', ['x', 'x'], ['y'])],
    };
    model.functions = [fn];
    expect(readGraphFacts(model).customOps).toEqual([
      { opType: 'StringRegexReplace', domain: 'ai.onnx.contrib' },
      { opType: 'Inverse', domain: 'com.example' },
    ]);
  });
});

describe('ZipMaps, labels and non-tensor outputs', () => {
  function classifier(zipMapConsumer?: string) {
    const nodes = [
      makeNode('LinearClassifier', ['x'], ['label', 'scores'], {
        ...ml,
        attributes: [intsAttribute('classlabels_ints', [3, 7])],
      }),
      makeNode('ZipMap', ['scores'], ['zipped'], {
        ...ml,
        attributes: [intsAttribute('classlabels_int64s', [3, 7])],
      }),
      makeNode('Identity', ['zipped'], ['output_probability']),
    ];
    if (zipMapConsumer) nodes.push(makeNode(zipMapConsumer, ['zipped'], ['elsewhere']));
    return makeModel({
      nodes,
      inputs: [tensorValueInfo('x', FLOAT, ['N', 4])],
      outputs: [
        tensorValueInfo('label', INT64, ['N']),
        valueInfo('output_probability', zipMapType()),
        valueInfo(
          'seq',
          typeFromObject({ sequence_type: { elem_type: { tensor_type: { elem_type: FLOAT } } } }),
        ),
        valueInfo(
          'opt',
          typeFromObject({ optional_type: { elem_type: { tensor_type: { elem_type: FLOAT } } } }),
        ),
      ],
    });
  }

  it('finds a ZipMap reaching an output through Identity, with its labels', () => {
    const facts = readGraphFacts(classifier());
    expect(facts.zipMaps).toEqual([
      {
        output: 'output_probability',
        input: 'scores',
        labels: ['3', '7'],
        labelType: 'int64',
        probabilities: 'float',
        node: 'zipped',
      },
    ]);
    expect(facts.classifierLabels).toEqual(['3', '7']);
    expect(facts.nonTensorOutputs).toEqual([
      { name: 'output_probability', kind: 'sequence', fromZipMap: true },
      { name: 'seq', kind: 'sequence', fromZipMap: false },
      { name: 'opt', kind: 'optional', fromZipMap: false },
    ]);
  });

  it("reads the probabilities' element type from the ZipMap output's declared map values", () => {
    // skl2onnx's double path declares seq(map(int64, tensor(double))); its forest keeps float.
    const zipMapOf = (file: string) =>
      readGraphFacts(decodeModel(readFileSync(join(wild, file)), file)).zipMaps.map((z) => [
        z.input,
        z.probabilities,
      ]);
    expect(zipMapOf('skl-logreg-double.onnx')).toEqual([['probabilities', 'double']]);
    expect(zipMapOf('skl-forest-double.onnx')).toEqual([['probabilities', 'float']]);
    expect(zipMapOf('skl-logreg-float-input.onnx')).toEqual([['probabilities', 'float']]);
  });

  it('withoutZipMaps drops the ZipMap and its output, keeping the label the original computes', () => {
    const file = 'skl-logreg-double.onnx';
    const model = decodeModel(readFileSync(join(wild, file)), file);
    const stripped = withoutZipMaps(model);
    expect(stripped.graph!.output.map((o) => o.name)).toEqual(['output_label']);
    expect(stripped.graph!.node.map((n) => n.op_type)).not.toContain('ZipMap');
    expect(stripped.graph!.node.length).toBe(model.graph!.node.length - 1);
    // The original is left as it was.
    expect(model.graph!.output.map((o) => o.name)).toEqual(['output_label', 'output_probability']);
  });

  it('does not offer a ZipMap whose result another node reads', () => {
    const facts = readGraphFacts(classifier('SequenceLength'));
    expect(facts.zipMaps).toEqual([]);
    expect(facts.nonTensorOutputs[0]).toEqual({
      name: 'output_probability',
      kind: 'sequence',
      fromZipMap: false,
    });
  });

  it('reads string labels of a tree ensemble', () => {
    const model = makeModel({
      nodes: [
        makeNode('TreeEnsembleClassifier', ['x'], ['label', 'p'], {
          ...ml,
          attributes: [stringsAttribute('classlabels_strings', ['high', 'low'])],
        }),
      ],
      inputs: [tensorValueInfo('x', FLOAT, ['N', 4])],
      outputs: [tensorValueInfo('label', STRING, ['N']), tensorValueInfo('p', FLOAT, ['N', 2])],
    });
    const facts = readGraphFacts(model);
    expect(facts.classifierLabels).toEqual(['high', 'low']);
    expect(facts.zipMaps).toEqual([]);
    expect(facts.nonTensorOutputs).toEqual([]);
  });
});

describe('categories and missing values, traced to input columns', () => {
  const constInts = (name: string, values: number[]) =>
    makeNode('Constant', [], [name], {
      attributes: [tensorAttribute('value', int64Tensor(name, [values.length], values))],
    });

  /** S: string [N, 3]; G: int64 [N, 1]; A, B: float [N, 1]; X: float [N, 2]. */
  function encoders(): ModelProto {
    const nodes = [
      // S column 2 -> OneHotEncoder
      makeNode('ArrayFeatureExtractor', ['S', 'idx2'], ['s2'], ml),
      makeNode('OneHotEncoder', ['s2'], ['s2_hot'], {
        ...ml,
        attributes: [stringsAttribute('cats_strings', ['a', 'b'])],
      }),
      // S column 0 -> Gather(axis=1) with a Constant index -> LabelEncoder
      constInts('idx0', [0]),
      makeNode('Gather', ['S', 'idx0'], ['s0'], { attributes: [intAttribute('axis', 1)] }),
      makeNode('LabelEncoder', ['s0'], ['s0_code'], {
        ...ml,
        attributes: [stringsAttribute('keys_strings', ['x', 'y', 'z'])],
      }),
      // S column 1 -> Slice on the last axis -> Cast -> Reshape -> CategoryMapper
      makeNode('Slice', ['S', 'one', 'two', 'axis1'], ['s1']),
      makeNode('Cast', ['s1'], ['s1c'], { attributes: [intAttribute('to', STRING)] }),
      makeNode('Reshape', ['s1c', 'flat'], ['s1r']),
      makeNode('CategoryMapper', ['s1r'], ['s1_id'], {
        ...ml,
        attributes: [stringsAttribute('cats_strings', ['p', 'q'])],
      }),
      // G (int64, one column) -> Identity -> Squeeze -> OneHotEncoder with int64 categories
      makeNode('Identity', ['G'], ['g1']),
      makeNode('Squeeze', ['g1'], ['g2']),
      makeNode('OneHotEncoder', ['g2'], ['g_hot'], {
        ...ml,
        attributes: [intsAttribute('cats_int64s', [10, 20])],
      }),
      // An encoder after arithmetic is not traced.
      makeNode('Add', ['G', 'G'], ['g_sum']),
      makeNode('OneHotEncoder', ['g_sum'], ['g_sum_hot'], {
        ...ml,
        attributes: [intsAttribute('cats_int64s', [1])],
      }),
      // Gather on rows (axis 0) is not a column selection.
      makeNode('Gather', ['S', 'idx0'], ['row0'], { attributes: [intAttribute('axis', 0)] }),
      makeNode('LabelEncoder', ['row0'], ['row0_code'], {
        ...ml,
        attributes: [stringsAttribute('keys_strings', ['r'])],
      }),
    ];
    return makeModel({
      nodes,
      inputs: [tensorValueInfo('S', STRING, ['N', 3]), tensorValueInfo('G', INT64, ['N', 1])],
      outputs: [tensorValueInfo('s2_hot', FLOAT, ['N', 2])],
      initializers: [
        int64Tensor('idx2', [1], [2]),
        int64Tensor('one', [1], [1]),
        int64Tensor('two', [1], [2]),
        int64Tensor('axis1', [1], [-1]),
        int64Tensor('flat', [1], [-1]),
      ],
    });
  }

  it('gives each column the categories its encoder applies', () => {
    expect(categoriesOf(encoders())).toEqual({
      S: { 0: ['x', 'y', 'z'], 1: ['p', 'q'], 2: ['a', 'b'] },
      G: { 0: ['10', '20'] },
    });
  });

  function imputers(): ModelProto {
    const nan = floatAttribute('replaced_value_float', Number.NaN);
    return makeModel({
      nodes: [
        makeNode('Concat', ['A', 'B'], ['ab'], { attributes: [intAttribute('axis', 1)] }),
        makeNode('Imputer', ['ab'], ['ab_filled'], {
          ...ml,
          attributes: [nan, floatsAttribute('imputed_value_floats', [1, 2])],
        }),
        makeNode('ArrayFeatureExtractor', ['X', 'idx1'], ['x1'], ml),
        makeNode('IsNaN', ['x1'], ['x1_missing']),
        makeNode('Imputer', ['X'], ['x_zero_filled'], {
          ...ml,
          attributes: [floatAttribute('replaced_value_float', 0)],
        }),
      ],
      inputs: [
        tensorValueInfo('A', FLOAT, ['N', 1]),
        tensorValueInfo('B', FLOAT, ['N', 1]),
        tensorValueInfo('X', FLOAT, ['N', 2]),
      ],
      outputs: [tensorValueInfo('ab_filled', FLOAT, ['N', 2])],
      initializers: [int64Tensor('idx1', [1], [1])],
    });
  }

  it('marks the columns an imputer replacing NaN (or IsNaN) reads as nullable', () => {
    expect(nullableOf(imputers())).toEqual({ A: [0], B: [0], X: [1] });
  });

  it('marks the columns a tree ensemble routing missing values reads as nullable', () => {
    // A split sending NaN to its true branch: the exporter wrote where missing values go.
    expect(nullableOf(treeClassifier({ labels: [0, 1], missingTracksTrue: true }))).toEqual({
      features: [0],
    });
    // Every split taking its false branch says nothing about missing values.
    expect(nullableOf(treeClassifier({ labels: [0, 1] }))).toEqual({});
    // onnxmltools' XGBoost exports: every column, also those no split sends to its true branch.
    for (const file of [
      'onnxmltools-xgb-binary.onnx',
      'onnxmltools-xgb-multiclass.onnx',
      'onnxmltools-xgb-regressor.onnx',
    ])
      expect(nullableOf(decodeModel(readFileSync(join(wild, file)), file))).toEqual({
        input: [0, 1, 2, 3],
      });
    // skl2onnx's HistGradientBoosting exports: every split carries scikit-learn's
    // missing_go_to_left (NaN goes left with 1, right with 0), so every column it reads.
    for (const [file, input] of [
      ['skl-hist-gb-binary.onnx', 'X'],
      ['skl-hist-gb-multiclass.onnx', 'float_input'],
      ['skl-hist-gb-regressor.onnx', 'X'],
    ] as const)
      expect(nullableOf(decodeModel(readFileSync(join(wild, file)), file))).toEqual({
        [input]: [0, 1, 2, 3],
      });
    for (const file of ['catboost-binary.onnx', 'skl-forest-string-labels.onnx'])
      expect(nullableOf(decodeModel(readFileSync(join(wild, file)), file))).toEqual({});
  });

  it('reads the wild scikit-learn ColumnTransformer export', () => {
    const model = decodeModel(
      readFileSync(join(wild, 'skl-columns-mixed.onnx')),
      'skl-columns-mixed.onnx',
    );
    expect(categoriesOf(model)).toEqual({
      Geography: { 0: ['France', 'Germany', 'Spain'] },
      Gender: { 0: ['Female', 'Male'] },
    });
    expect(nullableOf(model)).toEqual({ CreditScore: [0], Age: [0] });
  });
});

describe('StringNormalizers', () => {
  it('reports each one, in functions too, with its locale or none', () => {
    const model = makeModel({
      nodes: [
        makeNode('StringNormalizer', ['t'], ['u'], {
          name: 'lower',
          attributes: [stringAttribute('case_change_action', 'LOWER')],
        }),
      ],
      inputs: [tensorValueInfo('t', STRING, ['C'])],
      outputs: [tensorValueInfo('u', STRING, ['C'])],
    });
    model.functions = [
      {
        name: 'f',
        domain: 'local',
        node: [
          makeNode('StringNormalizer', ['a'], ['b'], {
            attributes: [stringAttribute('locale', 'en_US')],
          }),
        ],
      },
    ];
    expect(readGraphFacts(model).stringNormalizers).toEqual([
      { name: 'lower', locale: undefined, caseChangeAction: 'LOWER' },
      { name: 'b', locale: 'en_US', caseChangeAction: 'NONE' },
    ]);
  });
});

describe('classifier outputs that hold no probabilities', () => {
  /** A graph whose output `scores` is computed by `nodes`, from input `x` [N, 4]. */
  const rawOf = (nodes: Parameters<typeof makeNode>[]) =>
    readGraphFacts(
      makeModel({
        nodes: nodes.map((n) => makeNode(...n)),
        inputs: [tensorValueInfo('x', FLOAT, ['N', 4])],
        outputs: [tensorValueInfo('scores', FLOAT, ['N', 2])],
      }),
    ).rawScores.get('scores');
  const linear = (transform?: string): Parameters<typeof makeNode> => [
    'LinearClassifier',
    ['x'],
    ['label', 'scores'],
    {
      ...ml,
      attributes: [
        intsAttribute('classlabels_ints', [0, 1]),
        ...(transform ? [stringAttribute('post_transform', transform)] : []),
      ],
    },
  ];

  it('a LinearClassifier without a post_transform gives decision scores; LOGISTIC gives probabilities', () => {
    expect(rawOf([linear()])).toMatch(/^decision-function scores .*LinearSVC/);
    expect(rawOf([linear('NONE')])).toMatch(/LinearClassifier/);
    expect(rawOf([linear('LOGISTIC')])).toBeUndefined();
    expect(rawOf([linear('SOFTMAX')])).toBeUndefined();
  });

  it('an SVMClassifier gives probabilities only with prob_a', () => {
    const svm = (probA: boolean): Parameters<typeof makeNode> => [
      'SVMClassifier',
      ['x'],
      ['label', 'svm'],
      { ...ml, attributes: probA ? [floatsAttribute('prob_a', [-1.5])] : [] },
    ];
    expect(rawOf([svm(false), ['Cast', ['svm'], ['scores']]])).toMatch(/probability=True/);
    expect(rawOf([svm(true), ['Cast', ['svm'], ['scores']]])).toBeUndefined();
  });

  it("scikit-learn's [1 - p, p] is followed to p, in either order, and a Sigmoid ends the walk", () => {
    const head: Parameters<typeof makeNode>[] = [
      ['MatMul', ['x', 'w'], ['m']],
      ['Add', ['m', 'b'], ['logit']],
      ['Sigmoid', ['logit'], ['p']],
      ['Sub', ['one', 'p'], ['q']],
      ['ArrayFeatureExtractor', ['classes', 'i'], ['label'], ml],
    ];
    expect(rawOf([...head, ['Concat', ['q', 'p'], ['scores']]])).toBeUndefined();
    expect(rawOf([...head, ['Concat', ['p', 'q'], ['scores']]])).toBeUndefined();
    // Without the Sigmoid, the margins themselves: SGDClassifier's hinge loss.
    expect(
      rawOf([...head, ['Neg', ['logit'], ['n']], ['Concat', ['n', 'logit'], ['scores']]]),
    ).toMatch(/linear function/);
  });

  it("a network's bare logits are not listed (no ai.onnx.ml): a softmax makes them probabilities", () => {
    expect(rawOf([['Gemm', ['x', 'w', 'b'], ['scores']]])).toBeUndefined();
    expect(
      rawOf([
        ['Gemm', ['x', 'w', 'b'], ['d2']],
        ['Sqrt', ['d2'], ['scores']],
      ]),
    ).toMatch(/distances to cluster centres/);
  });
});

describe('binary tree ensembles whose leaves vote for both classes', () => {
  const votesOf = (options: TreeClassifierOptions) =>
    readGraphFacts(treeClassifier(options)).binaryTreeVotes;

  it('are found as CatBoost writes them, with the outputs holding their label and base_values', () => {
    expect(votesOf({ labels: [1, 2] })).toEqual([
      {
        node: 'computing "label", "probability_tensor"',
        labelOutputs: ['label'],
        labels: ['1', '2'],
        labelType: 'int64',
        baseValues: [],
      },
    ]);
    expect(votesOf({ labels: ['no', 'yes'], baseValues: [-0.25, 0.25] })).toEqual([
      expect.objectContaining({ labelType: 'string', baseValues: [-0.25, 0.25] }),
    ]);
    // skl2onnx's label Cast to int64 passes the label on.
    expect(votesOf({ labels: [0, 1], label: 'cast' })[0]!.labelOutputs).toEqual(['label']);
    expect(votesOf({ labels: [0, 1], label: 'argmin' })[0]!.labelOutputs).toEqual([]);
  });

  it('one vote per leaf (onnxmltools, skl2onnx) is not such a tree', () => {
    expect(votesOf({ labels: [1, 2], votes: 'one' })).toEqual([]);
  });

  it('the wild CatBoost exports: the binary ones, not the multiclass one', () => {
    const votes = (file: string) =>
      readGraphFacts(decodeModel(readFileSync(join(wild, file)), file)).binaryTreeVotes;
    expect(votes('catboost-binary.onnx')).toEqual([
      expect.objectContaining({ labels: ['0', '1'], labelOutputs: ['label'], baseValues: [] }),
    ]);
    expect(votes('catboost-binary-labels-1-2.onnx')[0]!.labels).toEqual(['1', '2']);
    expect(votes('catboost-binary-boost-from-average.onnx')[0]!.baseValues).toHaveLength(2);
    expect(votes('catboost-multiclass.onnx')).toEqual([]);
  });

  it("onnxmltools' XGBoost exports (one vote per leaf for class 0) are not such trees", () => {
    const votes = (file: string) =>
      readGraphFacts(decodeModel(readFileSync(join(wild, file)), file)).binaryTreeVotes;
    expect(votes('onnxmltools-xgb-binary.onnx')).toEqual([]);
    expect(votes('onnxmltools-xgb-multiclass.onnx')).toEqual([]);
  });

  it("skl2onnx's HistGradientBoosting exports (one vote per leaf for class 0) are not such trees", () => {
    const votes = (file: string) =>
      readGraphFacts(decodeModel(readFileSync(join(wild, file)), file)).binaryTreeVotes;
    expect(votes('skl-hist-gb-binary.onnx')).toEqual([]);
    expect(votes('skl-hist-gb-multiclass.onnx')).toEqual([]);
  });
});

interface ManifestEntry {
  file: string;
  accept: boolean;
  labels?: string[];
  refusal?: string;
  /** A network's class scores: the labels are not the graph's, its last operator is. */
  scores?: 'probabilities' | 'logits' | 'positive-probability';
  /** The tensor a ZipMap reads; absent when the classifier writes its probabilities itself. */
  zipmapInput?: string;
}
const lastOperator = {
  'positive-probability': 'Sigmoid',
  logits: 'Gemm',
  probabilities: 'Softmax',
};
const manifestPath = join(wild, 'manifest.json');
const manifest = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { fixtures: ManifestEntry[] })
  .fixtures;
const decodable = manifest.filter(
  (f) => f.accept || ['ai.onnx.contrib', 'sequence', 'map'].includes(f.refusal ?? ''),
);

describe('the wild corpus (generator/__fixtures__/models/wild/manifest.json)', () => {
  it.each(decodable)('$file: the facts match the manifest', (entry) => {
    const model = decodeModel(readFileSync(join(wild, entry.file)), entry.file);
    const facts = readGraphFacts(model);
    if (entry.scores) {
      expect(facts.classifierLabels).toBeUndefined();
      expect([...facts.outputProducers.values()]).toEqual([lastOperator[entry.scores]]);
    } else if (entry.labels) {
      expect(facts.classifierLabels).toEqual(entry.labels);
      // onnxmltools' XGBoost converter writes no ZipMap: the labels are the classifier node's.
      expect(facts.zipMaps.map((z) => z.labels)).toEqual(entry.zipmapInput ? [entry.labels] : []);
    }
    expect(facts.customOps.map((c) => c.domain)).toEqual(
      entry.refusal === 'ai.onnx.contrib' ? ['ai.onnx.contrib'] : [],
    );
    const refusedOutputs = facts.nonTensorOutputs.filter((o) => !o.fromZipMap).map((o) => o.kind);
    expect(refusedOutputs).toEqual(entry.refusal === 'sequence' ? ['sequence'] : []);
  });

  it('the TF-IDF export has a LOWER StringNormalizer without a locale', () => {
    const model = decodeModel(readFileSync(join(wild, 'skl-tfidf-no-locale.onnx')), 'm');
    expect(readGraphFacts(model).stringNormalizers).toEqual([
      { name: expect.any(String), locale: undefined, caseChangeAction: 'LOWER' },
    ]);
  });
});
