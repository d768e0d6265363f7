/**
 * The rewrites, proven with the runtime the service uses (onnxruntime-node) on the wild corpus:
 * a model without its ZipMap loads, returns the probabilities as a plain tensor (float, or double
 * where skl2onnx's double path wrote them), and gives exactly the labels the original graph gives;
 * a StringNormalizer given locale C.UTF-8 loads here (this machine has only the C, C.utf8 and
 * POSIX locales) and lowercases as JavaScript does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../version.js';
import { intAttribute, makeModel, makeNode, stringAttribute, tensorValueInfo } from './build.js';
import { decodeModel, encodeModel } from './decode.js';
import { readGraphFacts } from './facts.js';
import { DataType, type ModelProto, int64ToNumber } from './onnx.js';
import {
  labelFromProbabilities,
  removeZipMaps,
  setStringNormalizerLocale,
  withoutZipMaps,
} from './rewrite.js';
import { type TreeClassifierOptions, treeClassifier } from '../../test-support/tree-classifier.js';

const wild = join(packageRoot, 'generator/__fixtures__/models/wild');

interface Samples {
  inputs?: Record<string, unknown[][]>;
  records?: Array<Record<string, string | number | null>>;
  predict: Array<string | number>;
  predict_proba: number[][];
}
interface ManifestEntry {
  file: string;
  accept: boolean;
  labels?: string[];
  samples?: Samples;
  tolerance?: number;
}
const manifest = (
  JSON.parse(readFileSync(join(wild, 'manifest.json'), 'utf8')) as { fixtures: ManifestEntry[] }
).fixtures;
const zipMapFixtures = manifest.filter((f) => {
  if (!f.accept || !f.samples?.predict_proba) return false;
  return readGraphFacts(decodeModel(readFileSync(join(wild, f.file)), f.file)).zipMaps.length > 0;
});

const sessionOptions = { logSeverityLevel: 3 } as const;

/**
 * Feeds from the manifest's samples: [N, K] matrices, or one [N, 1] column per record key; a
 * missing value (null) as NaN, a double input as float64.
 */
function feedsOf(model: ModelProto, samples: Samples): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.graph!.input) {
    const name = input.name!;
    const elem = input.type?.tensor_type?.elem_type;
    const rows: unknown[][] = samples.inputs
      ? samples.inputs[name]!
      : samples.records!.map((r) => [r[name] ?? Number.NaN]);
    const dims = [rows.length, rows[0]!.length];
    const numbers = (v: unknown) => (v === null ? Number.NaN : Number(v));
    feeds[name] =
      elem === DataType.STRING
        ? new ort.Tensor('string', rows.flat() as string[], dims)
        : elem === DataType.DOUBLE
          ? new ort.Tensor('float64', Float64Array.from(rows.flat(), numbers), dims)
          : new ort.Tensor('float32', Float32Array.from(rows.flat(), numbers), dims);
  }
  return feeds;
}

/**
 * The served model: the locale set where the runtime needs one, then the ZipMap removed, and a
 * binary tree ensemble's label recomputed from the probabilities where onnxruntime labels it by
 * class index (labels other than 0 and 1, as CatBoost trained on 1/2 writes).
 */
function servedModel(original: ModelProto) {
  const withLocale = setStringNormalizerLocale(original, 'C.UTF-8');
  const withoutZipMap = removeZipMaps(withLocale.model);
  const [zipMap] = readGraphFacts(original).zipMaps;
  const byIndex = readGraphFacts(original).binaryTreeVotes.some(
    (t) => t.labelType === 'int64' && t.labels.join() !== '0,1',
  );
  const relabelled =
    byIndex &&
    labelFromProbabilities(withoutZipMap.model, {
      label: 'label',
      probabilities: zipMap!.output,
      labels: zipMap!.labels,
      labelType: zipMap!.labelType,
    });
  // onnxruntime refuses a ZipMap reading double probabilities: the original without it stands in.
  const double = readGraphFacts(original).zipMaps.some((z) => z.probabilities === 'double');
  return {
    before: double ? withoutZipMaps(withLocale.model) : withLocale.model,
    after: relabelled ? relabelled.model : withoutZipMap.model,
    rewrites: withoutZipMap.rewrites,
    labelRecomputed: Boolean(relabelled),
  };
}

describe('a model without its ZipMap, run by onnxruntime-node', () => {
  it('the corpus has ZipMap models to prove it on', () => {
    expect(zipMapFixtures.map((f) => f.file)).toEqual(
      expect.arrayContaining([
        'skl-logreg-float-input.onnx',
        'skl-forest-string-labels.onnx',
        'skl-columns-mixed.onnx',
      ]),
    );
  });

  it.each(zipMapFixtures)(
    '$file: same labels as the original, probabilities as a plain tensor',
    async (entry) => {
      const original = decodeModel(readFileSync(join(wild, entry.file)), entry.file);
      const [zipMap] = readGraphFacts(original).zipMaps;
      const { before, after, rewrites, labelRecomputed } = servedModel(original);
      expect(rewrites.some((r) => r.startsWith(`ZipMap removed: output "${zipMap!.output}"`))).toBe(
        true,
      );
      const labelOutput = original
        .graph!.output.map((o) => o.name!)
        .find((n) => n !== zipMap!.output)!;
      const feeds = feedsOf(original, entry.samples!);

      const originalSession = await ort.InferenceSession.create(
        encodeModel(before),
        sessionOptions,
      );
      const originalLabels = (await originalSession.run(feeds, [labelOutput]))[labelOutput]!;
      await originalSession.release();

      const session = await ort.InferenceSession.create(encodeModel(after), sessionOptions);
      const probabilitiesMeta = session.outputMetadata.find((m) => m.name === zipMap!.output)!;
      expect(probabilitiesMeta.isTensor).toBe(true);
      const out = await session.run(feeds);
      await session.release();
      const probabilities = out[zipMap!.output]!;
      const labels = out[labelOutput]!;
      const rows = entry.samples!.predict.length;

      expect(probabilities.type).toBe(zipMap!.probabilities === 'double' ? 'float64' : 'float32');
      expect(probabilities.dims).toEqual([rows, zipMap!.labels.length]);
      // The original's own label, or, where the runtime labels by class index, that index.
      expect(Array.from(originalLabels.data as ArrayLike<unknown>, String)).toEqual(
        labelRecomputed
          ? entry.samples!.predict.map((p) => String(zipMap!.labels.indexOf(String(p))))
          : Array.from(labels.data as ArrayLike<unknown>, String),
      );
      expect(Array.from(labels.data as ArrayLike<unknown>, String)).toEqual(
        entry.samples!.predict.map(String),
      );
      const p = probabilities.data as Float32Array | Float64Array;
      entry.samples!.predict_proba.forEach((row, i) =>
        row.forEach((expected, j) =>
          expect(Math.abs(p[i * row.length + j]! - expected)).toBeLessThan(entry.tolerance!),
        ),
      );
    },
  );
});

describe('a StringNormalizer without a locale', () => {
  const path = join(wild, 'skl-tfidf-no-locale.onnx');

  it('does not load as exported: onnxruntime asks for en_US.UTF-8, which this machine lacks', async () => {
    await expect(ort.InferenceSession.create(readFileSync(path), sessionOptions)).rejects.toThrow(
      /Failed to construct locale with name:en_US\.UTF-8/,
    );
  });

  it.each(['C.UTF-8', 'C.utf8'])('loads and runs with locale %s', async (locale) => {
    const { model, rewrites } = setStringNormalizerLocale(
      decodeModel(readFileSync(path), path),
      locale,
    );
    expect(rewrites).toHaveLength(1);
    const session = await ort.InferenceSession.create(encodeModel(model), sessionOptions);
    const text = ['The team scored a late goal to win the match.'];
    // Only the label: onnxruntime-node cannot return the ZipMap's sequence of maps.
    const out = await session.run({ input: new ort.Tensor('string', text, [1, 1]) }, [
      'output_label',
    ]);
    await session.release();
    expect(Array.from(out.output_label!.data as string[])).toEqual(['sports']);
  });
});

describe('case mapping with locale C.UTF-8 (onnxruntime per code point, JavaScript full Unicode)', () => {
  async function normalize(
    locale: string,
    action: 'LOWER' | 'UPPER',
    words: string[],
  ): Promise<string[]> {
    const model = makeModel({
      nodes: [
        makeNode('StringNormalizer', ['x'], ['y'], {
          attributes: [
            stringAttribute('case_change_action', action),
            intAttribute('is_case_sensitive', 1),
            stringAttribute('locale', locale),
          ],
        }),
      ],
      inputs: [tensorValueInfo('x', DataType.STRING, ['C'])],
      outputs: [tensorValueInfo('y', DataType.STRING, ['C'])],
      opsets: { '': 17 },
    });
    const session = await ort.InferenceSession.create(encodeModel(model), sessionOptions);
    const out = await session.run({ x: new ort.Tensor('string', words, [words.length]) });
    await session.release();
    return Array.from(out.y!.data as string[]);
  }

  const same = [
    'HELLO World',
    'ÉCOLE',
    'ÀÉÎÕÜ Ñ Ç',
    'ΣΟΦΙΑ',
    'ДОМ',
    'ᲐᲑᲒ',
    'ǅ',
    'ＡＢＣ',
    'A😀',
    '😀',
  ];

  it('lowercases ASCII and non-ASCII letters as toLowerCase does', async () => {
    expect(await normalize('C.UTF-8', 'LOWER', same)).toEqual(same.map((w) => w.toLowerCase()));
  });

  it('differs only where JavaScript applies context or multi-letter rules', async () => {
    // İ: JavaScript adds a combining dot (i̇); final sigma: JavaScript writes ς at a word end.
    expect(await normalize('C.UTF-8', 'LOWER', ['İSTANBUL', 'ΟΔΟΣ'])).toEqual(['istanbul', 'οδοσ']);
    expect(['İSTANBUL', 'ΟΔΟΣ'].map((w) => w.toLowerCase())).toEqual(['i̇stanbul', 'οδος']);
    // ß has no one-letter capital: onnxruntime keeps it, JavaScript writes SS.
    expect(await normalize('C.UTF-8', 'UPPER', ['Straße'])).toEqual(['STRAßE']);
  });

  it('locale C lowercases ASCII only', async () => {
    expect(await normalize('C', 'LOWER', ['HELLO', 'ÉCOLE', 'ДОМ'])).toEqual([
      'hello',
      'École',
      'ДОМ',
    ]);
  });
});

it('the rewritten ZipMap output keeps the batch dimension the graph input states', () => {
  const model = decodeModel(readFileSync(join(wild, 'onnxmltools-lgbm.onnx')), 'lgbm');
  const { model: after } = removeZipMaps(model);
  const output = after.graph!.output.find((o) => o.name === 'probabilities')!;
  const [n, c] = output.type!.tensor_type!.shape!.dim;
  // The input is [None, 4] (an unknown dim); the label output's declared [1] is not trusted.
  expect(Object.hasOwn(n!, 'dim_value') || Boolean(n!.dim_param)).toBe(false);
  expect(int64ToNumber(c!.dim_value)).toBe(2);
});

it('an ML-only graph gets the default-domain opset its new Identity needs, and loads', async () => {
  const model = decodeModel(readFileSync(join(wild, 'skl-forest-string-labels.onnx')), 'forest');
  model.opset_import = model.opset_import.filter((o) => o.domain === 'ai.onnx.ml');
  const { model: after, rewrites } = removeZipMaps(model);
  expect(rewrites[1]).toMatch(/^opset import of the default ONNX domain \(version 7\) added/);
  const session = await ort.InferenceSession.create(encodeModel(after), sessionOptions);
  const x = new ort.Tensor('float32', Float32Array.from([7.39, 3.572, 5.715, 2.145]), [1, 4]);
  const out = await session.run({ float_input: x });
  await session.release();
  expect(Array.from(out.output_label!.data as string[])).toEqual(['high']);
  expect(out.output_probability!.dims).toEqual([1, 3]);
});

describe('a binary tree ensemble whose leaves vote for both classes (CatBoost), run by onnxruntime-node', () => {
  /** Rows x = 0.2 (class-1 score -1.5) and x = 0.9 (+1.5): the label and P(class 1) of each. */
  async function run(model: ModelProto, probabilities = 'probabilities') {
    const session = await ort.InferenceSession.create(encodeModel(model), sessionOptions);
    const x = new ort.Tensor('float32', Float32Array.from([0.2, 0.9]), [2, 1]);
    const out = await session.run({ features: x }, ['label', probabilities]);
    await session.release();
    const p = out[probabilities]!.data as Float32Array;
    return {
      labels: Array.from(out.label!.data as ArrayLike<unknown>, String),
      positive: [p[1]!, p[3]!].map((v) => Number(v.toFixed(4))),
    };
  }
  const served = (options: TreeClassifierOptions) => removeZipMaps(treeClassifier(options)).model;
  const sigmoid = (v: number) => Number((1 / (1 + Math.exp(-v))).toFixed(4));

  it('labels rows by class index: right for 0/1 and string labels, wrong for others', async () => {
    const right = [sigmoid(-1.5), sigmoid(1.5)];
    expect(await run(served({ labels: [0, 1] }))).toEqual({ labels: ['0', '1'], positive: right });
    expect(await run(served({ labels: ['no', 'yes'] }))).toEqual({
      labels: ['no', 'yes'],
      positive: right,
    });
    expect(await run(served({ labels: [1, 2] }))).toEqual({ labels: ['0', '1'], positive: right });
    expect((await run(served({ labels: [-1, 1] }))).labels).toEqual(['0', '1']);
    // One vote per leaf takes the class labels.
    expect((await run(served({ labels: [1, 2], votes: 'one' }))).labels).toEqual(['1', '2']);
  });

  it('with two base_values, scores class 1 as base_values[1] plus the class-0 score', async () => {
    const { positive } = await run(served({ labels: [0, 1], baseValues: [-0.5, 0.5] }));
    // Not sigmoid(score + 0.5): sigmoid(0.5 - score).
    expect(positive).toEqual([sigmoid(0.5 + 1.5), sigmoid(0.5 - 1.5)]);
  });

  it.each([
    [
      [1, 2],
      ['1', '2'],
    ],
    [
      [-1, 1],
      ['-1', '1'],
    ],
    [
      ['no', 'yes'],
      ['no', 'yes'],
    ],
  ] as const)('labels %j recomputed from the probabilities: %j', async (labels, expected) => {
    const model = served({ labels });
    const labelType = typeof labels[0] === 'string' ? 'string' : 'int64';
    const source = { label: 'label', probabilities: 'probabilities', labelType } as const;
    const { model: relabelled } = labelFromProbabilities(model, {
      ...source,
      labels: labels.map(String),
    })!;
    expect(await run(relabelled)).toEqual({
      labels: expected,
      positive: [sigmoid(-1.5), sigmoid(1.5)],
    });
  });
});
