/**
 * The closed loop, on a real process: predictions carry a predictionId (per row of a batch, and in
 * the prediction log), POST /feedback joins ground truth to them (by id, or by entity), and
 * GET /monitoring/performance reports the task's metrics by slice. The offline CLI
 * (`npm run monitor`) over the logs the process wrote gives the same numbers, to the last digit.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Golden, loadModel } from '../src/model/artifacts.js';
import { contract } from '../src/model/contract.js';
import { builtMonitorCli, projectRoot } from './helpers/build.js';
import { type RunningServer, runToExit, startServer } from './helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'feedback-'));
const logs = {
  PREDICTION_LOG_PATH: join(dir, 'predictions.jsonl'),
  FEEDBACK_LOG_PATH: join(dir, 'feedback.jsonl'),
};
let server: RunningServer;
let golden: Golden | null;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  golden = (await loadModel(contract, join(projectRoot, 'model', 'model.onnx'))).golden;
  server = await startServer({ WORKERS: '1', ...logs });
});

async function post(path: string, body: unknown) {
  const res = await fetch(new URL(path, server.address), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as any };
}

/** The truth of golden case i: its label (every fifth one wrong) or its value, off by 10%. */
function truthOf(c: Golden['cases'][number], i: number): { label: string } | { value: number } {
  if ('prediction' in c) return { value: c.prediction * 1.1 };
  const wrong = contract.labels.find((l) => l !== String(c.label))!;
  return { label: i % 5 === 0 ? wrong : String(c.label) };
}

describe('the closed loop (predict, feed back, measure)', () => {
  it('every prediction carries a predictionId; truth joins it; the live report equals the offline one', async (ctx) => {
    if (!golden) return ctx.skip();
    const cases = golden.cases;
    // Enough rows for the sidecar's minimum sample size: the golden inputs, several times.
    const minSamples = contract.monitoring?.minSamples ?? 200;
    const rounds = Math.ceil(minSamples / cases.length) + 1;
    const feedback: Array<Record<string, unknown>> = [];
    for (let r = 0; r < rounds; r++) {
      const res = await post('/predict/batch', { instances: cases.map((c) => c.input) });
      expect(res.status).toBe(200);
      const ids = res.json.predictions.map((p: { predictionId: string }) => p.predictionId);
      expect(ids).toEqual(cases.map((_, i) => `${res.json.requestId}:${i}`));
      cases.forEach((c, i) => feedback.push({ predictionId: ids[i], ...truthOf(c, i) }));
    }
    const one = await post('/predict', cases[0]!.input);
    expect(one.json.predictionId).toBe(one.json.requestId);

    const given = await post('/feedback', {
      feedback: [...feedback, { predictionId: 'no-such-prediction', ...truthOf(cases[0]!, 1) }],
    });
    expect(given.status, JSON.stringify(given.json)).toBe(200);
    expect(given.json).toMatchObject({
      accepted: feedback.length,
      unknown: 1,
      duplicates: 0,
      unknownIds: ['no-such-prediction'],
    });
    const again = await post('/feedback', { feedback: [feedback[0]] });
    expect(again.json).toMatchObject({ accepted: 0, duplicates: 1 });

    const live = await (await fetch(new URL('/monitoring/performance', server.address))).json();
    expect(live.overall.samples).toBe(feedback.length);
    expect(live.overall.metrics).not.toBe('insufficient');
    expect(live.slices.map((s: { feature: string }) => s.feature)).toEqual(
      (contract.monitoring?.slices ?? []).map((s) => s.feature),
    );

    // The same numbers as Prometheus gauges, for the dashboard and the floor alert.
    const scrape = await (await fetch(new URL('/metrics', server.address))).text();
    const [metric, value] = Object.entries(live.overall.metrics as Record<string, number>)[0]!;
    const gauge = new RegExp(
      `^mlservice_quality_metric\\{metric="${metric}",slice="overall",group="all"\\} (\\S+)$`,
      'm',
    ).exec(scrape);
    expect(Number(gauge?.[1])).toBeCloseTo(value, 12);
    expect(scrape).toMatch(
      new RegExp(`^mlservice_feedback_total\\{outcome="joined"\\} ${feedback.length}$`, 'm'),
    );
    for (const f of live.floors as Array<{ metric: string; breached: boolean | null }>)
      if (f.breached !== null)
        expect(scrape).toContain(
          `mlservice_quality_floor_breached{metric="${f.metric}"} ${f.breached ? 1 : 0}`,
        );

    // The logs hold the same predictions and truth: the offline report is the live one.
    server.process.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
    const lines = readFileSync(logs.PREDICTION_LOG_PATH, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!).predictionId).toBe(feedback[0]!.predictionId);
    const offline = await runToExit(builtMonitorCli, {}, [
      '--predictions',
      logs.PREDICTION_LOG_PATH,
      '--feedback',
      logs.FEEDBACK_LOG_PATH,
      '--json',
    ]);
    expect([0, 1]).toContain(offline.code);
    const { window: _w, feedback: _f, ...report } = live;
    expect(JSON.parse(offline.output)).toEqual(report);
    server = await startServer({ WORKERS: '1', ...logs });
  });

  it('a label the model does not have is a 400 that names it; an item needs an id or an entity', async () => {
    if (contract.task === 'regression') {
      const res = await post('/feedback', { feedback: [{ predictionId: 'x', value: 'high' }] });
      expect(res.status).toBe(400);
      expect(res.json.details[0].field).toBe('feedback.0.value');
      return;
    }
    const res = await post('/feedback', { feedback: [{ predictionId: 'x', label: 'maybe' }] });
    expect(res.status).toBe(400);
    expect(res.json.details).toEqual([
      {
        field: 'feedback.0.label',
        message: expect.stringContaining(
          `must be one of the model's labels: ${contract.labels.join(', ')}`,
        ),
      },
    ]);
    const neither = await post('/feedback', { feedback: [{ label: contract.labels[0] }] });
    expect(neither.status).toBe(400);
    expect(JSON.stringify(neither.json.details)).toMatch(/either predictionId or entityId/);
  });

  it('truth keyed by the entity joins the latest prediction made for it before it was observed', async (ctx) => {
    const entity = contract.monitoring?.entityId;
    if (!golden || !entity) return ctx.skip();
    const c = golden.cases[0]!;
    const made = await post('/predict', { ...c.input, [entity]: 'entity-42' });
    expect(made.status).toBe(200);
    const res = await post('/feedback', {
      feedback: [{ entityId: 'entity-42', observedAt: new Date().toISOString(), ...truthOf(c, 1) }],
    });
    expect(res.json).toMatchObject({ accepted: 1, unknown: 0 });
    const unknown = await post('/feedback', {
      feedback: [{ entityId: 'entity-43', observedAt: new Date().toISOString(), ...truthOf(c, 1) }],
    });
    expect(unknown.json).toMatchObject({
      accepted: 0,
      unknown: 1,
      unknownIds: ['entity:entity-43'],
    });
  });
});

afterAll(async () => {
  server.process.kill('SIGTERM');
  await server.exited;
});
