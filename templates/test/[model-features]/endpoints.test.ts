/**
 * Contract tests: every endpoint, its status codes and the shape of its answers.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricNames } from '../src/metrics.js';
import { contract } from '../src/model/contract.js';
import { type TestService, expectNoStack, startService } from './helpers/service.js';

let svc: TestService;
let example: Record<string, unknown>;
beforeAll(async () => {
  svc = await startService({ WORKERS: '2' });
  example = svc.service.context.exampleRow;
});
afterAll(() => svc.close());

const regression = contract.task === 'regression';
/** Task "tensor": no label or value, every output by name. */
const rawOutputs = contract.task === 'tensor';
const classification = !regression && !rawOutputs;

function expectPrediction(p: Record<string, unknown>): void {
  // Every output is served: outputs without a role come back by name.
  const outputs = (p.outputs ?? {}) as Record<string, unknown>;
  expect(Object.keys(outputs).sort()).toEqual([...contract.extraOutputs].sort());
  if (rawOutputs) return;
  if (classification) {
    expect(contract.labels).toContain(p.label);
    const probabilities = p.probabilities as Record<string, number>;
    expect(Object.keys(probabilities)).toEqual([...contract.labels]);
    const total = Object.values(probabilities).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 4);
  } else {
    expect(typeof p.prediction).toBe('number');
    expect(Number.isFinite(p.prediction)).toBe(true);
  }
}

describe('health', () => {
  it('GET /healthz is 200', async () => {
    const res = await svc.get('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 once every worker is warm', async () => {
    const res = await svc.get('/readyz');
    expect(res.statusCode).toBe(200);
    const { workers } = svc.config;
    expect(res.json()).toEqual({ status: 'ready', workers: { warm: workers, total: workers } });
  });

  it('before the warm-up, /readyz is 503 and predictions are refused with Retry-After', async () => {
    const cold = await startService({}, {}, { start: false });
    try {
      const ready = await cold.get('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not ready', reason: 'warming up' });
      expect((await cold.get('/v2/health/ready')).statusCode).toBe(503);
      expect((await cold.get('/healthz')).statusCode).toBe(200);
      const res = await cold.post('/predict', cold.service.context.exampleRow);
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json().error).toMatch(/not ready/);
    } finally {
      await cold.close();
    }
  });
});

describe('POST /predict', () => {
  it('answers one record with the prediction, model version and a request id', async () => {
    const res = await svc.post('/predict', example);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expectPrediction(body);
    expect(body.model).toBe(contract.name);
    expect(body.modelVersion).toBe(contract.version);
    expect(body.requestId).toBe(res.headers['x-request-id']);
    if (contract.threshold !== undefined) {
      expect(body.threshold).toBe(contract.threshold);
      const p = body.probabilities[contract.positiveLabel!];
      expect(body.label === contract.positiveLabel).toBe(p >= contract.threshold);
    } else {
      expect(body).not.toHaveProperty('threshold');
    }
  });

  it('keeps the caller request id', async () => {
    const res = await svc.post('/predict', example, { 'x-request-id': 'trace-123.abc' });
    expect(res.headers['x-request-id']).toBe('trace-123.abc');
    expect(res.json().requestId).toBe('trace-123.abc');
  });

  it('gives every request its own id', async () => {
    const ids = await Promise.all(
      Array.from({ length: 20 }, () =>
        svc.post('/predict', example).then((r) => r.json().requestId),
      ),
    );
    expect(new Set(ids).size).toBe(20);
  });
});

describe('POST /predict/batch', () => {
  it('answers one prediction per record, in order', async () => {
    const rows = (svc.service.context.model.background ?? [example]).slice(0, 20);
    const res = await svc.post('/predict/batch', { instances: rows });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.predictions).toHaveLength(rows.length);
    body.predictions.forEach(expectPrediction);
    expect(body.modelVersion).toBe(contract.version);
    expect(body.requestId).toBe(res.headers['x-request-id']);
    // Same answers one by one: coalescing must not mix rows up.
    const single = await Promise.all(
      rows.map((r) => svc.post('/predict', r).then((x) => x.json())),
    );
    single.forEach((s, i) => {
      if (classification) expect(s.probabilities).toEqual(body.predictions[i].probabilities);
      else if (regression) expect(s.prediction).toBe(body.predictions[i].prediction);
      expect(s.outputs).toEqual(body.predictions[i].outputs);
    });
  });

  it('refuses more rows than MAX_BATCH_ROWS and an empty batch', async () => {
    const tooMany = await svc.post('/predict/batch', {
      instances: Array.from({ length: svc.config.maxBatchRows + 1 }, () => example),
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().details[0].field).toBe('instances');
    const empty = await svc.post('/predict/batch', { instances: [] });
    expect(empty.statusCode).toBe(400);
  });

  it('names the bad field with its row', async () => {
    const first = contract.features[0]!;
    const res = await svc.post('/predict/batch', {
      instances: [example, { ...example, [first.name]: [] }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([
      { field: `instances.1.${first.name}`, message: expect.any(String) },
    ]);
  });
});

describe('GET /model', () => {
  it('describes the model: features, outputs, labels, threshold, sha256 of the served file', async () => {
    const res = await svc.get('/model');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const sha = createHash('sha256').update(readFileSync(svc.config.modelPath)).digest('hex');
    expect(body).toMatchObject({
      name: contract.name,
      version: contract.version,
      task: contract.task,
      sha256: sha,
    });
    expect(body.features.map((f: { name: string }) => f.name)).toEqual(
      contract.features.map((f) => f.name),
    );
    expect(body.labels).toEqual(contract.labels);
    expect(body.threshold).toBe(contract.threshold ?? null);
    expect(body.serving.workers).toBe(2);
  });
});

describe('GET /metrics', () => {
  it('exposes every metric of the contract in Prometheus text format', async () => {
    await svc.post('/predict', example);
    await svc.post('/predict', {});
    const res = await svc.get('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    const always = Object.values(metricNames).filter(
      (n) =>
        n !== metricNames.driftPsi &&
        (classification || n !== metricNames.predictions) &&
        (regression || n !== metricNames.predictionValue),
    );
    for (const name of always) expect(res.body).toContain(`# TYPE ${name} `);
    expect(res.body).toMatch(
      new RegExp(
        `${metricNames.modelInfo}\\{name="${contract.name}",version="${contract.version.replace(/[.+]/g, '\\$&')}",sha256="[0-9a-f]{64}"\\} 1`,
      ),
    );
    expect(res.body).toMatch(/mlservice_requests_total\{route="\/predict",status="200"\} \d+/);
    expect(res.body).toMatch(/mlservice_validation_errors_total\{route="\/predict"\} \d+/);
    expect(res.body).toContain(
      'mlservice_request_duration_seconds_bucket{le="0.0005",route="/predict"}',
    );
    if (classification)
      expect(res.body).toMatch(/mlservice_predictions_total\{class="[^"]+"\} \d+/);
    if (regression) expect(res.body).toMatch(/mlservice_prediction_value_count \d+/);
  });
});

describe('GET /docs', () => {
  it('serves an OpenAPI document built from the same schemas', async () => {
    const res = await svc.get('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/predict',
      '/predict/batch',
      '/v2/models/{name}/infer',
      '/explain',
      '/model',
      '/monitoring/drift',
      '/metrics',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const body = doc.paths['/predict'].post.requestBody.content['application/json'].schema;
    // The features, and the entity a record may name for its feedback (the sidecar's entityId).
    const entity = contract.monitoring?.entityId;
    expect(Object.keys(body.properties)).toEqual([
      ...contract.features.map((f) => f.name),
      ...(entity ? [entity] : []),
    ]);
    expect(body.additionalProperties).toBe(false);
    const ui = await svc.get('/docs');
    expect([200, 302]).toContain(ui.statusCode);
  });
});

describe('GET /monitoring/drift', () => {
  it('reports PSI per feature against the training baseline, or 501 without one', async () => {
    const res = await svc.get('/monitoring/drift');
    expectNoStack(res.body);
    if (!svc.service.context.model.driftBaseline) {
      expect(res.statusCode).toBe(501);
      expect(res.json().error).toMatch(/drift baseline/);
      return;
    }
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.thresholds).toEqual({ warn: 0.1, alert: 0.25 });
    expect(body.sampleSize).toBeGreaterThan(0);
    expect(body.features.map((f: { name: string }) => f.name)).toEqual(
      contract.features
        .filter((f) => svc.service.context.model.driftBaseline!.features[f.name])
        .map((f) => f.name),
    );
    const metrics = await svc.get('/metrics');
    expect(metrics.body).toMatch(/mlservice_drift_psi\{feature="[^"]+"\} /);
  });
});

describe('POST /explain', () => {
  it('gives per-feature contributions that add up to the prediction, or 501 without a background sample', async () => {
    const started = performance.now();
    const res = await svc.post('/explain', example);
    const elapsed = performance.now() - started;
    expectNoStack(res.body);
    if (!svc.service.context.model.background) {
      expect(res.statusCode).toBe(501);
      expect(res.json().error).toMatch(/background/);
      return;
    }
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.contributions.map((c: { feature: string }) => c.feature).sort()).toEqual(
      contract.features.map((f) => f.name).sort(),
    );
    const total = body.contributions.reduce(
      (s: number, c: { contribution: number }) => s + c.contribution,
      0,
    );
    expect(body.baseValue + total).toBeCloseTo(body.value, 5);
    const predicted = (await svc.post('/predict', example)).json();
    if (contract.task === 'regression') expect(body.value).toBeCloseTo(predicted.prediction, 4);
    else
      expect(Object.values(predicted.probabilities)).toContainEqual(expect.closeTo(body.value, 5));
    expect(elapsed).toBeLessThan(1000);
  });

  it('refuses a bad sample count', async () => {
    const res = await svc.post('/explain?samples=1', example);
    expect([400, 501]).toContain(res.statusCode);
  });
});

describe('errors', () => {
  it('an unknown route is a 404 with an {"error"} body', async () => {
    const res = await svc.get('/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: expect.stringContaining('/nope') });
  });
});
