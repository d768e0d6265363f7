/**
 * The models users bring, as their tools export them by default (the fixture corpus in
 * `__fixtures__/models/wild/`, made the way skl2onnx, onnxmltools and PyTorch make them): each is
 * read as its manifest says, or refused with exit 2 and one line naming the problem and the fix.
 */
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../errors.js';
import { tempDir } from '../test-support/cli.js';
import { type WildFixture, wildDir, wildManifest } from '../test-support/wild.js';
import { readModel } from './introspect.js';
import type { TaskKind } from './contract.js';
import { TaskUnclearError } from './outputs.js';

const fixtures = await wildManifest();
const accepted = fixtures.filter((f) => f.accept && f.file !== 'symbolic-width.onnx');
const refused = fixtures.filter((f) => !f.accept);
/** Tasks the graph cannot state: the fixture is read with the task its manifest names. */
const askedTask = (f: WildFixture) =>
  (f.taskFlag as TaskKind | undefined) ??
  (f.task === 'tensor' && !f.file.startsWith('torch') && !f.rawScores ? 'tensor' : undefined);
const rawScored = fixtures.filter((f) => f.rawScores);

async function refusal(path: string): Promise<UserError> {
  try {
    await readModel(path);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error(`${path} was accepted`);
}

describe.each(refused.map((f) => [f.file, f] as const))('refused: %s', (_name, f) => {
  it(`exit 2, one line naming "${f.refusal}" and the fix, no stack`, async () => {
    const err = await refusal(join(wildDir, f.file));
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).not.toContain('\n');
    expect(err.message.toLowerCase()).toContain(f.refusal!.toLowerCase());
    expect(err.message).toMatch(/: (re-export|run|re-download|give|add|serve)|re-export/);
    expect(err.details).toEqual([]);
  });
});

describe.each(accepted.map((f) => [f.file, f] as const))('accepted: %s', (_name, f) => {
  it(`is read as ${f.task}, ${f.batching} batching`, async () => {
    const task = askedTask(f);
    const { contract, rewritten } = await readModel(join(wildDir, f.file), task ? { task } : {});
    expect(contract.task).toBe(f.task);
    expect(contract.batching.mode).toBe(f.batching);
    if (f.batchSize) expect(contract.batching.size).toBe(f.batchSize);
    if (f.labels) expect(contract.labels).toEqual(f.labels);
    if (f.scores) expect(contract.scores).toBe(f.scores);
    if (f.rawScores) expect(contract.rawScores?.holds).toContain(f.rawScores);
    else expect(contract.rawScores).toBeUndefined();
    // Every output is served: a role or, failing that, by name.
    const served = new Set([...Object.values(contract.outputNames), ...contract.extraOutputs]);
    expect([...served].sort()).toEqual(contract.outputs.map((o) => o.name).sort());
    const zipMap = (f as { zipmapInput?: string }).zipmapInput !== undefined;
    expect(rewritten).toBe(zipMap || f.file.includes('no-locale') || f.externalData !== undefined);
    if (rewritten) {
      expect(contract.origin?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(contract.origin?.sha256).not.toBe(contract.sha256);
      expect(contract.origin?.rewrites.length).toBeGreaterThan(0);
    }
  });
});

describe('what the graph states, without a sidecar', () => {
  it('categories from the OneHotEncoders (unknown ones rejected) and nullable columns from the Imputer', async () => {
    const { contract } = await readModel(join(wildDir, 'skl-columns-mixed.onnx'));
    const byName = Object.fromEntries(contract.features.map((f) => [f.name, f]));
    expect(byName.Geography).toMatchObject({
      type: 'category',
      categories: ['France', 'Germany', 'Spain'],
    });
    expect(byName.Gender).toMatchObject({ type: 'category', categories: ['Female', 'Male'] });
    expect(byName.CreditScore).toMatchObject({ type: 'number', nullable: true });
    expect(byName.Age).toMatchObject({ type: 'number', nullable: true });
    expect(contract.unknownCategories).toBe('reject');
  });

  it('class names from the ZipMap or the classifier node', async () => {
    const { contract } = await readModel(join(wildDir, 'skl-forest-string-labels.onnx'));
    expect(contract.labels).toEqual(['high', 'low', 'medium']);
  });

  it('a sidecar that disagrees with the graph is an error naming both', async () => {
    const dir = await tempDir('cms-wild-');
    await copyFile(join(wildDir, 'skl-columns-mixed.onnx'), join(dir, 'model.onnx'));
    await writeFile(
      join(dir, 'model.schema.json'),
      JSON.stringify({
        schemaVersion: 1,
        name: 'churn',
        version: '1.0.0',
        features: [
          { name: 'CreditScore', type: 'number' },
          { name: 'Geography', type: 'category', categories: ['France', 'Italy'] },
          { name: 'Gender', type: 'category', categories: ['Female', 'Male'] },
          { name: 'Age', type: 'number' },
        ],
      }),
    );
    const err = await refusal(join(dir, 'model.onnx'));
    expect(err.message).toMatch(/Geography.*"France", "Italy".*"France", "Germany", "Spain"/);
  });
});

describe("a network's class scores, as its last operator computes them", () => {
  it('a Sigmoid of one column is a binary probability; a Softmax is the class probabilities', async () => {
    const sigmoid = (await readModel(join(wildDir, 'torch-mlp-sigmoid.onnx'))).contract;
    expect(sigmoid).toMatchObject({
      task: 'binary',
      labels: ['0', '1'],
      positiveLabel: '1',
      scores: 'positive-probability',
      outputNames: { probabilities: 'sigmoid' },
    });
    const softmax = (await readModel(join(wildDir, 'keras-mlp-softmax.onnx'))).contract;
    expect(softmax).toMatchObject({ task: 'multiclass', scores: 'probabilities' });
  });

  it('bare logits are asked about, then served as logits; a sidecar may say otherwise', async () => {
    const path = join(wildDir, 'torch-mlp-logits.onnx');
    const err = await refusal(path);
    expect(err).toBeInstanceOf(TaskUnclearError);
    expect(err.message).toMatch(/--task tensor\|regression\|binary\|multiclass/);
    const { contract } = await readModel(path, { task: 'multiclass' });
    expect(contract).toMatchObject({
      task: 'multiclass',
      scores: 'logits',
      labels: ['0', '1', '2'],
    });

    const dir = await tempDir('cms-wild-scores-');
    await copyFile(path, join(dir, 'model.onnx'));
    const sidecar = { schemaVersion: 1, name: 'scores', version: '1.0.0', task: 'multiclass' };
    await writeFile(
      join(dir, 'model.schema.json'),
      JSON.stringify({ ...sidecar, scores: 'probabilities' }),
    );
    expect((await readModel(join(dir, 'model.onnx'))).contract.scores).toBe('probabilities');
    await writeFile(
      join(dir, 'model.schema.json'),
      JSON.stringify({ ...sidecar, scores: 'positive-logit' }),
    );
    expect((await refusal(join(dir, 'model.onnx'))).message).toMatch(
      /scores "positive-logit" do not fit output "linear_1"/,
    );
  });

  it('--task binary on a one-column score that no Sigmoid computes reads it as a logit', async () => {
    const { contract } = await readModel(join(wildDir, 'torch-dynamo-mlp.onnx'), {
      task: 'binary',
    });
    expect(contract).toMatchObject({
      task: 'binary',
      scores: 'positive-logit',
      labels: ['0', '1'],
    });
  });
});

describe('decision scores and distances are never served as probabilities', () => {
  it('six default scikit-learn exports are found, whatever the output is named', () => {
    expect(rawScored.map((f) => f.file).sort()).toEqual([
      'skl-isolation-forest.onnx',
      'skl-kmeans.onnx',
      'skl-linearsvc-binary.onnx',
      'skl-one-class-svm.onnx',
      'skl-sgd-hinge-zipmap.onnx',
      'skl-svc-binary.onnx',
    ]);
  });

  it.each(rawScored.map((f) => [f.file, f] as const))(
    '%s: served by name; --task binary or multiclass is refused with the fix',
    async (_name, f) => {
      const path = join(wildDir, f.file);
      const { contract } = await readModel(path);
      expect(contract.task).toBe('tensor');
      expect(contract.labels).toEqual([]);
      expect(contract.extraOutputs).toEqual(contract.outputs.map((o) => o.name));
      const held = contract.outputs.find((o) => o.name === contract.rawScores!.output)!;
      const classes = Number(held.shape[1]);
      for (const task of classes > 2 ? (['multiclass'] as const) : (['binary'] as const)) {
        let err: unknown;
        await readModel(path, { task }).catch((e: unknown) => (err = e));
        expect(err).toBeInstanceOf(UserError);
        const message = (err as UserError).message;
        expect((err as UserError).exitCode).toBe(ExitCode.usage);
        expect(message).toContain(`output "${held.name}" holds ${contract.rawScores!.holds}`);
        expect(message).toMatch(/--task tensor.*predict_proba.*"scores" in model\.schema\.json/);
      }
    },
  );

  it("a sidecar's word that they are probabilities is taken", async () => {
    const dir = await tempDir('cms-wild-raw-');
    await copyFile(join(wildDir, 'skl-sgd-hinge-zipmap.onnx'), join(dir, 'model.onnx'));
    const sidecar = { schemaVersion: 1, name: 'tiers', version: '1.0.0', task: 'multiclass' };
    await writeFile(join(dir, 'model.schema.json'), JSON.stringify(sidecar));
    expect((await refusal(join(dir, 'model.onnx'))).message).toMatch(/holds decision-function/);
    await writeFile(
      join(dir, 'model.schema.json'),
      JSON.stringify({ ...sidecar, scores: 'probabilities' }),
    );
    const { contract } = await readModel(join(dir, 'model.onnx'));
    expect(contract).toMatchObject({
      task: 'multiclass',
      scores: 'probabilities',
      labels: ['bronze', 'gold', 'silver'],
    });
  });
});

describe("CatBoost's own export (model.save_model(path, format='onnx'))", () => {
  const read = async (file: string) => (await readModel(join(wildDir, file))).contract;
  const zipMapRemoved = (classes: string) => [
    `ZipMap removed: output "probabilities" is now the float [N, ${classes.split(', ').length}] tensor the ZipMap read, one column per class in the order ${classes}`,
    'opset import of the default ONNX domain (version 7) added: the Identity that replaces the ZipMap needs it',
  ];

  it('binary, classes 0 and 1: the ZipMap removed; onnxruntime labels these right, so the label stays', async () => {
    const contract = await read('catboost-binary.onnx');
    expect(contract).toMatchObject({
      task: 'binary',
      labels: ['0', '1'],
      positiveLabel: '1',
      scores: 'probabilities',
      outputNames: { label: 'label', probabilities: 'probabilities' },
    });
    expect(contract.features.map((f) => [f.name, f.input, f.column])).toEqual(
      [0, 1, 2, 3].map((c) => [`x${c}`, 'features', c]),
    );
    expect(contract.origin!.rewrites).toEqual(zipMapRemoved('0, 1'));
    expect(contract.origin!.verification).toMatch(
      /^the original and rewritten graphs gave the same label/,
    );
  });

  it('binary, classes 1 and 2: the label onnxruntime gives by class index is recomputed from the probabilities', async () => {
    const contract = await read('catboost-binary-labels-1-2.onnx');
    expect(contract).toMatchObject({ task: 'binary', labels: ['1', '2'], positiveLabel: '2' });
    expect(contract.origin!.rewrites).toEqual([
      ...zipMapRemoved('1, 2'),
      expect.stringMatching(
        /^output "label" recomputed from "probabilities" as each row's most probable class of 1, 2 .*: onnxruntime labels the rows of the binary TreeEnsembleClassifier computing "label", "probability_tensor" \(leaves voting for both classes\) by class index, 1 or 0, not by its labels 1, 2$/,
      ),
    ]);
    expect(contract.origin!.verification).toMatch(
      /^each row's label in the rewritten graph is its most probable class on 64 generated rows \(the original graph's own label differed on \d+ of them\)$/,
    );
  });

  it('binary with boost_from_average: refused, since onnxruntime would mis-add its base_values', async () => {
    const err = await refusal(join(wildDir, 'catboost-binary-boost-from-average.onnx'));
    expect(err.message).toMatch(
      /has base_values \[-0\.\d+, 0\.\d+\] and leaves voting for both classes.*every probability it answered would be wrong: re-export without base_values \(CatBoost: train with boost_from_average=False\)$/,
    );
  });

  it('multiclass: the ZipMap removed, the label (an argmax onnxruntime gets right) kept', async () => {
    const contract = await read('catboost-multiclass.onnx');
    expect(contract).toMatchObject({ task: 'multiclass', labels: ['0', '1', '2'] });
    expect(contract.origin!.rewrites).toEqual(zipMapRemoved('0, 1, 2'));
  });

  it("regressor: 'predictions', declared [N], is the prediction; nothing rewritten", async () => {
    const { contract, rewritten } = await readModel(join(wildDir, 'catboost-regressor.onnx'));
    expect(contract).toMatchObject({
      task: 'regression',
      outputNames: { prediction: 'predictions' },
      extraOutputs: [],
    });
    expect(rewritten).toBe(false);
  });
});

describe("onnxmltools' XGBoost export (convert_xgboost, no ZipMap)", () => {
  it.each([
    ['onnxmltools-xgb-binary.onnx', 'binary', { label: 'label', probabilities: 'probabilities' }],
    [
      'onnxmltools-xgb-multiclass.onnx',
      'multiclass',
      { label: 'label', probabilities: 'probabilities' },
    ],
    ['onnxmltools-xgb-regressor.onnx', 'regression', { prediction: 'variable' }],
  ] as const)(
    '%s: served as it is, every feature nullable (XGBoost routes missing values)',
    async (file, task, outputNames) => {
      const { contract, rewritten } = await readModel(join(wildDir, file));
      expect(rewritten).toBe(false);
      expect(contract.origin).toBeUndefined();
      expect(contract).toMatchObject({ task, outputNames, extraOutputs: [] });
      expect(
        contract.features.map((f) => [f.name, f.input, f.column, f.type !== 'text' && f.nullable]),
      ).toEqual([0, 1, 2, 3].map((c) => [`x${c}`, 'input', c, true]));
    },
  );
});

describe("skl2onnx's HistGradientBoosting export (to_onnx or convert_sklearn, ZipMap by default)", () => {
  it.each([
    ['skl-hist-gb-binary.onnx', 'binary', 'X', ['0', '1']],
    ['skl-hist-gb-multiclass.onnx', 'multiclass', 'float_input', ['bronze', 'gold', 'silver']],
  ] as const)(
    '%s: the ZipMap removed, the label kept, every feature nullable (the trees route missing values)',
    async (file, task, input, labels) => {
      const { contract, rewritten } = await readModel(join(wildDir, file));
      expect(rewritten).toBe(true);
      expect(contract).toMatchObject({
        task,
        labels,
        scores: 'probabilities',
        outputNames: { label: 'output_label', probabilities: 'output_probability' },
        extraOutputs: [],
      });
      // onnxruntime labels these right (one vote per leaf, or more than two classes): only the
      // ZipMap goes.
      expect(contract.origin!.rewrites).toEqual([
        `ZipMap removed: output "output_probability" is now the float [N, ${labels.length}] tensor the ZipMap read, one column per class in the order ${labels.join(', ')}`,
      ]);
      expect(
        contract.features.map((f) => [f.name, f.input, f.column, f.type !== 'text' && f.nullable]),
      ).toEqual([0, 1, 2, 3].map((c) => [`x${c}`, input, c, true]));
    },
  );

  it("skl-hist-gb-regressor.onnx: 'variable' is the prediction, nothing rewritten, every feature nullable", async () => {
    const { contract, rewritten } = await readModel(join(wildDir, 'skl-hist-gb-regressor.onnx'));
    expect(rewritten).toBe(false);
    expect(contract).toMatchObject({
      task: 'regression',
      outputNames: { prediction: 'variable' },
      extraOutputs: [],
    });
    expect(
      contract.features.map((f) => [f.name, f.input, f.column, f.type !== 'text' && f.nullable]),
    ).toEqual([0, 1, 2, 3].map((c) => [`x${c}`, 'X', c, true]));
  });
});

describe("skl2onnx's exports from float64 data (to_onnx(model, X64[:1]): input 'X' double)", () => {
  it("skl-logreg-double.onnx: onnxruntime refuses the ZipMap on double probabilities; removed, 'output_probability' is the double tensor", async () => {
    const { contract, rewritten } = await readModel(join(wildDir, 'skl-logreg-double.onnx'));
    expect(rewritten).toBe(true);
    expect(contract).toMatchObject({
      task: 'binary',
      labels: ['0', '1'],
      scores: 'probabilities',
      outputNames: { label: 'output_label', probabilities: 'output_probability' },
    });
    expect(contract.rawScores).toBeUndefined();
    expect(contract.inputs).toMatchObject([{ name: 'X', type: 'float64' }]);
    expect(contract.outputs.find((o) => o.name === 'output_probability')?.type).toBe('float64');
    expect(contract.origin!.rewrites).toEqual([
      'ZipMap removed: output "output_probability" is now the double [N, 2] tensor the ZipMap read, one column per class in the order 0, 1 (onnxruntime cannot load the original: its ZipMap takes float probabilities only, so the removal is proven against the original without its ZipMap)',
    ]);
    expect(contract.origin!.verification).toMatch(/same label on \d+ generated rows/);
  });

  it('skl-forest-double.onnx: the trees read the double input, the probabilities stay float; the ZipMap removed', async () => {
    const { contract, rewritten } = await readModel(join(wildDir, 'skl-forest-double.onnx'));
    expect(rewritten).toBe(true);
    expect(contract).toMatchObject({ task: 'multiclass', labels: ['0', '1', '2'] });
    expect(contract.inputs).toMatchObject([{ name: 'X', type: 'float64' }]);
    expect(contract.origin!.rewrites).toEqual([
      'ZipMap removed: output "output_probability" is now the float [N, 3] tensor the ZipMap read, one column per class in the order 0, 1, 2',
    ]);
  });
});

describe('what the graph cannot state', () => {
  it('two float outputs and no classifier: exit 2 naming --task', async () => {
    const err = await refusal(join(wildDir, 'skl-preprocessing-two-outputs.onnx'));
    expect(err).toBeInstanceOf(TaskUnclearError);
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toMatch(/--task tensor/);
  });

  it('a symbolic feature width: refused with the fix, served with a sidecar listing the features', async () => {
    const err = await refusal(join(wildDir, 'symbolic-width.onnx'));
    expect(err.message).toMatch(/symbolic width.*model\.schema\.json.*re-export/);
    const dir = await tempDir('cms-wild-');
    await copyFile(join(wildDir, 'symbolic-width.onnx'), join(dir, 'model.onnx'));
    await writeFile(
      join(dir, 'model.schema.json'),
      JSON.stringify({
        schemaVersion: 1,
        name: 'width',
        version: '1.0.0',
        features: ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'number' })),
      }),
    );
    const { contract } = await readModel(join(dir, 'model.onnx'));
    expect(contract.task).toBe('regression');
    expect(contract.features.map((f) => f.column)).toEqual([0, 1, 2, 3]);
  });
});
