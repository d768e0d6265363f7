/**
 * Monitoring: PSI arithmetic and binning, the sliding window, the drift CLI on a prediction log,
 * and the prediction log itself (one line per prediction; a failing disk never fails a prediction).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type DriftBaseline, loadModel } from '../src/model/artifacts.js';
import type { ModelContract } from '../src/model/contract-types.js';
import { contract } from '../src/model/contract.js';
import { DriftMonitor, binOf, psi, statusOf } from '../src/monitoring/drift.js';
import { builtDriftCli, projectRoot } from './helpers/build.js';
import { runToExit } from './helpers/child.js';
import { type TestService, startService } from './helpers/service.js';

const dir = mkdtempSync(join(tmpdir(), 'mlservice-monitoring-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PSI', () => {
  it('is 0 for identical distributions and grows with the shift', () => {
    const expected = [0.25, 0.25, 0.25, 0.25];
    expect(psi(expected, expected)).toBe(0);
    // (0.4-0.25)ln(0.4/0.25) + (0.1-0.25)ln(0.1/0.25) = 0.0705 + 0.1374
    expect(psi(expected, [0.4, 0.1, 0.25, 0.25])).toBeCloseTo(0.2079, 4);
    expect(statusOf(0.05)).toBe('ok');
    expect(statusOf(0.1)).toBe('warn');
    expect(statusOf(0.25)).toBe('alert');
  });

  it('floors empty bins instead of dividing by zero', () => {
    expect(Number.isFinite(psi([0.5, 0.5, 0], [0, 0.5, 0.5]))).toBe(true);
  });

  it('bins like pandas.cut: bin i holds edge[i-1] < x <= edge[i]', () => {
    const edges = [1, 2, 2, 3];
    expect(binOf(edges, 0)).toBe(0);
    expect(binOf(edges, 1)).toBe(0);
    expect(binOf(edges, 1.5)).toBe(1);
    expect(binOf(edges, 2)).toBe(1);
    expect(binOf(edges, 2.5)).toBe(3);
    expect(binOf(edges, 3)).toBe(3);
    expect(binOf(edges, 4)).toBe(4);
  });
});

describe('the drift monitor', () => {
  const toy: ModelContract = {
    ...contract,
    features: [
      {
        name: 'x',
        description: '',
        input: 'x',
        column: 0,
        tensorType: 'float32',
        type: 'number',
        nullable: true,
      },
      {
        name: 'c',
        description: '',
        input: 'c',
        column: 0,
        tensorType: 'string',
        type: 'category',
        categories: ['a', 'b'],
        nullable: false,
      },
    ],
  };
  const baseline: DriftBaseline = {
    sampleSize: 1000,
    features: {
      x: { kind: 'numeric', edges: [0], proportions: [0.5, 0.5] },
      c: { kind: 'categorical', frequencies: { a: 0.5, b: 0.5 } },
    },
  };

  it('reports ok on data like the training data, alert on shifted data', () => {
    const monitor = new DriftMonitor(toy, baseline, 100, 10);
    for (let i = 0; i < 100; i++) monitor.observe({ x: i % 2 ? 1 : -1, c: i % 2 ? 'a' : 'b' });
    expect(monitor.report().status).toBe('ok');
    for (let i = 0; i < 100; i++) monitor.observe({ x: 5, c: 'z' });
    const report = monitor.report();
    expect(report.status).toBe('alert');
    // The window holds only the last 100 predictions: the shifted ones.
    expect(report.sampleSize).toBe(100);
    const c = report.features.find((f) => f.name === 'c')!;
    expect(c.bins).toEqual(['a', 'b', '(other)']);
    expect(c.actual).toEqual([0, 0, 1]);
  });

  it('skips nulls and says when there is too little data', () => {
    const monitor = new DriftMonitor(toy, baseline, 100, 10);
    monitor.observe({ x: null, c: 'a' });
    const report = monitor.report();
    expect(report.status).toBe('insufficient_data');
    expect(report.features.find((f) => f.name === 'x')!.count).toBe(0);
  });
});

describe('npm run drift (the CLI)', () => {
  it('exits 0 on a log like the training data and 1 on a drifted one', async (ctx) => {
    const model = await loadModel(contract, join(projectRoot, 'model', 'model.onnx'));
    if (!model.driftBaseline || !model.background) return ctx.skip();
    const write = (name: string, rows: Array<Record<string, unknown>>) => {
      const path = join(dir, name);
      writeFileSync(
        path,
        rows.map((inputs) => JSON.stringify({ requestId: 'x', inputs })).join('\n') + '\n',
      );
      return path;
    };
    const background = model.background;
    const like = write(
      'like.jsonl',
      Array.from({ length: 400 }, (_, i) => background[i % background.length]!),
    );
    const same = await runToExit(builtDriftCli, {}, ['--log', like, '--json']);
    expect(same.output).toContain('"status"');
    expect(JSON.parse(same.output).status).not.toBe('insufficient_data');
    // A sample of a few dozen rows is not the training distribution, but it must not look alarming
    // for every feature.
    expect(
      JSON.parse(same.output).features.some((f: { status: string }) => f.status !== 'alert'),
    ).toBe(true);

    // Every row the same: each feature collapses into one bin.
    const first = background[0]!;
    const drifted = write(
      'drifted.jsonl',
      Array.from({ length: 400 }, () => first),
    );
    const shifted = await runToExit(builtDriftCli, {}, ['--log', drifted]);
    expect(shifted.code).toBe(1);
    expect(shifted.output).toMatch(/drift: alert/);
  });

  it('takes the baseline alone with --baseline (what the drift CronJob has)', async (ctx) => {
    const baseline = contract.artifacts.driftBaseline;
    const model = await loadModel(contract, join(projectRoot, 'model', 'model.onnx'));
    if (!baseline || !model.background) return ctx.skip();
    const first = model.background[0]!;
    const log = join(dir, 'baseline-only.jsonl');
    writeFileSync(log, `${JSON.stringify({ inputs: first })}\n`.repeat(300));
    const drifted = await runToExit(
      builtDriftCli,
      { MODEL_PATH: join(dir, 'no-model-here.onnx') },
      ['--log', log, '--baseline', join(projectRoot, 'model', baseline)],
    );
    expect(drifted.code, drifted.output).toBe(1);
    const broken = join(dir, 'broken-baseline.json');
    writeFileSync(
      broken,
      JSON.stringify({
        sampleSize: 10,
        features: { nope: { kind: 'categorical', frequencies: {} } },
      }),
    );
    const refused = await runToExit(builtDriftCli, {}, ['--log', log, '--baseline', broken]);
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/names features the model does not have: nope/);
  });

  it('an alert asks the training repository to retrain (repository_dispatch, to a stand-in GitHub API)', async (ctx) => {
    const model = await loadModel(contract, join(projectRoot, 'model', 'model.onnx'));
    if (!model.driftBaseline || !model.background) return ctx.skip();
    const log = join(dir, 'dispatch.jsonl');
    writeFileSync(log, `${JSON.stringify({ inputs: model.background[0] })}\n`.repeat(300));
    const token = join(dir, 'token');
    writeFileSync(token, 'ghp_example\n');
    const received: Array<{ url: string; auth?: string; body: any }> = [];
    let status = 204;
    const api = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ url: req.url!, auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 204 ? undefined : '{"message":"Not Found"}');
      });
    });
    await new Promise<void>((ok) => api.listen(0, '127.0.0.1', ok));
    const { port } = api.address() as AddressInfo;
    const env = {
      RETRAIN_DISPATCH_REPOSITORY: 'acme-ml/churn-training',
      RETRAIN_DISPATCH_TOKEN_FILE: token,
      GITHUB_API_URL: `http://127.0.0.1:${port}`,
    };
    try {
      const sent = await runToExit(builtDriftCli, env, ['--log', log]);
      expect(sent.code, sent.output).toBe(1);
      expect(sent.output).toMatch(
        /retraining requested: model-drift sent to acme-ml\/churn-training/,
      );
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({
        url: '/repos/acme-ml/churn-training/dispatches',
        auth: 'Bearer ghp_example',
        body: {
          event_type: 'model-drift',
          client_payload: { model: contract.name, version: contract.version, sampleSize: 300 },
        },
      });
      expect(received[0]!.body.client_payload.alerting.length).toBeGreaterThan(0);

      // A log without drift sends nothing; a refused dispatch is exit 3, with GitHub's answer.
      const calm = join(dir, 'calm.jsonl');
      const rows = model.background;
      writeFileSync(
        calm,
        Array.from({ length: 400 }, (_, i) =>
          JSON.stringify({ inputs: rows[i % rows.length] }),
        ).join('\n'),
      );
      const quiet = await runToExit(builtDriftCli, env, ['--log', calm]);
      // Exit 0: no alert, nothing sent; exit 1: an alert, and one more request.
      expect(received).toHaveLength(quiet.code === 0 ? 1 : 2);
      status = 404;
      const refused = await runToExit(builtDriftCli, env, ['--log', log]);
      expect(refused.code).toBe(3);
      expect(refused.output).toMatch(/retraining request failed: .* answered 404/);
      const malformed = await runToExit(
        builtDriftCli,
        { RETRAIN_DISPATCH_REPOSITORY: 'not a repo' },
        ['--log', log],
      );
      expect(malformed.code).toBe(2);
      expect(malformed.output).toMatch(/RETRAIN_DISPATCH_REPOSITORY must be owner\/name/);
    } finally {
      api.close();
    }
  });

  it('exits 2 on usage errors', async () => {
    const missing = await runToExit(builtDriftCli, {}, []);
    expect(missing.code).toBe(2);
    expect(missing.output).toMatch(/--log is required/);
    const unreadable = await runToExit(builtDriftCli, {}, ['--log', join(dir, 'nope.jsonl')]);
    expect(unreadable.code).toBe(2);
  });
});

describe('the prediction log', () => {
  it('writes one JSON line per prediction: time, request id, model version, inputs, outputs, latency', async () => {
    const svc = await startService();
    const row = svc.service.context.exampleRow;
    await svc.post('/predict', row, { 'x-request-id': 'log-1' });
    await svc.post('/predict/batch', { instances: [row, row] }, { 'x-request-id': 'log-2' });
    await svc.service.shutdown();
    const lines = readFileSync(svc.logPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    await svc.close();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      requestId: 'log-1',
      endpoint: 'predict',
      model: contract.name,
      modelVersion: contract.version,
      inputs: row,
      latencyMs: expect.any(Number),
    });
    expect(new Date(lines[0].time).getTime()).toBeGreaterThan(0);
    expect(Object.keys(lines[0].outputs)).toEqual([
      ...(contract.task === 'regression'
        ? ['prediction']
        : contract.task === 'tensor'
          ? []
          : ['label', 'probabilities']),
      ...(contract.extraOutputs.length > 0 ? ['outputs'] : []),
    ]);
    expect(lines.slice(1).map((l) => [l.requestId, l.row])).toEqual([
      ['log-2', 0],
      ['log-2', 1],
    ]);
  });

  it('rotates past PREDICTION_LOG_MAX_BYTES, keeping PREDICTION_LOG_KEEP rotated files', async () => {
    const svc = await startService({ PREDICTION_LOG_MAX_BYTES: '2048', PREDICTION_LOG_KEEP: '3' });
    const row = svc.service.context.exampleRow;
    for (let i = 0; i < 8; i++) {
      await svc.post('/predict/batch', { instances: Array.from({ length: 10 }, () => row) });
      // One post-response flush per request: every request's lines are written before the next.
      await new Promise((r) => setImmediate(r));
    }
    await svc.service.shutdown();
    const dir = dirname(svc.logPath);
    const rotated = readdirSync(dir).filter((f) => f.startsWith(`${basename(svc.logPath)}.`));
    expect(rotated).toHaveLength(3);
    const lines = [svc.logPath, ...rotated.map((f) => join(dir, f))]
      .map((f) => readFileSync(f, 'utf8'))
      .join('')
      .trim()
      .split('\n');
    // Whole lines only, in every file (a rotation never splits one).
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(80);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('requestId');
    await svc.close();
  });

  it('a write failure never fails a prediction, and is counted', async () => {
    // /dev/full: every write fails with ENOSPC.
    const svc = await startService({ PREDICTION_LOG_PATH: '/dev/full' });
    try {
      const row = svc.service.context.exampleRow;
      const answers = await Promise.all(
        Array.from({ length: 60 }, () => svc.post('/predict', row)),
      );
      expect(answers.every((a) => a.statusCode === 200)).toBe(true);
      const big = await svc.post('/predict/batch', {
        instances: Array.from({ length: 500 }, () => row),
      });
      expect(big.statusCode).toBe(200);
      let failures = 0;
      for (let i = 0; i < 200 && failures === 0; i++) {
        await new Promise((r) => setImmediate(r));
        const m = (await svc.get('/metrics')).body.match(
          /mlservice_prediction_log_failures_total (\d+)/,
        );
        failures = Number(m?.[1] ?? 0);
      }
      expect(failures).toBeGreaterThan(0);
    } finally {
      await svc.close();
    }
  });

  // Large batches of a slow model on one worker: no request may be shed while they queue.
  const patient = { MAX_BATCH_ROWS: '500', QUEUE_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '60000' };

  /** Rows of `count` concurrent batch requests of MAX_BATCH_ROWS rows each, then a drained shutdown. */
  async function burst(svc: TestService, count: number): Promise<number> {
    const row = svc.service.context.exampleRow;
    const rows = svc.config.maxBatchRows;
    const body = { instances: Array.from({ length: rows }, () => row) };
    const answers = await Promise.all(
      Array.from({ length: count }, () => svc.post('/predict/batch', body)),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(count).fill(200));
    expect(await svc.service.shutdown()).toBe(0);
    return count * rows;
  }

  function loggedLines(logPath: string): { lines: number; files: number[] } {
    const dir = dirname(logPath);
    const files = readdirSync(dir)
      .filter((f) => f.startsWith(basename(logPath)))
      .map((f) => readFileSync(join(dir, f)));
    return {
      lines: files.reduce((n, f) => n + f.toString('utf8').split('\n').length - 1, 0),
      files: files.map((f) => f.length),
    };
  }

  it('writes every line of a burst of large batches, rotating by the bytes written', async () => {
    const maxBytes = 128 * 1024;
    const svc = await startService({
      ...patient,
      PREDICTION_LOG_MAX_BYTES: String(maxBytes),
      PREDICTION_LOG_KEEP: '1000',
    });
    try {
      const rows = await burst(svc, 8);
      const { lines, files } = loggedLines(svc.logPath);
      expect(lines).toBe(rows);
      expect(files.length).toBeGreaterThan(1);
      // Every file stays within the limit and is filled close to it before it rotates.
      for (const size of files) expect(size).toBeLessThanOrEqual(maxBytes);
      const rotated = files
        .slice()
        .sort((a, b) => b - a)
        .slice(0, files.length - 1);
      for (const size of rotated) expect(size).toBeGreaterThan(maxBytes / 4);
      expect(await failures(svc)).toBe(0);
    } finally {
      await svc.close();
    }
  });

  it('a full buffer drops lines, and counts each dropped line once', async () => {
    const svc = await startService({ ...patient, PREDICTION_LOG_BUFFER_BYTES: '65536' });
    try {
      const rows = await burst(svc, 4);
      const { lines } = loggedLines(svc.logPath);
      const lost = await failures(svc);
      expect(lost).toBeGreaterThan(0);
      expect(lines + lost).toBe(rows);
    } finally {
      await svc.close();
    }
  });

  it('a path that cannot be written: the service starts, says so, and counts every lost line', async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    const svc = await startService(
      { PREDICTION_LOG_PATH: '/proc/mlservice-cannot-write/predictions.jsonl' },
      {},
      { logger },
    );
    try {
      expect((await svc.get('/readyz')).statusCode).toBe(200);
      expect(warnings.join('')).toMatch(
        /prediction log cannot be written at \/proc\/mlservice-cannot-write\/predictions\.jsonl/,
      );
      const row = svc.service.context.exampleRow;
      for (let i = 0; i < 5; i++) expect((await svc.post('/predict', row)).statusCode).toBe(200);
      await svc.post('/predict/batch', { instances: [row, row, row] });
      expect(await svc.service.shutdown()).toBe(0);
      expect(await failures(svc)).toBe(8);
    } finally {
      await svc.close();
    }
  });
});

/** mlservice_prediction_log_failures_total (read from the registry: it outlives the shutdown). */
async function failures(svc: TestService): Promise<number> {
  const metric = await svc.service.context.metrics.predictionLogFailures.get();
  return metric.values[0]?.value ?? 0;
}
