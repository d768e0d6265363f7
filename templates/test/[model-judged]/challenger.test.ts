/**
 * A challenger in shadow (ADR 0017), on a real process where it matters: a second model in
 * `challenger/` beside the model runs on a deterministic sample of live traffic after the champion
 * answered, logs its outputs under the champion's predictionId, joins the truth POST /feedback
 * brings, and GET /monitoring/challenger reports agreement, the paired tests and a verdict. A
 * challenger that does not take the champion's features stops the start; a challenger that blocks
 * never holds a prediction (its samples are skipped and counted instead).
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Golden, loadModel } from '../src/model/artifacts.js';
import { contract } from '../src/model/contract.js';
import { sampled } from '../src/monitoring/challenger.js';
import { externalWeightsModel, mismatchedModel } from './helpers/broken-models.js';
import { builtServer, projectRoot } from './helpers/build.js';
import { Chaos, chaosWorkerFile } from './helpers/chaos.js';
import { runToExit, startServer } from './helpers/child.js';
import { startService } from './helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'challenger-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const modelDir = join(projectRoot, 'model');
const sidecarPath = join(modelDir, 'model.schema.json');

/** A copy of the project's model folder (files only) at `target`. */
function copyModel(target: string): string {
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(modelDir))
    if (statSync(join(modelDir, name)).isFile())
      copyFileSync(join(modelDir, name), join(target, name));
  return join(target, 'model.onnx');
}

/** A model folder whose `challenger/` holds the same model: the two always agree. */
function modelWithTwin(name: string): string {
  const path = copyModel(join(dir, name));
  copyModel(join(dir, name, 'challenger'));
  return path;
}

async function post(address: string, path: string, body: unknown) {
  const res = await fetch(new URL(path, address), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

async function report(address: string): Promise<any> {
  return (await fetch(new URL('/monitoring/challenger', address))).json();
}

/** Polls the report until `done` holds (the challenger answers after the champion, off the request). */
async function reportWhen(address: string, done: (r: any) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await report(address);
    if (done(r)) return r;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(r)}`);
  }
}

function truthOf(c: Golden['cases'][number], i: number): { label: string } | { value: number } {
  if ('prediction' in c) return { value: c.prediction * 1.1 };
  const wrong = contract.labels.find((l) => l !== String(c.label))!;
  return { label: i % 5 === 0 ? wrong : String(c.label) };
}

describe('a challenger in shadow', () => {
  it('runs on its deterministic sample, logs under the predictionId, agrees with its twin and keeps the champion', async (ctx) => {
    const golden = (await loadModel(contract, join(modelDir, 'model.onnx'))).golden;
    if (!golden) return ctx.skip();
    const logPath = join(dir, 'challenger.jsonl');
    const predictionLog = join(dir, 'predictions.jsonl');
    const server = await startServer({
      WORKERS: '1',
      MODEL_PATH: modelWithTwin('twin'),
      PREDICTION_LOG_PATH: predictionLog,
      FEEDBACK_LOG_PATH: '',
      CHALLENGER_LOG_PATH: logPath,
      CHALLENGER_SAMPLE_RATE: '0.5',
      CHALLENGER_MIN_SAMPLES: '20',
      CHALLENGER_RESAMPLES: '200',
    });
    try {
      expect(server.output()).toMatch(/a challenger runs in shadow on 50% of predictions/);
      const before = await report(server.address);
      expect(before).toMatchObject({ enabled: true, samples: 0, verdict: 'insufficient-data' });

      // Rows enough for the minimum sample of the half that is sampled.
      const inputs = golden.cases.map((c) => c.input);
      const ids: string[] = [];
      const feedback: Array<Record<string, unknown>> = [];
      while (ids.filter((id) => sampled(id, 0.5)).length < 40) {
        const res = await post(server.address, '/predict/batch', { instances: inputs });
        expect(res.status).toBe(200);
        res.json.predictions.forEach((p: { predictionId: string }, i: number) => {
          ids.push(p.predictionId);
          feedback.push({ predictionId: p.predictionId, ...truthOf(golden.cases[i]!, i) });
        });
      }
      const chosen = ids.filter((id) => sampled(id, 0.5));
      expect(chosen.length).toBeLessThan(ids.length);
      const shadowed = await reportWhen(server.address, (r) => r.samples === chosen.length);
      expect(shadowed.skipped).toEqual({ queue_full: 0, not_ready: 0, failed: 0 });
      expect(shadowed.agreement).toEqual(
        contract.task === 'regression'
          ? { pairs: chosen.length, meanAbsDelta: 0 }
          : { pairs: chosen.length, rate: 1 },
      );
      expect(shadowed.verdict).toBe('insufficient-data');

      const given = await post(server.address, '/feedback', { feedback });
      expect(given.json.accepted).toBe(feedback.length);
      // The report is reused for a moment after it was computed: wait for the truth to show.
      const judged = await reportWhen(server.address, (r) => r.window.withTruth > 0);
      expect(judged.window).toEqual({ pairs: chosen.length, withTruth: chosen.length });
      expect(judged.comparison.samples).toBe(chosen.length);
      // The same model twice: no discordant pair, no difference, nothing to promote.
      expect(judged.verdict).toBe('keep');
      if (contract.task === 'regression') {
        expect(judged.comparison.mae.delta).toMatchObject({ estimate: 0, low: 0, high: 0 });
      } else {
        expect(judged.comparison.mcnemar).toMatchObject({ b: 0, c: 0, pValue: 1 });
        expect(judged.comparison.accuracy.champion).toBe(judged.comparison.accuracy.challenger);
        if (judged.comparison.auc?.delta)
          expect(judged.comparison.auc.delta).toMatchObject({ estimate: 0, low: 0, high: 0 });
      }

      const scrape = await (await fetch(new URL('/metrics', server.address))).text();
      expect(scrape).toMatch(
        new RegExp(`^mlservice_challenger_samples_total ${chosen.length}$`, 'm'),
      );
      expect(scrape).toMatch(
        new RegExp(
          `^mlservice_challenger_agreement ${contract.task === 'regression' ? 0 : 1}$`,
          'm',
        ),
      );
      expect(scrape).toMatch(/^mlservice_workers_ready\{pool="challenger"\} 1$/m);

      server.process.kill('SIGTERM');
      expect((await server.exited).code).toBe(0);
      const lines = readFileSync(logPath, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l.predictionId).sort()).toEqual([...chosen].sort());
      expect(Object.keys(lines[0]!).sort()).toEqual([
        'modelVersion',
        'outputs',
        'predictionId',
        'time',
      ]);
      expect(lines[0]!.modelVersion).toBe(judged.model.version);
      // Each line carries the time of the champion's answer: its prediction log line's.
      const answered = new Map(
        readFileSync(predictionLog, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { predictionId: string; time: string })
          .map((l) => [l.predictionId, l.time]),
      );
      for (const l of lines) expect(l.time).toBe(answered.get(l.predictionId as string));
    } finally {
      server.process.kill('SIGTERM');
      await server.exited;
    }
  });

  it("refuses to start when the challenger does not take the champion's features, naming the feature and the fix", async (ctx) => {
    let sidecar: { features: Array<{ name: string }> };
    try {
      sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8'));
    } catch {
      return ctx.skip(); // a model without a sidecar: only its graph can be checked (next test)
    }
    const modelPath = copyModel(join(dir, 'misfit'));
    copyModel(join(dir, 'misfit', 'challenger'));
    const renamed = sidecar.features[0]!.name;
    sidecar.features[0] = { ...sidecar.features[0]!, name: `${renamed}_v2` };
    writeFileSync(join(dir, 'misfit', 'challenger', 'model.schema.json'), JSON.stringify(sidecar));
    const run = await runToExit(builtServer, { MODEL_PATH: modelPath, PREDICTION_LOG_PATH: '' });
    expect(run.code).toBe(1);
    expect(run.output).toContain(
      `the challenger in ${join(dir, 'misfit', 'challenger')} does not take the champion's features`,
    );
    expect(run.output).toContain(`feature ${renamed} (`);
    expect(run.output).toContain('is gone');
    expect(run.output).toMatch(/or set CHALLENGER_DIR empty/);
  });

  it("refuses to start when the challenger graph is not the champion's, and says it was the challenger", async () => {
    const modelPath = copyModel(join(dir, 'other-graph'));
    mismatchedModel(join(dir, 'other-graph', 'challenger'));
    const run = await runToExit(builtServer, {
      MODEL_PATH: modelPath,
      PREDICTION_LOG_PATH: '',
      WORKERS: '1',
    });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/the challenger in .*other-graph\/challenger cannot start/);
    expect(run.output).toMatch(/does not match the service's contract/);
  });

  it('refuses to start when the challenger keeps its weights in another file, which the deploy would not publish', async (ctx) => {
    const modelPath = copyModel(join(dir, 'split'));
    const { tensors } = externalWeightsModel(join(dir, 'split', 'challenger'));
    if (tensors === 0) return ctx.skip(); // the graph keeps its weights in node attributes only
    const run = await runToExit(builtServer, {
      MODEL_PATH: modelPath,
      PREDICTION_LOG_PATH: '',
      WORKERS: '1',
    });
    expect(run.code).toBe(1);
    expect(run.output).toMatch(
      /split\/challenger\/model\.onnx keeps the weights of \d+ tensors? in model\.onnx\.data/,
    );
  });

  it('never slows the champion: with its worker blocked, predictions are answered and its samples skipped', async () => {
    const challengerDir = join(dir, 'blocked');
    copyModel(challengerDir);
    const chaos = new Chaos();
    const svc = await startService(
      { CHALLENGER_DIR: challengerDir, CHALLENGER_QUEUE: '2', CHALLENGER_LOG_PATH: '' },
      { challengerWorkerFile: chaosWorkerFile, challengerWorkerData: chaos.workerData },
    );
    try {
      const body = svc.service.context.exampleBody;
      chaos.hold();
      const first = await svc.post('/predict', body);
      expect(first.statusCode).toBe(200);
      await chaos.waitHeld(1);
      // The challenger holds one row and has room for one more; the rest are skipped, not waited for.
      for (let i = 0; i < 10; i++) expect((await svc.post('/predict', body)).statusCode).toBe(200);
      await new Promise((resolve) => setImmediate(resolve));
      const r = (await svc.get('/monitoring/challenger')).json();
      expect(r.samples).toBe(0);
      expect(r.waiting).toBe(2);
      expect(r.skipped.queue_full).toBe(9);
      const scrape = (await svc.get('/metrics')).body;
      expect(scrape).toContain('mlservice_challenger_skipped_total{reason="queue_full"} 9');
      chaos.release();
      const after = await (async () => {
        for (;;) {
          const x = (await svc.get('/monitoring/challenger')).json();
          if (x.samples === 2) return x;
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      expect(after.waiting).toBe(0);
    } finally {
      chaos.release();
      await svc.close();
    }
  });

  it('is off, and says why, when there is no challenger', async () => {
    const svc = await startService({ CHALLENGER_DIR: join(dir, 'nothing-here') });
    try {
      const r = (await svc.get('/monitoring/challenger')).json();
      expect(r).toEqual({
        enabled: false,
        reason: `no challenger: ${join(dir, 'nothing-here', 'model.onnx')} does not exist (CHALLENGER_DIR)`,
      });
    } finally {
      await svc.close();
    }
  });
});
