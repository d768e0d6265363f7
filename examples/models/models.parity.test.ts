/**
 * Parity of the committed example models: onnxruntime-node on artifacts/model.onnx must reproduce the
 * scikit-learn outputs saved in golden.json at training time, and the artifacts must agree with each
 * other (schema <-> graph, lineage <-> model bytes, quality bars). No Python needed.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

type Value = number | string | null;
interface Feature {
  name: string;
  type: 'number' | 'integer' | 'category' | 'text';
  categories?: string[];
  nullable?: boolean;
  minLength?: number;
  maxLength?: number;
}
interface Schema {
  name: string;
  task: 'binary' | 'multiclass' | 'regression' | 'text-classification';
  features: Feature[];
  outputs: { label?: string; probabilities?: string; prediction?: string };
  labels?: string[];
  positiveLabel?: string;
  threshold?: number;
}
interface GoldenCase {
  input: Record<string, Value>;
  label?: string;
  probabilities?: number[];
  prediction?: number;
}
interface Metrics {
  split: { kind: string; train: number; test: number };
  headline: { name: string; value: number };
  [k: string]: unknown;
}

const PROBA_ABS_TOL = 1e-5;
const REG_REL_TOL = 1e-4;

interface ModelSpec {
  dir: string;
  headline: string;
  bar: number;
  split: 'stratified-random' | 'temporal';
  maxModelBytes: number;
  /** extra golden requirements that make the parity meaningful for this model */
  goldenCheck: (cases: GoldenCase[]) => void;
}

const models: ModelSpec[] = [
  {
    dir: 'bank-churn',
    headline: 'roc_auc',
    bar: 0.85,
    split: 'stratified-random',
    maxModelBytes: 3 * 1024 * 1024,
    goldenCheck: (cases) => {
      // imputation is only tested if some cases have a missing Tenure
      expect(cases.filter((c) => c.input.Tenure === null).length).toBeGreaterThanOrEqual(3);
      expect(new Set(cases.map((c) => c.label))).toEqual(new Set(['stayed', 'exited']));
    },
  },
  {
    dir: 'nlp-insight',
    headline: 'macro_f1',
    bar: 0.75,
    split: 'stratified-random',
    maxModelBytes: 5 * 1024 * 1024,
    goldenCheck: (cases) => {
      const texts = cases.map((c) => String(c.input.text));
      // tokenizer parity cases: cashtags, numbers/percentages, upper case, punctuation, no tokens, non-ASCII
      expect(texts.some((t) => /\$[A-Z]{1,5}\b/.test(t))).toBe(true);
      expect(texts.some((t) => /\d+(\.\d+)?%/.test(t))).toBe(true);
      expect(texts.some((t) => /[A-Z]{4,}/.test(t) && t === t.toUpperCase())).toBe(true);
      expect(texts).toContain('!!!');
      expect(texts.some((t) => /[^\x00-\x7f]/.test(t))).toBe(true);
      expect(texts.some((t) => t.length > 2000)).toBe(true);
      expect(new Set(cases.map((c) => c.label))).toEqual(
        new Set(['negative', 'neutral', 'positive']),
      );
    },
  },
  {
    dir: 'chicago-taxi',
    headline: 'r2',
    bar: 0.9,
    split: 'temporal',
    maxModelBytes: 3 * 1024 * 1024,
    goldenCheck: (cases) => {
      const preds = cases.map((c) => c.prediction as number);
      expect(Math.min(...preds)).toBeLessThan(1);
      expect(Math.max(...preds)).toBeGreaterThan(50);
    },
  },
];

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function isText(f: Feature): boolean {
  return f.type === 'category' || f.type === 'text';
}

/** One [N, 1] tensor per feature: Float32Array for numbers (null -> NaN), strings otherwise. */
function feeds(features: Feature[], rows: Record<string, Value>[]): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const f of features) {
    const values = rows.map((r) => {
      if (!(f.name in r)) throw new Error(`golden input lacks ${f.name}`);
      return r[f.name] ?? null;
    });
    if (isText(f)) {
      if (values.some((v) => typeof v !== 'string')) throw new Error(`${f.name}: expected strings`);
      out[f.name] = new Tensor('string', values as string[], [rows.length, 1]);
    } else {
      const data = Float32Array.from(values, (v) => (v === null ? Number.NaN : Number(v)));
      out[f.name] = new Tensor('float32', data, [rows.length, 1]);
    }
  }
  return out;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

for (const spec of models) {
  describe(`${spec.dir} model`, () => {
    const dir = join(here, spec.dir, 'artifacts');
    const schema = readJson<Schema>(join(dir, 'model.schema.json'));
    const golden = readJson<{ cases: GoldenCase[] }>(join(dir, 'golden.json')).cases;
    const metrics = readJson<Metrics>(join(dir, 'metrics.json'));
    const classification = schema.task !== 'regression';
    let session: InferenceSession;

    beforeAll(async () => {
      session = await InferenceSession.create(join(dir, 'model.onnx'), {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
    });
    afterAll(async () => {
      await session?.release();
    });

    it('graph inputs are the schema features, in order, one [N,1] tensor each', () => {
      expect(session.inputNames).toEqual(schema.features.map((f) => f.name));
      const meta = session.inputMetadata;
      schema.features.forEach((f, i) => {
        const m = meta[i];
        expect(m?.name).toBe(f.name);
        expect(m && m.isTensor && m.type).toBe(isText(f) ? 'string' : 'float32');
        expect(m && m.isTensor && m.shape.length).toBe(2);
        expect(m && m.isTensor && m.shape[1]).toBe(1);
      });
      const wanted = classification
        ? [schema.outputs.label, schema.outputs.probabilities]
        : [schema.outputs.prediction];
      expect([...session.outputNames].sort()).toEqual([...wanted].sort());
    });

    it('golden cases are many, held-out-like and cover what parity must prove', () => {
      expect(golden.length).toBeGreaterThanOrEqual(40);
      expect(golden.length).toBeLessThanOrEqual(100);
      for (const c of golden) {
        expect(Object.keys(c.input).sort()).toEqual(schema.features.map((f) => f.name).sort());
        if (classification) {
          const p = c.probabilities as number[];
          expect(p).toHaveLength(schema.labels!.length);
          expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
          // the golden label follows the served decision rule
          const expected =
            schema.threshold !== undefined
              ? schema.labels![p[1]! >= schema.threshold ? 1 : 0]
              : schema.labels![p.indexOf(Math.max(...p))];
          expect(c.label).toBe(expected);
        } else {
          expect(typeof c.prediction).toBe('number');
        }
      }
      spec.goldenCheck(golden);
    });

    async function check(cases: GoldenCase[], offset: number): Promise<string[]> {
      const out = await session.run(
        feeds(
          schema.features,
          cases.map((c) => c.input),
        ),
      );
      const problems: string[] = [];
      const n = cases.length;
      if (classification) {
        const labels = out[schema.outputs.label!]!;
        const proba = out[schema.outputs.probabilities!]!;
        const k = schema.labels!.length;
        expect(labels.type).toBe('int64');
        expect(labels.dims).toEqual([n]);
        expect(proba.type).toBe('float32');
        expect(proba.dims).toEqual([n, k]);
        cases.forEach((c, i) => {
          const got = Array.from(proba.data as Float32Array).slice(i * k, i * k + k);
          const worst = Math.max(...got.map((g, j) => Math.abs(g - c.probabilities![j]!)));
          if (!(worst <= PROBA_ABS_TOL)) {
            problems.push(`case ${offset + i}: |dp| = ${worst} (${got} vs ${c.probabilities})`);
          }
          const label = schema.labels![Number((labels.data as BigInt64Array)[i])];
          if (label !== c.label) problems.push(`case ${offset + i}: label ${label} vs ${c.label}`);
        });
      } else {
        const pred = out[schema.outputs.prediction!]!;
        expect(pred.type).toBe('float32');
        expect(pred.dims.reduce((a, b) => a * b, 1)).toBe(n);
        expect(pred.dims[0]).toBe(n);
        cases.forEach((c, i) => {
          const got = (pred.data as Float32Array)[i]!;
          const want = c.prediction!;
          // relative tolerance, with a floor of 1 (trips) so near-zero predictions are not held to 1e-8
          const tol = REG_REL_TOL * Math.max(Math.abs(want), 1);
          if (!(Math.abs(got - want) <= tol)) {
            problems.push(`case ${offset + i}: ${got} vs ${want}`);
          }
        });
      }
      return problems;
    }

    it(`onnxruntime reproduces scikit-learn on all golden cases in one batch`, async () => {
      expect(await check(golden, 0)).toEqual([]);
    });

    it(`onnxruntime reproduces scikit-learn case by case (batch-independent)`, async () => {
      const problems: string[] = [];
      for (let i = 0; i < golden.length; i++) problems.push(...(await check([golden[i]!], i)));
      expect(problems).toEqual([]);
    });

    it(`metrics.json headline ${spec.headline} meets the bar (>= ${spec.bar})`, () => {
      expect(metrics.headline.name).toBe(spec.headline);
      expect(metrics.headline.value).toBe(metrics[spec.headline]);
      expect(metrics.headline.value).toBeGreaterThanOrEqual(spec.bar);
      expect(metrics.headline.value).toBeLessThanOrEqual(1);
      expect(metrics.split.kind).toBe(spec.split);
      expect(metrics.split.train).toBeGreaterThan(metrics.split.test);
      expect(metrics.split.test).toBeGreaterThan(0);
    });

    it('artifacts are consistent and small', () => {
      const lineage = readJson<{
        seed: number;
        model: { sha256: string };
        data: { source: string };
      }>(join(dir, 'lineage.json'));
      expect(lineage.model.sha256).toBe(sha256(join(dir, 'model.onnx')));
      expect(statSync(join(dir, 'model.onnx')).size).toBeLessThan(spec.maxModelBytes);
      for (const f of ['golden.json', 'background.json', 'drift_baseline.json', 'MODEL_CARD.md']) {
        expect(statSync(join(dir, f)).size).toBeLessThan(5 * 1024 * 1024);
      }
      const names = schema.features.map((f) => f.name);
      const bg = readJson<{ rows: Record<string, Value>[] }>(join(dir, 'background.json')).rows;
      expect(bg.length).toBeGreaterThanOrEqual(20);
      expect(bg.length).toBeLessThanOrEqual(100);
      for (const r of bg) expect(Object.keys(r).sort()).toEqual([...names].sort());
      const drift = readJson<{
        sampleSize: number;
        features: Record<string, Record<string, unknown>>;
      }>(join(dir, 'drift_baseline.json'));
      expect(drift.sampleSize).toBe(metrics.split.train);
      expect(Object.keys(drift.features).sort()).toEqual([...names].sort());
      for (const f of schema.features) {
        const d = drift.features[f.name]!;
        if (f.type === 'category') {
          expect(d.kind).toBe('categorical');
          const freq = d.frequencies as Record<string, number>;
          expect(Object.keys(freq).sort()).toEqual([...f.categories!].sort());
          expect(Object.values(freq).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        } else {
          expect(d.kind).toBe(f.type === 'text' ? 'text' : 'numeric');
          const edges = (f.type === 'text' ? d.lengthEdges : d.edges) as number[];
          const props = d.proportions as number[];
          expect(edges).toHaveLength(9);
          expect(edges.every((e, i) => i === 0 || e >= edges[i - 1]!)).toBe(true);
          expect(props).toHaveLength(10);
          expect(props.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        }
      }
    });

    if (schema.features.some((f) => f.type === 'category')) {
      it('unknown categories are encoded as all-zero one-hot rows (no error, valid probabilities)', async () => {
        const input = { ...golden[0]!.input };
        for (const f of schema.features)
          if (f.type === 'category') input[f.name] = 'not-a-category';
        const out = await session.run(feeds(schema.features, [input]));
        const p = Array.from(out[schema.outputs.probabilities!]!.data as Float32Array);
        expect(p.every((v) => v >= 0 && v <= 1)).toBe(true);
        expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
      });
    }
  });
}
