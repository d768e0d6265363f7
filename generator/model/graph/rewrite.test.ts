import { describe, expect, it } from 'vitest';
import {
  intsAttribute,
  makeModel,
  makeNode,
  stringAttribute,
  stringsAttribute,
  tensorValueInfo,
  typeFromObject,
  valueInfo,
} from './build.js';
import { encodeModel } from './decode.js';
import { readGraphFacts } from './facts.js';
import { DataType, type ModelProto, type ValueInfo, int64ToNumber } from './onnx.js';
import { labelFromProbabilities, removeZipMaps, setStringNormalizerLocale } from './rewrite.js';
import { onnxTypes } from './schema.js';
import { type TreeClassifierOptions, treeClassifier } from '../../test-support/tree-classifier.js';

const { FLOAT, INT64, STRING } = DataType;
const ml = { domain: 'ai.onnx.ml' };

const zipMapType = (keyType: number) =>
  typeFromObject({
    sequence_type: {
      elem_type: {
        map_type: { key_type: keyType, value_type: { tensor_type: { elem_type: FLOAT } } },
      },
    },
  });

/** LinearClassifier -> ZipMap -> (Identity ->) output, with metadata that must survive. */
function zipMapModel(
  options: { throughIdentity?: boolean; opsets?: Record<string, number>; batch?: string } = {},
) {
  const zipped = options.throughIdentity ? 'zipped' : 'output_probability';
  const nodes = [
    makeNode('LinearClassifier', ['x'], ['label', 'scores'], {
      name: 'clf',
      ...ml,
      attributes: [stringsAttribute('classlabels_strings', ['no', 'yes'])],
    }),
    makeNode('ZipMap', ['scores'], [zipped], {
      name: 'zm',
      ...ml,
      attributes: [stringsAttribute('classlabels_strings', ['no', 'yes'])],
      docString: 'labels as a map',
    }),
  ];
  if (options.throughIdentity)
    nodes.push(makeNode('Identity', [zipped], ['output_probability'], { name: 'out' }));
  const model = makeModel({
    nodes,
    inputs: [tensorValueInfo('x', FLOAT, [options.batch ?? 'batch', 3])],
    outputs: [
      tensorValueInfo('label', STRING, ['batch']),
      valueInfo('output_probability', zipMapType(STRING)),
    ],
    valueInfo: options.throughIdentity ? [valueInfo(zipped, zipMapType(STRING))] : [],
    ...(options.opsets ? { opsets: options.opsets } : {}),
    name: 'pipeline',
  });
  model.doc_string = 'trained on 2026-01-01';
  model.metadata_props = [
    onnxTypes()
      .model.lookupType('onnx.StringStringEntryProto')
      .create({ key: 'owner', value: 'risk' }) as never,
  ];
  return model;
}

function shapeOf(v: ValueInfo | undefined): Array<number | string> {
  const t = v?.type?.tensor_type;
  expect(t?.elem_type).toBe(FLOAT);
  return t!.shape!.dim.map((d) =>
    Object.hasOwn(d, 'dim_value') ? int64ToNumber(d.dim_value) : d.dim_param || '?',
  );
}

const bytesOf = (m: ModelProto) => Buffer.from(encodeModel(m));

describe('removeZipMaps', () => {
  it('replaces the ZipMap by an Identity and types the output float [N, C]', () => {
    const model = zipMapModel();
    const before = bytesOf(model);
    const { model: rewritten, rewrites } = removeZipMaps(model);
    expect(rewrites).toEqual([
      'ZipMap removed: output "output_probability" is now the float [batch, 2] tensor the ZipMap read, one column per class in the order no, yes',
    ]);
    const graph = rewritten.graph!;
    expect(graph.node.map((n) => [n.op_type, n.name, n.input, n.output])).toEqual([
      ['LinearClassifier', 'clf', ['x'], ['label', 'scores']],
      ['Identity', 'zm', ['scores'], ['output_probability']],
    ]);
    expect(graph.node[1]!.domain ?? '').toBe('');
    expect(shapeOf(graph.output[1])).toEqual(['batch', 2]);
    expect(readGraphFacts(rewritten).nonTensorOutputs).toEqual([]);
    // Everything else is as it was, and the caller's model is untouched.
    expect(bytesOf(model).equals(before)).toBe(true);
    expect(rewritten.doc_string).toBe('trained on 2026-01-01');
    expect(rewritten.metadata_props.map((p) => [p.key, p.value])).toEqual([['owner', 'risk']]);
    const opsets = (m: ModelProto) =>
      m.opset_import.map((o) => [o.domain ?? '', int64ToNumber(o.version)]);
    expect(opsets(rewritten)).toEqual(opsets(model));
    expect(graph.name).toBe('pipeline');
    const clf = onnxTypes().node;
    expect(Buffer.from(clf.encode(graph.node[0]!).finish())).toEqual(
      Buffer.from(clf.encode(model.graph!.node[0]!).finish()),
    );
    expect(graph.output[0]).toEqual(model.graph!.output[0]);
  });

  it('retypes every value on an Identity chain to the output, value_info included', () => {
    const { model, rewrites } = removeZipMaps(zipMapModel({ throughIdentity: true }));
    expect(rewrites).toHaveLength(1);
    expect(shapeOf(model.graph!.value_info.find((v) => v.name === 'zipped'))).toEqual(['batch', 2]);
    expect(shapeOf(model.graph!.output[1])).toEqual(['batch', 2]);
  });

  it('keeps a fixed batch size, and an unknown one unknown', () => {
    expect(
      shapeOf(removeZipMaps(zipMapModel({ batch: 1 as never })).model.graph!.output[1]),
    ).toEqual([1, 2]);
    const unknown = zipMapModel();
    unknown.graph!.input[0]!.type!.tensor_type!.shape!.dim[0] = {};
    const { model, rewrites } = removeZipMaps(unknown);
    expect(shapeOf(model.graph!.output[1])).toEqual(['?', 2]);
    expect(rewrites[0]).toContain('the float [N, 2] tensor');
  });

  it('adds the default-domain opset an ML-only model lacks, and says so', () => {
    const { model, rewrites } = removeZipMaps(zipMapModel({ opsets: { 'ai.onnx.ml': 1 } }));
    expect(model.opset_import.map((o) => [o.domain ?? '', int64ToNumber(o.version)])).toEqual([
      ['ai.onnx.ml', 1],
      ['', 7],
    ]);
    expect(rewrites[1]).toMatch(/^opset import of the default ONNX domain \(version 7\) added/);
  });

  it('returns the same model when there is no ZipMap', () => {
    const model = makeModel({
      nodes: [makeNode('Relu', ['x'], ['y'])],
      inputs: [tensorValueInfo('x', FLOAT, ['N', 2])],
      outputs: [tensorValueInfo('y', FLOAT, ['N', 2])],
    });
    expect(removeZipMaps(model)).toEqual({ model, rewrites: [] });
  });

  it('quotes labels that would read ambiguously', () => {
    const model = zipMapModel();
    model.graph!.node[1]!.attribute = [stringsAttribute('classlabels_strings', ['a, b', 'c'])];
    expect(removeZipMaps(model).rewrites[0]).toMatch(/in the order "a, b", "c"$/);
  });

  it('names int64 labels as the exporter wrote them', () => {
    const model = zipMapModel();
    model.graph!.node[1]!.attribute = [intsAttribute('classlabels_int64s', [0, 1])];
    model.graph!.output[1] = valueInfo('output_probability', zipMapType(INT64));
    expect(removeZipMaps(model).rewrites[0]).toMatch(/in the order 0, 1$/);
  });
});

describe('setStringNormalizerLocale', () => {
  function normalizers(): ModelProto {
    const sn = (name: string, locale?: string) =>
      makeNode('StringNormalizer', [`${name}_in`], [`${name}_out`], {
        name,
        attributes: [
          stringAttribute('case_change_action', 'LOWER'),
          ...(locale === undefined ? [] : [stringAttribute('locale', locale)]),
        ],
      });
    const model = makeModel({
      nodes: [sn('none'), sn('us', 'en_US.UTF-8'), sn('c', 'C'), sn('utf8', 'C.utf8')],
      inputs: [tensorValueInfo('none_in', STRING, ['C'])],
      outputs: [tensorValueInfo('none_out', STRING, ['C'])],
    });
    model.functions = [{ name: 'f', domain: 'local', node: [sn('inner')] }];
    return model;
  }

  it('sets the locale where it is missing or one the service image lacks, and nowhere else', () => {
    const model = normalizers();
    const before = bytesOf(model);
    const result = setStringNormalizerLocale(model, 'C.UTF-8');
    expect(result.rewrites).toEqual([
      'StringNormalizer "none": locale set to "C.UTF-8" (it named none, so onnxruntime would load en_US.UTF-8, which the service image does not have)',
      'StringNormalizer "us": locale "en_US.UTF-8" replaced by "C.UTF-8" (the service image does not have "en_US.UTF-8")',
      'StringNormalizer "inner": locale set to "C.UTF-8" (it named none, so onnxruntime would load en_US.UTF-8, which the service image does not have)',
    ]);
    expect(readGraphFacts(result.model).stringNormalizers.map((s) => [s.name, s.locale])).toEqual([
      ['none', 'C.UTF-8'],
      ['us', 'C.UTF-8'],
      ['c', 'C'],
      ['utf8', 'C.utf8'],
      ['inner', 'C.UTF-8'],
    ]);
    expect(bytesOf(model).equals(before)).toBe(true);
    // The replaced attribute keeps its place among the node's attributes.
    expect(result.model.graph!.node[1]!.attribute.map((a) => a.name)).toEqual([
      'case_change_action',
      'locale',
    ]);
  });

  it('returns the same model when every locale is usable', () => {
    const model = normalizers();
    model.graph!.node = model.graph!.node.slice(2);
    model.functions = [];
    expect(setStringNormalizerLocale(model, 'C.UTF-8')).toEqual({ model, rewrites: [] });
  });
});

describe('labelFromProbabilities', () => {
  /** A CatBoost-style binary tree ensemble with its ZipMap removed, as the service loads it. */
  const served = (options: TreeClassifierOptions) => removeZipMaps(treeClassifier(options)).model;
  const source = (labels: string[], labelType: 'int64' | 'string' = 'int64') => ({
    label: 'label',
    probabilities: 'probabilities',
    labels,
    labelType,
  });

  it('computes the label output as the ArgMax of the probabilities, looked up in the labels', () => {
    const model = served({ labels: [1, 2] });
    const before = bytesOf(model);
    const result = labelFromProbabilities(model, source(['1', '2']))!;
    expect(result.rewrites).toEqual([
      `output "label" recomputed from "probabilities" as each row's most probable class of 1, 2 (ArgMax, the first on a tie; the exported label is kept as "label_as_exported", no longer an output)`,
    ]);
    const graph = result.model.graph!;
    expect(graph.node.map((n) => [n.op_type, n.input, n.output])).toEqual([
      ['TreeEnsembleClassifier', ['features'], ['label_as_exported', 'probability_tensor']],
      ['Identity', ['probability_tensor'], ['probabilities']],
      ['Constant', [], ['label_classes']],
      ['ArgMax', ['probabilities'], ['label_column']],
      ['Gather', ['label_classes', 'label_column'], ['label']],
    ]);
    const classes = graph.node[2]!.attribute[0]!.t!;
    expect(classes.int64_data.map((v) => int64ToNumber(v))).toEqual([1, 2]);
    expect(graph.node[3]!.attribute.map((a) => [a.name, int64ToNumber(a.i)])).toEqual([
      ['axis', 1],
      ['keepdims', 0],
    ]);
    // The outputs keep their names and types; the caller's model is untouched.
    expect(graph.output).toEqual(model.graph!.output);
    expect(bytesOf(model).equals(before)).toBe(true);
  });

  it('string labels become a string Constant; names already taken get a suffix', () => {
    const model = served({ labels: ['no', 'yes'] });
    model.graph!.value_info.push(tensorValueInfo('label_classes', FLOAT, ['N']));
    model.graph!.node[0]!.name = 'label_as_exported';
    const { model: rewritten } = labelFromProbabilities(model, source(['no', 'yes'], 'string'))!;
    const nodes = rewritten.graph!.node;
    expect(nodes[0]!.output).toEqual(['label_as_exported_1', 'probability_tensor']);
    expect(nodes[2]!.output).toEqual(['label_classes_1']);
    const classes = nodes[2]!.attribute[0]!.t!;
    expect(classes.data_type).toBe(STRING);
    expect(classes.string_data.map((b) => Buffer.from(b).toString())).toEqual(['no', 'yes']);
  });

  it('adds the default-domain opset an ML-only graph lacks', () => {
    const model = treeClassifier({ labels: [1, 2] });
    model.graph!.output = model.graph!.output.slice(0, 1);
    model.graph!.output.push(tensorValueInfo('probability_tensor', FLOAT, ['N', 2]));
    const result = labelFromProbabilities(model, {
      ...source(['1', '2']),
      probabilities: 'probability_tensor',
    })!;
    expect(result.rewrites[1]).toMatch(
      /^opset import of the default ONNX domain \(version 7\) added: the ArgMax and Gather/,
    );
  });

  it('leaves a label another node reads, an unsafe int64 label or a missing output alone', () => {
    const read = served({ labels: [1, 2] });
    read.graph!.node.push(makeNode('Identity', ['label'], ['copy']));
    expect(labelFromProbabilities(read, source(['1', '2']))).toBeUndefined();
    expect(
      labelFromProbabilities(served({ labels: [1, 2] }), source(['1', '9007199254740993'])),
    ).toBeUndefined();
    expect(
      labelFromProbabilities(served({ labels: [1, 2] }), {
        ...source(['1', '2']),
        probabilities: 'probability_tensor',
      }),
    ).toBeUndefined();
  });
});
