/* eslint-disable @typescript-eslint/no-explicit-any -- the answers are parsed JSON bodies */
/**
 * The models users bring, served: a project is generated from each accepted fixture of the wild
 * corpus, its server runs as a real process on 127.0.0.1, and its answers (/predict,
 * /predict/batch, V2) are compared with the outputs recorded when the fixture was made
 * (scikit-learn's, or CatBoost's and XGBoost's trees evaluated in numpy) and with onnxruntime-node run directly
 * on the user's original file. Three projects also run their
 * own test suites (a fixed-batch regressor, a preprocessing pipeline served as tensors and an image network), as a user's `npm test` would.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { symlink, copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelContract } from './contract.js';
import { readModel } from './introspect.js';
import { generateProject } from '../test-support/generate.js';
import { installCached } from '../test-support/installed-project.js';
import { tempDir } from '../test-support/cli.js';
import { type WildFixture, wildDir, wildManifest } from '../test-support/wild.js';

const fixtures = await wildManifest();
const byFile = (file: string) => fixtures.find((f) => f.file === file)!;

interface Running {
  readonly url: string;
  readonly process: ChildProcess;
  readonly dir: string;
}
const running: Running[] = [];
afterAll(() => {
  for (const r of running) r.process.kill('SIGKILL');
});

/** A project generated from `modelPath`, installed (cached), built, its server started and ready. */
async function serve(modelPath: string, flags: Record<string, unknown> = {}): Promise<Running> {
  const dir = await generateProject(
    { model: modelPath, name: 'wild-svc', description: 'A model from the wild corpus.', ...flags },
    { prefix: 'cms-wild-' },
  );
  const cache = await installCached(dir);
  await symlink(join(cache, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const build = spawnSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  expect(build.status, build.stdout + build.stderr).toBe(0);
  const child = spawn(process.execPath, ['dist/src/server.js'], {
    cwd: dir,
    env: {
      ...process.env,
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      WORKERS: '2',
      PREDICTION_LOG_PATH: '',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = { process: child, dir, url: '' };
  running.push(r as Running);
  // Wait on the server's own log lines: the address, then readiness.
  const lines = createInterface({ input: child.stdout! });
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  r.url = await new Promise<string>((resolve, reject) => {
    let address = '';
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${stderr.join('')}`)));
    lines.on('line', (line) => {
      const msg = (JSON.parse(line) as { msg?: string }).msg ?? '';
      const listening = /^listening on (\S+)/.exec(msg);
      if (listening) address = listening[1]!;
      if (msg.startsWith('ready:')) resolve(address);
    });
  });
  return r as Running;
}

async function post(
  r: Running,
  path: string,
  body: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${r.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** SIGTERM: the server drains and exits 0. */
async function stop(r: Running): Promise<void> {
  const code = await new Promise<number | null>((resolve) => {
    r.process.once('exit', resolve);
    r.process.kill('SIGTERM');
  });
  expect(code).toBe(0);
}

/** The fixture's sample rows as records keyed by the contract's feature names. */
function sampleRecords(f: WildFixture, contract: ModelContract): Array<Record<string, unknown>> {
  if (f.samples!.records) return f.samples!.records;
  const [input, rows] = Object.entries(f.samples!.inputs!)[0]!;
  return rows.map((row) => {
    const record: Record<string, unknown> = {};
    for (const feature of contract.features.filter((x) => x.input === input))
      record[feature.name] = row[feature.column];
    return record;
  });
}

const close = (a: number, b: number, tolerance: number) =>
  expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThanOrEqual(tolerance);

/** Sample rows as one float tensor, null (missing) as NaN, as the trainers read np.nan. */
const floatRows = (rows: unknown[][]) =>
  new ort.Tensor(
    'float32',
    Float32Array.from(rows.flat(), (v) => (v === null ? NaN : Number(v))),
    [rows.length, rows[0]!.length],
  );

/** A row-major [N, C] probabilities tensor against the trainer's predict_proba. */
function expectProbabilities(data: ArrayLike<number>, f: WildFixture, classes: number) {
  Array.from(data).forEach((v, k) =>
    close(v, f.samples!.predict_proba![Math.floor(k / classes)]![k % classes]!, f.tolerance!),
  );
}

/** /predict/batch's predictions of a classifier against the trainer's predict_proba and predict. */
function expectClassified(
  predictions: Array<{ label: string; probabilities: Record<string, number> }>,
  f: WildFixture,
  contract: ModelContract,
) {
  predictions.forEach((p, i) => {
    const expected = f.samples!.predict_proba![i]!;
    contract.labels.forEach((l, c) => close(p.probabilities[l]!, expected[c]!, f.tolerance!));
    expect(p.label).toBe(String(f.samples!.predict![i]));
  });
}

/**
 * V2 infer with the fixture's sample tensor (one float input, null as NaN): the served graph's
 * own label and probabilities outputs, by name, against the trainer's predict and predict_proba.
 */
async function expectV2Classes(
  r: Running,
  f: WildFixture,
  contract: ModelContract,
  outputs: { label: string; probabilities: string },
) {
  const [input, rows] = Object.entries(f.samples!.inputs!)[0]!;
  const datatype =
    contract.inputs.find((i) => i.name === input)?.type === 'float64' ? 'FP64' : 'FP32';
  const v2 = await post(r, `/v2/models/${contract.name}/infer`, {
    inputs: [{ name: input, datatype, shape: [rows.length, rows[0]!.length], data: rows.flat() }],
  });
  expect(v2.status, JSON.stringify(v2.json)).toBe(200);
  const output = (name: string) =>
    (v2.json.outputs as Array<{ name: string; shape: number[]; data: unknown[] }>).find(
      (o) => o.name === name,
    )!;
  expect(output(outputs.label).data.map(String)).toEqual(f.samples!.predict!.map(String));
  const classes = contract.labels.length;
  expect(output(outputs.probabilities).shape).toEqual([rows.length, classes]);
  expectProbabilities(output(outputs.probabilities).data as number[], f, classes);
}

/** A record with its missing (null) features left out rather than sent as null. */
const withoutNulls = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null));

/**
 * /predict/batch of a regressor on the fixture's sample records against the trainer's predict,
 * and exactly what onnxruntime-node gives on the original file fed the sample tensor (null as
 * NaN). Returns that tensor, the `output` of the original graph.
 */
async function expectRegressed(
  r: Running,
  f: WildFixture,
  contract: ModelContract,
  output: string,
) {
  const res = await post(r, '/predict/batch', { instances: sampleRecords(f, contract) });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  const [input, rows] = Object.entries(f.samples!.inputs!)[0]!;
  const session = await ort.InferenceSession.create(join(wildDir, f.file), {
    logSeverityLevel: 3,
  });
  const original = (await session.run({ [input]: floatRows(rows) }))[output]!;
  await session.release();
  res.json.predictions.forEach((p: { prediction: number }, i: number) => {
    close(p.prediction, Number(f.samples!.predict![i]), f.tolerance!);
    expect(p.prediction).toBe((original.data as Float32Array)[i]);
  });
  return original;
}

/** onnxruntime-node on the user's original file, fetching only tensor outputs it can return. */
async function originalLabels(
  file: string,
  contract: ModelContract,
  records: Array<Record<string, unknown>>,
) {
  const session = await ort.InferenceSession.create(join(wildDir, file));
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of contract.inputs) {
      const features = contract.features.filter((x) => x.input === input.name);
      const values = records.flatMap((r) => features.map((x) => r[x.name] ?? null));
      feeds[input.name] =
        input.type === 'string'
          ? new ort.Tensor('string', values.map(String), [records.length, features.length])
          : new ort.Tensor(
              'float32',
              Float32Array.from(values, (v) => (v === null ? NaN : Number(v))),
              [records.length, features.length],
            );
    }
    const label = contract.outputNames.label!;
    const out = await session.run(feeds, [label]);
    return Array.from(out[label]!.data as ArrayLike<unknown>, String);
  } finally {
    await session.release();
  }
}

describe('scikit-learn and onnxmltools classifiers (ZipMap rewritten) answer as scikit-learn', () => {
  const files = [
    'skl-logreg-float-input.onnx',
    'skl-forest-string-labels.onnx',
    'skl-columns-mixed.onnx',
    'onnxmltools-lgbm.onnx',
    'skl-tfidf-no-locale.onnx',
  ];
  it.each(files)('%s', { timeout: 180_000 }, async (file) => {
    const f = byFile(file);
    const { contract } = await readModel(join(wildDir, file));
    const r = await serve(join(wildDir, file));
    const records = sampleRecords(f, contract);
    // "Italy" is a category the encoder never saw: rejected by default, named in the error.
    const known = records.map((rec) =>
      contract.features.every(
        (x) =>
          x.type !== 'category' ||
          x.categories.length === 0 ||
          rec[x.name] === null ||
          x.categories.includes(String(rec[x.name])),
      ),
    );
    const res = await post(r, '/predict/batch', { instances: records.filter((_, i) => known[i]) });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const predictions = res.json.predictions as Array<{
      label: string;
      probabilities: Record<string, number>;
    }>;
    // The TF-IDF export names no locale: the original does not even load here (the point of
    // the rewrite), so its answers are checked against scikit-learn's alone.
    const original = file.includes('no-locale')
      ? f.samples!.predict!.map(String)
      : await originalLabels(file, contract, records);
    let k = 0;
    for (let i = 0; i < records.length; i++) {
      if (!known[i]) {
        const refused = await post(r, '/predict', records[i]);
        expect(refused.status).toBe(400);
        expect(refused.json.error).toMatch(/unknown category/);
        continue;
      }
      const p = predictions[k++]!;
      const proba = f.samples!.predict_proba![i]!;
      contract.labels.forEach((l, c) => close(p.probabilities[l]!, proba[c]!, 1e-5));
      // The label of the original graph (the ZipMap never runs when only the label is fetched).
      if (contract.task === 'binary')
        expect(p.label === contract.positiveLabel).toBe(
          p.probabilities[contract.positiveLabel!]! >= 0.5,
        );
      else expect(p.label).toBe(original[i]);
      expect(original[i]).toBe(String(f.samples!.predict![i]));
    }
    // V2 with the graph's own tensors: the probabilities output is a plain tensor now.
    const v2 = await post(r, `/v2/models/${contract.name}/infer`, {
      inputs: contract.inputs.map((input) => {
        const features = contract.features.filter((x) => x.input === input.name);
        const rows = records.filter((_, i) => known[i]);
        return {
          name: input.name,
          datatype: input.type === 'string' ? 'BYTES' : 'FP32',
          shape: [rows.length, features.length],
          data: rows.flatMap((rec) =>
            features.map((x) => rec[x.name] ?? (input.type === 'string' ? '' : null)),
          ),
        };
      }),
    });
    // Nulls go through where the graph imputes them (NaN), as on /predict.
    expect(v2.status, JSON.stringify(v2.json)).toBe(200);
    const probabilities = v2.json.outputs.find(
      (o: { name: string }) => o.name === contract.outputNames.probabilities,
    );
    expect(probabilities.datatype).toBe('FP32');
    expect(probabilities.shape).toEqual([known.filter(Boolean).length, contract.labels.length]);
    await stop(r);
  });
});

describe("deep-learning classifiers answer with the network's probabilities", () => {
  it.each([
    ['torch-mlp-sigmoid.onnx', {}],
    ['torch-mlp-logits.onnx', { task: 'multiclass' }],
    ['keras-mlp-softmax.onnx', {}],
  ] as const)('%s', { timeout: 180_000 }, async (file, flags) => {
    const f = byFile(file);
    const { contract } = await readModel(join(wildDir, file), flags);
    const r = await serve(join(wildDir, file), flags);
    const records = sampleRecords(f, contract);
    const res = await post(r, '/predict/batch', { instances: records });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    res.json.predictions.forEach(
      (p: { label: string; probabilities: Record<string, number> }, i: number) => {
        const expected = f.samples!.predict_proba![i]!;
        f.labels!.forEach((l, c) => close(p.probabilities[l]!, expected[c]!, f.tolerance!));
        const best = expected.indexOf(Math.max(...expected));
        if (contract.task === 'binary')
          expect(p.label).toBe(expected[1]! >= contract.threshold! ? '1' : '0');
        else expect(p.label).toBe(f.labels![best]);
      },
    );
    // Triton's classification extension ranks by the same probabilities.
    const input = contract.inputs[0]!;
    const rows = f.samples!.inputs![input.name]!;
    const v2 = await post(r, `/v2/models/${contract.name}/infer`, {
      inputs: [
        {
          name: input.name,
          datatype: 'FP32',
          shape: [rows.length, rows[0]!.length],
          data: rows.flat(),
        },
      ],
      outputs: [{ name: contract.outputNames.probabilities, parameters: { classification: 1 } }],
    });
    expect(v2.status, JSON.stringify(v2.json)).toBe(200);
    (v2.json.outputs[0].data as string[]).forEach((top, i) => {
      const [p, , label] = top.split(':');
      const expected = f.samples!.predict_proba![i]!;
      close(Number(p), Math.max(...expected), f.tolerance!);
      expect(label).toBe(f.labels![expected.indexOf(Math.max(...expected))]);
    });
    await stop(r);
  });
});

describe('decision scores and distances answer by name, as the model computes them', () => {
  it.each([
    ['skl-linearsvc-binary.onnx', 'label'],
    ['skl-sgd-hinge-zipmap.onnx', 'output_label'],
    ['skl-svc-binary.onnx', 'label'],
    ['skl-kmeans.onnx', 'label'],
    ['skl-one-class-svm.onnx', 'label'],
    ['skl-isolation-forest.onnx', 'label'],
  ])('%s', { timeout: 180_000 }, async (file, labelOutput) => {
    const f = byFile(file);
    const { contract } = await readModel(join(wildDir, file));
    const r = await serve(join(wildDir, file));
    const res = await post(r, '/predict/batch', { instances: sampleRecords(f, contract) });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    res.json.predictions.forEach((p: { outputs: Record<string, unknown> }, i: number) => {
      // The model's own decision, never a label picked from the scores by the service.
      expect(String(p.outputs[labelOutput])).toBe(String(f.samples!.predict![i]));
      for (const [name, rows] of Object.entries(f.samples!.scores ?? {})) {
        const served = [p.outputs[name]].flat() as number[];
        rows[i]!.forEach((v, j) => close(served[j]!, v, f.tolerance!));
      }
      expect(p).not.toHaveProperty('probabilities');
    });
    await stop(r);
  });
});

describe("CatBoost's own exports answer as CatBoost's predict_proba and predict", () => {
  it.each(['catboost-binary.onnx', 'catboost-binary-labels-1-2.onnx', 'catboost-multiclass.onnx'])(
    '%s',
    { timeout: 180_000 },
    async (file) => {
      const f = byFile(file);
      const { contract } = await readModel(join(wildDir, file));
      const r = await serve(join(wildDir, file));
      const records = sampleRecords(f, contract);
      const res = await post(r, '/predict/batch', { instances: records });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      // onnxruntime on the exported file: CatBoost's class, except where the generator found its
      // label to be the class index (a binary model with labels other than 0 and 1).
      const original = await originalLabels(file, contract, records);
      const recomputed = contract.origin!.rewrites.some((l) => l.startsWith('output "label"'));
      expect(recomputed).toBe(file.includes('labels-1-2'));
      expectClassified(res.json.predictions, f, contract);
      res.json.predictions.forEach((p: { label: string }, i: number) => {
        const index = String(contract.labels.indexOf(p.label));
        expect(original[i]).toBe(recomputed ? index : p.label);
      });
      // V2 returns the served graph's own tensors: its label is CatBoost's class too.
      await expectV2Classes(r, f, contract, { label: 'label', probabilities: 'probabilities' });
      await stop(r);
    },
  );

  it('catboost-regressor.onnx', { timeout: 180_000 }, async () => {
    const f = byFile('catboost-regressor.onnx');
    const { contract } = await readModel(join(wildDir, f.file));
    const r = await serve(join(wildDir, f.file));
    const original = await expectRegressed(r, f, contract, 'predictions');
    expect(original.dims).toEqual([f.samples!.inputs!.features!.length, 1]);
    await stop(r);
  });
});

describe("onnxmltools' XGBoost exports answer as XGBoost's predict_proba and predict, missing values included", () => {
  it.each(['onnxmltools-xgb-binary.onnx', 'onnxmltools-xgb-multiclass.onnx'])(
    '%s',
    { timeout: 180_000 },
    async (file) => {
      const f = byFile(file);
      const { contract, rewritten } = await readModel(join(wildDir, file));
      // No ZipMap and a label onnxruntime gets right: the user's graph is served as it is.
      expect(rewritten).toBe(false);
      expect(contract.features.every((x) => x.type !== 'text' && x.nullable)).toBe(true);
      const records = sampleRecords(f, contract);
      expect(records.some((rec) => Object.values(rec).includes(null))).toBe(true);
      const r = await serve(join(wildDir, file));
      const res = await post(r, '/predict/batch', { instances: records });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      const original = await originalLabels(file, contract, records);
      expectClassified(res.json.predictions, f, contract);
      res.json.predictions.forEach((p: { label: string }, i: number) =>
        expect(original[i]).toBe(p.label),
      );
      // One row at a time, a missing feature sent as null or left out.
      const missing = records.findIndex((rec) => Object.values(rec).includes(null));
      for (const body of [records[missing], withoutNulls(records[missing]!)]) {
        const one = await post(r, '/predict', body);
        expect(one.status, JSON.stringify(one.json)).toBe(200);
        expect(one.json.label).toBe(String(f.samples!.predict![missing]));
      }
      // V2: the graph's own tensors, null in the data as NaN.
      await expectV2Classes(r, f, contract, { label: 'label', probabilities: 'probabilities' });
      // And onnxruntime-node on the original file gives the same probabilities.
      const session = await ort.InferenceSession.create(join(wildDir, file));
      const rows = f.samples!.inputs!.input!;
      const direct = (await session.run({ input: floatRows(rows) })).probabilities!;
      await session.release();
      expectProbabilities(direct.data as Float32Array, f, contract.labels.length);
      await stop(r);
    },
  );

  it('onnxmltools-xgb-regressor.onnx', { timeout: 180_000 }, async () => {
    const f = byFile('onnxmltools-xgb-regressor.onnx');
    const { contract } = await readModel(join(wildDir, f.file));
    expect(contract).toMatchObject({ task: 'regression', outputNames: { prediction: 'variable' } });
    const r = await serve(join(wildDir, f.file));
    await expectRegressed(r, f, contract, 'variable');
    await stop(r);
  });
});

describe("skl2onnx's HistGradientBoosting exports answer as scikit-learn's predict_proba and predict, missing values included", () => {
  it.each(['skl-hist-gb-binary.onnx', 'skl-hist-gb-multiclass.onnx'])(
    '%s',
    { timeout: 180_000 },
    async (file) => {
      const f = byFile(file);
      const { contract } = await readModel(join(wildDir, file));
      expect(contract.features.every((x) => x.type !== 'text' && x.nullable)).toBe(true);
      const records = sampleRecords(f, contract);
      expect(records.some((rec) => Object.values(rec).includes(null))).toBe(true);
      const r = await serve(join(wildDir, file));
      const res = await post(r, '/predict/batch', { instances: records });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      // onnxruntime-node on the original file (its label; the ZipMap's map cannot be fetched).
      const original = await originalLabels(file, contract, records);
      expectClassified(res.json.predictions, f, contract);
      res.json.predictions.forEach((p: { label: string }, i: number) =>
        expect(original[i]).toBe(p.label),
      );
      // One row at a time, every row with a missing feature sent with null and with the key left out.
      for (const [i, record] of records.entries()) {
        if (!Object.values(record).includes(null)) continue;
        for (const body of [record, withoutNulls(record)]) {
          const one = await post(r, '/predict', body);
          expect(one.status, JSON.stringify(one.json)).toBe(200);
          expect(one.json.label).toBe(String(f.samples!.predict![i]));
        }
      }
      // V2: the served graph's own tensors (the ZipMap's input under its name), null as NaN.
      await expectV2Classes(r, f, contract, {
        label: 'output_label',
        probabilities: 'output_probability',
      });
      // The original file fed the same tensor gives scikit-learn's labels too.
      const session = await ort.InferenceSession.create(join(wildDir, file));
      const [input, rows] = Object.entries(f.samples!.inputs!)[0]!;
      const direct = (await session.run({ [input]: floatRows(rows) }, ['output_label']))
        .output_label!;
      await session.release();
      expect(Array.from(direct.data as ArrayLike<unknown>, String)).toEqual(
        f.samples!.predict!.map(String),
      );
      await stop(r);
    },
  );

  it('skl-hist-gb-regressor.onnx', { timeout: 180_000 }, async () => {
    const f = byFile('skl-hist-gb-regressor.onnx');
    const { contract } = await readModel(join(wildDir, f.file));
    expect(contract).toMatchObject({ task: 'regression', outputNames: { prediction: 'variable' } });
    const records = sampleRecords(f, contract);
    expect(records.some((rec) => Object.values(rec).includes(null))).toBe(true);
    const r = await serve(join(wildDir, f.file));
    const original = await expectRegressed(r, f, contract, 'variable');
    // A missing feature left out of a record is missing too.
    const missing = records.findIndex((rec) => Object.values(rec).includes(null));
    const one = await post(r, '/predict', withoutNulls(records[missing]!));
    expect(one.status, JSON.stringify(one.json)).toBe(200);
    expect(one.json.prediction).toBe((original.data as Float32Array)[missing]);
    await stop(r);
  });
});

describe("skl2onnx's exports from float64 data (to_onnx(model, X64[:1]): input 'X' double) answer as scikit-learn", () => {
  it.each(['skl-logreg-double.onnx', 'skl-forest-double.onnx'])(
    '%s',
    { timeout: 180_000 },
    async (file) => {
      const f = byFile(file);
      const { contract } = await readModel(join(wildDir, file));
      expect(contract.inputs.map((i) => [i.name, i.type])).toEqual([['X', 'float64']]);
      const records = sampleRecords(f, contract);
      const r = await serve(join(wildDir, file));
      const res = await post(r, '/predict/batch', { instances: records });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expectClassified(res.json.predictions, f, contract);
      const one = await post(r, '/predict', records[0]);
      expect(one.status, JSON.stringify(one.json)).toBe(200);
      expect(one.json.label).toBe(String(f.samples!.predict![0]));
      // V2 with the graph's own double input (FP64), the sample rows unrounded.
      await expectV2Classes(r, f, contract, {
        label: 'output_label',
        probabilities: 'output_probability',
      });
      await stop(r);
    },
  );
});

describe('regressors and pipelines', () => {
  it(
    'a fixed batch of 1: batches and concurrent requests answer 200 with the right rows',
    { timeout: 180_000 },
    async () => {
      const f = byFile('skl-fixed-batch-regressor.onnx');
      const { contract } = await readModel(join(wildDir, f.file));
      const r = await serve(join(wildDir, f.file));
      const records = sampleRecords(f, contract);
      const batch = await post(r, '/predict/batch', { instances: records });
      expect(batch.status, JSON.stringify(batch.json)).toBe(200);
      batch.json.predictions.forEach((p: { prediction: number }, i: number) =>
        close(p.prediction, Number(f.samples!.predict![i]), 1e-4),
      );
      const concurrent = await Promise.all(
        Array.from({ length: 20 }, (_, i) => post(r, '/predict', records[i % records.length])),
      );
      concurrent.forEach((res, i) => {
        expect(res.status).toBe(200);
        close(res.json.prediction, Number(f.samples!.predict![i % records.length]), 1e-4);
      });
      await stop(r);
    },
  );

  it(
    'a preprocessing pipeline (--task tensor) returns both outputs by name',
    { timeout: 180_000 },
    async () => {
      const f = byFile('skl-preprocessing-two-outputs.onnx');
      const { contract } = await readModel(join(wildDir, f.file), { task: 'tensor' });
      const r = await serve(join(wildDir, f.file), { task: 'tensor' });
      const records = sampleRecords(f, contract);
      const res = await post(r, '/predict/batch', { instances: records });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      res.json.predictions.forEach((p: { outputs: Record<string, number[]> }, i: number) => {
        for (const [name, rows] of Object.entries(f.samples!.transform!))
          rows[i]!.forEach((v, j) => close(p.outputs[name]![j]!, v, 1e-4));
      });
      await stop(r);
    },
  );

  it(
    'a PyTorch 2.9 export with its weights in a .data file: the project ships one graph that answers as the network',
    { timeout: 180_000 },
    async () => {
      const f = byFile('torch-dynamo-mlp.onnx');
      const { contract } = await readModel(join(wildDir, f.file));
      const r = await serve(join(wildDir, f.file));
      expect(readdirSync(join(r.dir, 'model')).filter((n) => n.endsWith('.data'))).toEqual([]);
      const res = await post(r, '/predict/batch', { instances: sampleRecords(f, contract) });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      res.json.predictions.forEach((p: { prediction: number }, i: number) =>
        close(p.prediction, Number(f.samples!.predict![i]), f.tolerance!),
      );
      await stop(r);
    },
  );

  it('a symbolic width with a sidecar listing the features', { timeout: 180_000 }, async () => {
    const f = byFile('symbolic-width.onnx');
    const dir = await tempDir('cms-wild-width-');
    await copyFile(join(wildDir, f.file), join(dir, 'model.onnx'));
    await writeFile(
      join(dir, 'model.schema.json'),
      JSON.stringify({
        schemaVersion: 1,
        name: 'width',
        version: '1.0.0',
        features: ['x0', 'x1', 'x2', 'x3'].map((name) => ({ name, type: 'number' })),
      }),
    );
    const { contract } = await readModel(join(dir, 'model.onnx'));
    const r = await serve(join(dir, 'model.onnx'));
    const res = await post(r, '/predict/batch', { instances: sampleRecords(f, contract) });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    res.json.predictions.forEach((p: { prediction: number }, i: number) =>
      close(p.prediction, Number(f.samples!.predict![i]), 1e-4),
    );
    await stop(r);
  });
});

/** Seeded float inputs at the example shapes, and onnxruntime-node's answer on the original file. */
async function tensorCase(file: string, contract: ModelContract, seed: number, rows = 1) {
  let state = seed;
  const next = () => ((state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const inputs = contract.inputs.map((i) => {
    const shape = [...contract.exampleShapes![i.name]!];
    if (contract.batching.mode !== 'none') shape[0] = rows;
    const size = shape.reduce((a, b) => a * b, 1);
    const data =
      i.type === 'int64'
        ? Array.from({ length: size }, () => 16000)
        : Array.from({ length: size }, () => Math.fround(next()));
    return { name: i.name, type: i.type, shape, data };
  });
  const session = await ort.InferenceSession.create(join(wildDir, file));
  // A graph with a fixed batch runs row by row; its answers are joined in order.
  const runs = contract.batching.mode === 'fixed' ? rows : 1;
  const expected: Record<string, number[]> = {};
  try {
    for (let r = 0; r < runs; r++) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const i of inputs) {
        const per = i.data.length / runs;
        const data = i.data.slice(r * per, (r + 1) * per);
        const shape = runs > 1 ? [1, ...i.shape.slice(1)] : i.shape;
        feeds[i.name] =
          i.type === 'int64'
            ? new ort.Tensor(
                'int64',
                BigInt64Array.from(data, (v) => BigInt(v)),
                shape,
              )
            : new ort.Tensor('float32', Float32Array.from(data), shape);
      }
      const out = await session.run(feeds);
      for (const [n, t] of Object.entries(out))
        (expected[n] ??= []).push(...Array.from(t.data as Float32Array));
    }
    return { inputs, expected };
  } finally {
    await session.release();
  }
}

describe('PyTorch exports served by named tensors', () => {
  it.each(['torch-image-nchw.onnx', 'torch-image-fixed-batch.onnx', 'torch-audio-stateful.onnx'])(
    '%s: /predict and V2 equal onnxruntime-node on the original',
    { timeout: 180_000 },
    async (file) => {
      const { contract } = await readModel(join(wildDir, file));
      const r = await serve(join(wildDir, file));
      const rows = contract.batching.mode === 'none' ? 1 : 3;
      const { inputs, expected } = await tensorCase(file, contract, 7, rows);
      const v2 = await post(r, `/v2/models/${contract.name}/infer`, {
        inputs: inputs.map((i) => ({
          name: i.name,
          datatype: i.type === 'int64' ? 'INT64' : 'FP32',
          shape: i.shape,
          data: i.data,
        })),
      });
      expect(v2.status, JSON.stringify(v2.json).slice(0, 500)).toBe(200);
      for (const o of v2.json.outputs as Array<{ name: string; data: number[] }>)
        o.data.forEach((v, j) => close(v, expected[o.name]![j]!, 1e-4));
      const nested = (data: number[], shape: number[]): unknown =>
        shape.length === 0
          ? data[0]
          : shape.length === 1
            ? data
            : Array.from({ length: shape[0]! }, (_, k) =>
                nested(
                  data.slice((k * data.length) / shape[0]!, ((k + 1) * data.length) / shape[0]!),
                  shape.slice(1),
                ),
              );
      const predict = await post(
        r,
        '/predict',
        Object.fromEntries(inputs.map((i) => [i.name, nested(i.data, i.shape)])),
      );
      expect(predict.status).toBe(200);
      for (const [name, t] of Object.entries(
        predict.json.outputs as Record<string, { data: number[] }>,
      ))
        t.data.forEach((v, j) => close(v, expected[name]![j]!, 1e-4));
      await stop(r);
    },
  );

  it(
    'a transformer with its tokenizer.json: /predict takes text, labels from config.json',
    { timeout: 180_000 },
    async () => {
      const expected = (
        await import(join(wildDir, 'transformer/expected.json'), { with: { type: 'json' } })
      ).default as {
        texts: string[];
        logits: number[][];
      };
      const r = await serve(join(wildDir, 'transformer/model.onnx'));
      const res = await post(r, '/predict/batch', {
        instances: expected.texts.map((text) => ({ text })),
      });
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      res.json.predictions.forEach(
        (p: { label: string; probabilities: Record<string, number> }, i: number) => {
          const logits = expected.logits[i]!;
          const max = Math.max(...logits);
          const exp = logits.map((v) => Math.exp(v - max));
          const total = exp.reduce((a, b) => a + b, 0);
          ['positive', 'negative', 'neutral'].forEach((label, c) =>
            close(p.probabilities[label]!, exp[c]! / total, 1e-4),
          );
          expect(p.label).toBe(['positive', 'negative', 'neutral'][logits.indexOf(max)]);
        },
      );
      await stop(r);
    },
  );
});

describe("the generated project's own test suite", () => {
  // The image network is generated for both clouds, so its deploy layers (manifests without a drift
  // job: a tensor model has no drift baseline) are synthesized and tested too.
  // A preprocessing pipeline is a records model served as task tensor: a project without
  // feedback, live quality or a challenger.
  const cases: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ['skl-fixed-batch-regressor.onnx', {}],
    ['skl-preprocessing-two-outputs.onnx', { task: 'tensor' }],
    [
      'torch-image-nchw.onnx',
      {
        cloud: 'both',
        gcpProject: 'wild-project',
        awsAccountId: '123456789012',
        githubRepo: 'acme/churn-api',
      },
    ],
  ];
  it.each(cases)('%s: npm test passes', { timeout: 420_000 }, async (file, flags) => {
    const dir = await generateProject(
      {
        model: join(wildDir, file),
        name: 'wild-svc',
        description: 'A model from the wild corpus.',
        ...flags,
      },
      { prefix: 'cms-wild-suite-' },
    );
    const cache = await installCached(dir);
    await symlink(join(cache, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const test = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CI: '1', FORCE_COLOR: '0' },
    });
    expect(test.status, `${test.stdout}\n${test.stderr}`.slice(-4000)).toBe(0);
    const out = test.stdout.replace(/\u001b\[[0-9;]*m/g, '');
    expect(out).toMatch(/Tests\s+\d+ passed/);
    if (flags.cloud) {
      expect(out).toContain('deploy/k8s/test/safety.test.ts');
      expect(out).toContain('deploy/infra/test/joins.test.ts');
    }
  });
});
