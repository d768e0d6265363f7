import { createHash } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { introspectModel, readModel } from './introspect.js';
import { decodeModel, encodeModel } from './graph/decode.js';
import type { ModelProto } from './graph/onnx.js';
import { ExitCode, UserError } from '../errors.js';
import { fixturesDir, tempDir } from '../test-support/cli.js';
import { treeClassifier } from '../test-support/tree-classifier.js';

const fixture = (name: string) => join(fixturesDir, name);

/** A folder holding `model.onnx` (a copy of a fixture) and optionally a sidecar. */
async function modelFolder(model: string, sidecar?: unknown): Promise<string> {
  const dir = await tempDir('cms-model-');
  await copyFile(fixture(model), join(dir, 'model.onnx'));
  if (sidecar !== undefined)
    await writeFile(join(dir, 'model.schema.json'), JSON.stringify(sidecar));
  return join(dir, 'model.onnx');
}

async function errorOf(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('introspection without a sidecar', () => {
  it('reads a tabular model with string and float columns', async () => {
    const c = await introspectModel(fixture('tabular.onnx'));
    expect(c.layout).toBe('columns');
    expect(c.task).toBe('binary');
    expect(c.features.map((f) => [f.name, f.type, f.tensorType])).toEqual([
      ['Geography', 'category', 'string'],
      ['Age', 'number', 'float32'],
      ['Balance', 'number', 'float32'],
    ]);
    expect(c.outputNames).toEqual({ label: 'label', probabilities: 'probabilities' });
    expect(c.labels).toEqual(['0', '1']);
    expect(c.threshold).toBe(0.5);
    expect(c.described).toBe(false);
    expect(c.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(c.version).toBe(`sha-${c.sha256.slice(0, 12)}`);
  });

  it('reads a text model as text classification', async () => {
    const c = await introspectModel(fixture('text.onnx'));
    expect(c.task).toBe('text-classification');
    expect(c.features).toEqual([
      expect.objectContaining({
        name: 'text',
        type: 'text',
        minLength: 1,
        maxLength: 5000,
        tensorType: 'string',
      }),
    ]);
    expect(c.labels).toHaveLength(3);
  });

  it('reads a regression model over one float matrix', async () => {
    const c = await introspectModel(fixture('regression.onnx'));
    expect(c.task).toBe('regression');
    expect(c.layout).toBe('matrix');
    expect(c.features.map((f) => [f.name, f.input, f.column])).toEqual([
      ['x0', 'input', 0],
      ['x1', 'input', 1],
      ['x2', 'input', 2],
      ['x3', 'input', 3],
    ]);
    expect(c.outputNames).toEqual({ prediction: 'prediction' });
    expect(c.labels).toEqual([]);
    expect(c.threshold).toBeUndefined();
  });

  it('lets the user state the task, and refuses one the outputs cannot serve', async () => {
    expect((await introspectModel(fixture('tabular.onnx'), { task: 'multiclass' })).task).toBe(
      'multiclass',
    );
    // One score per row is a binary model's positive class when the user says so (a logit here:
    // no Sigmoid computes it); it cannot hold several classes.
    expect(await introspectModel(fixture('regression.onnx'), { task: 'binary' })).toMatchObject({
      task: 'binary',
      scores: 'positive-logit',
    });
    const err = await errorOf(introspectModel(fixture('regression.onnx'), { task: 'multiclass' }));
    expect(err.message).toContain('needs a class-probability output');
  });
});

describe('introspection with a sidecar', () => {
  const sidecar = {
    schemaVersion: 1,
    name: 'churn',
    version: '1.2.0',
    features: [
      { name: 'Geography', type: 'category', categories: ['France', 'Germany', 'Spain'] },
      { name: 'Age', type: 'integer', min: 18, max: 100, description: 'Age in years' },
      { name: 'Balance', type: 'number', min: 0, nullable: true },
    ],
    labels: ['stayed', 'exited'],
    positiveLabel: 'exited',
    threshold: 0.35,
    artifacts: { golden: 'golden.json' },
  };

  it('adds names, ranges, categories, labels and threshold', async () => {
    const c = await introspectModel(await modelFolder('tabular.onnx', sidecar));
    expect(c).toMatchObject({
      name: 'churn',
      version: '1.2.0',
      task: 'binary',
      threshold: 0.35,
      positiveLabel: 'exited',
      described: true,
    });
    expect(c.labels).toEqual(['stayed', 'exited']);
    expect(c.features[0]).toMatchObject({
      type: 'category',
      categories: ['France', 'Germany', 'Spain'],
    });
    expect(c.features[1]).toMatchObject({
      type: 'integer',
      min: 18,
      max: 100,
      description: 'Age in years',
    });
    expect(c.features[2]).toMatchObject({ nullable: true });
    expect(c.artifacts).toEqual({ golden: 'golden.json' });
  });

  it('reads the live-quality settings, with defaults, and checks the slices against the features', async () => {
    const plain = await introspectModel(await modelFolder('tabular.onnx', sidecar));
    expect(plain.monitoring).toEqual({ slices: [], minSamples: 200, tolerance: 0.05 });
    const monitoring = {
      entityId: 'customerId',
      slices: [{ feature: 'Geography' }, { feature: 'Age', edges: [30, 45, 60] }],
      minSamples: 50,
    };
    const c = await introspectModel(await modelFolder('tabular.onnx', { ...sidecar, monitoring }));
    expect(c.monitoring).toEqual({ ...monitoring, tolerance: 0.05 });
    for (const [slice, message] of [
      [{ feature: 'Salary' }, /"Salary" is not a feature of the model \(Geography, Age, Balance\)/],
      [{ feature: 'Age' }, /"Age" is numeric: give "edges"/],
      [{ feature: 'Geography', edges: [1] }, /"Geography" is categorical: remove "edges"/],
    ] as const) {
      const bad = { ...sidecar, monitoring: { slices: [slice] } };
      const err = await errorOf(introspectModel(await modelFolder('tabular.onnx', bad)));
      expect(err.message).toMatch(message);
    }
    const unordered = { ...sidecar, monitoring: { slices: [{ feature: 'Age', edges: [60, 30] }] } };
    const err = await errorOf(introspectModel(await modelFolder('tabular.onnx', unordered)));
    expect(err.details.join('\n')).toMatch(/monitoring.slices.0.edges: must ascend/);
  });

  it('refuses a sidecar whose features are not the model inputs', async () => {
    const bad = {
      ...sidecar,
      features: [...sidecar.features.slice(0, 2), { name: 'Salary', type: 'number' }],
    };
    const err = await errorOf(introspectModel(await modelFolder('tabular.onnx', bad)));
    expect(err.message).toContain("do not match the model's inputs");
    expect(err.details.join('\n')).toContain('Salary');
  });

  it('refuses a category feature on a float input', async () => {
    const bad = {
      ...sidecar,
      features: [
        sidecar.features[0],
        { name: 'Age', type: 'category', categories: ['x'] },
        sidecar.features[2],
      ],
    };
    const err = await errorOf(introspectModel(await modelFolder('tabular.onnx', bad)));
    expect(err.message).toContain(
      'feature "Age" is described as category but its input has element type float32',
    );
  });

  it('refuses labels that do not match the class count', async () => {
    const err = await errorOf(
      introspectModel(
        await modelFolder('tabular.onnx', {
          ...sidecar,
          labels: ['a', 'b', 'c'],
          positiveLabel: 'a',
        }),
      ),
    );
    expect(err.message).toContain('3 labels but the model outputs 2');
  });

  it('names the JSON path of an invalid sidecar field', async () => {
    const err = await errorOf(
      introspectModel(await modelFolder('tabular.onnx', { ...sidecar, threshold: 1.5 })),
    );
    expect(err.message).toContain('invalid model schema');
    expect(err.details.join('\n')).toMatch(/^threshold: /m);
  });

  it('names the matrix columns from the sidecar', async () => {
    const features = ['hour', 'dow', 'lag_1h', 'lag_24h'].map((name) => ({ name, type: 'number' }));
    const c = await introspectModel(
      await modelFolder('regression.onnx', {
        schemaVersion: 1,
        name: 'taxi',
        version: '1',
        features,
      }),
    );
    expect(c.features.map((f) => `${f.name}@${f.column}`)).toEqual([
      'hour@0',
      'dow@1',
      'lag_1h@2',
      'lag_24h@3',
    ]);
  });
});

describe('models the generator refuses', () => {
  it('a corrupt file is a clear error, not a stack trace', async () => {
    const err = await errorOf(introspectModel(fixture('corrupt.onnx')));
    expect(err.message).toMatch(
      /corrupt\.onnx is not an ONNX model .*: re-export or re-download it/,
    );
    expect(err.exitCode).toBe(2);
  });
  it('a missing file says so', async () => {
    const err = await errorOf(introspectModel('/nonexistent/model.onnx'));
    expect(err.message).toBe('Model not found: /nonexistent/model.onnx');
  });
  it('a Git LFS pointer (a clone without git-lfs) is named, with the fix, before anything reads it', async () => {
    const dir = await tempDir('cms-lfs-');
    const path = join(dir, 'model.onnx');
    await writeFile(
      path,
      'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 438000000\n',
    );
    // A sidecar beside it is not read first: the pointer is the problem to name.
    await writeFile(join(dir, 'model.schema.json'), '{ not json');
    const err = await errorOf(introspectModel(path));
    expect(err.message).toBe(
      `${path} is a Git LFS pointer (sha256 4d7a214614ab, 417.7 MiB), not the model: ` +
        'run `git lfs pull` in its repository to fetch the model (install git-lfs from https://git-lfs.com first), then try again',
    );
    expect(err.exitCode).toBe(2);
  });
});

describe('tensor models', () => {
  it('an image model is served by its named tensors, every output by name', async () => {
    const c = await introspectModel(fixture('image.onnx'));
    expect(c.kind).toBe('tensors');
    expect(c.task).toBe('tensor');
    expect(c.features).toEqual([]);
    expect(c.extraOutputs).toEqual(['mean']);
    expect(c.batching).toEqual({ mode: 'merge' });
    expect(c.exampleShapes).toEqual({ pixels: [1, 3, 8, 8] });
  });
  it('refuses a class task for a tensor model, naming the task it is served as', async () => {
    const err = await errorOf(introspectModel(fixture('image.onnx'), { task: 'multiclass' }));
    expect(err.message).toMatch(/takes tensors .*served as task "tensor"/);
  });
});

describe('a graph newer than onnxruntime-node reads', () => {
  /** The wild sigmoid network with its opset or IR version raised, as a newer exporter writes. */
  async function newer(edit: (m: ModelProto) => void): Promise<string> {
    const path = join(fixturesDir, 'wild', 'torch-mlp-sigmoid.onnx');
    const model = decodeModel(await readFile(path), path);
    edit(model);
    const dir = await tempDir('cms-newer-');
    await writeFile(join(dir, 'model.onnx'), encodeModel(model));
    return join(dir, 'model.onnx');
  }

  it('an opset past the runtime: refused naming the highest it supports and how to export it', async () => {
    const path = await newer((m) => (m.opset_import[0]!.version = 99));
    const err = await errorOf(introspectModel(path));
    expect(err.message).toMatch(
      /uses opset 99 of ai\.onnx, newer than onnxruntime-node supports \(up to (\d+)\): re-export with opset \1 or lower \(torch\.onnx\.export\(\.\.\., opset_version=\1\)/,
    );
    expect(err.message).not.toContain('onnxruntime_src');
  });

  it('an IR version past the runtime: refused naming the highest it reads', async () => {
    const path = await newer((m) => (m.ir_version = 99));
    const err = await errorOf(introspectModel(path));
    expect(err.message).toMatch(
      /is ONNX IR version 99, newer than onnxruntime-node reads \(up to \d+\)/,
    );
    expect(err.message).not.toContain('onnxruntime_src');
  });
});

describe("a binary classifier's label against its own probabilities", () => {
  /** The served graph's label and probabilities on rows x = 0.2 and x = 0.9. */
  async function answers(served: Uint8Array) {
    const session = await ort.InferenceSession.create(served, { logSeverityLevel: 3 });
    const x = new ort.Tensor('float32', Float32Array.from([0.2, 0.9]), [2, 1]);
    const out = await session.run({ features: x });
    await session.release();
    return {
      labels: Array.from(out.label!.data as ArrayLike<unknown>, String),
      dims: out.probabilities!.dims,
    };
  }

  async function written(model: ModelProto): Promise<string> {
    const dir = await tempDir('cms-label-');
    await writeFile(join(dir, 'model.onnx'), encodeModel(model));
    return join(dir, 'model.onnx');
  }

  it('a label that disagrees with the probabilities on the generated rows is recomputed from them', async () => {
    // The label output names the LEAST probable class (an ArgMin), which no check of the graph
    // alone can tell: running it shows the disagreement.
    const path = await written(treeClassifier({ labels: [0, 1], label: 'argmin' }));
    const { contract, served } = await readModel(path);
    expect(contract.task).toBe('binary');
    expect(contract.origin!.rewrites.at(-1)).toMatch(
      /^output "label" recomputed from "probabilities" as each row's most probable class of 0, 1 \(.*\): onnxruntime's label disagreed with the probabilities on 64 of 64 generated rows \(row 0: \d where \d is most probable;/,
    );
    expect(contract.origin!.verification).toBe(
      "each row's label in the rewritten graph is its most probable class on 64 generated rows (the original graph's own label differed on 64 of them)",
    );
    expect(contract.sha256).toBe(createHash('sha256').update(served).digest('hex'));
    expect(await answers(served)).toEqual({ labels: ['0', '1'], dims: [2, 2] });
  });

  it('a tree ensemble onnxruntime labels by class index is recomputed whatever the rows show', async () => {
    const path = await written(treeClassifier({ labels: [-1, 1] }));
    const { contract, served } = await readModel(path);
    expect(contract.labels).toEqual(['-1', '1']);
    expect(contract.origin!.rewrites.at(-1)).toMatch(
      /: onnxruntime labels the rows of the binary TreeEnsembleClassifier computing "label", "probability_tensor" \(leaves voting for both classes\) by class index, 1 or 0, not by its labels -1, 1$/,
    );
    expect(await answers(served)).toEqual({ labels: ['-1', '1'], dims: [2, 2] });
  });

  it('a label that agrees stays as exported', async () => {
    for (const labels of [
      [0, 1],
      ['no', 'yes'],
    ] as const) {
      const { contract } = await readModel(await written(treeClassifier({ labels })));
      expect(contract.origin!.rewrites.join('\n')).not.toContain('recomputed');
      expect(contract.origin!.verification).toMatch(
        /^the original and rewritten graphs gave the same label/,
      );
    }
  });

  it('two base_values on such a tree are refused: onnxruntime would answer wrong probabilities', async () => {
    const path = await written(treeClassifier({ labels: [0, 1], baseValues: [-0.5, 0.5] }));
    const err = await errorOf(readModel(path));
    expect(err.exitCode).toBe(ExitCode.usage);
    expect(err.message).toMatch(
      /the binary TreeEnsembleClassifier computing "label", "probability_tensor" has base_values \[-0\.5, 0\.5\] and leaves voting for both classes, .*: re-export without base_values \(CatBoost: train with boost_from_average=False\)$/,
    );
  });
});
