/**
 * Work budgets: a request is refused by its size before it costs anything proportional to it.
 * - `/predict/batch` counts its records before validating one (MAX_BATCH_ROWS);
 * - `/explain` checks `samples` before reading the body, and its cost
 *   (samples x evaluations x tokens) against EXPLAIN_MAX_WORK before it runs;
 * - the worst explanation the issue measured (2000 samples of a ~5000-character text) is refused,
 *   and the server's memory stays where it was (real process, RSS from /metrics).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainCost, maxSamples } from '../src/inference/explain-budget.js';
import { contract } from '../src/model/contract.js';
import { startServer } from './helpers/child.js';
import { type TestService, startService } from './helpers/service.js';

let svc: TestService;
let example: Record<string, unknown>;
/** EXPLAIN_MAX_WORK for exactly 64 samples of the example record. */
let budget: number;
beforeAll(async () => {
  const probe = await startService({}, {}, { start: false });
  example = probe.service.context.exampleRow;
  await probe.close();
  budget = explainCost(contract, example as never, 64).work;
  svc = await startService({ EXPLAIN_MAX_WORK: String(budget) });
});
afterAll(() => svc?.close());

const explains = contract.kind === 'records' && contract.task !== 'tensor';
const textFeature = contract.features.find((f) => f.type === 'text');

describe('/predict/batch over MAX_BATCH_ROWS', () => {
  it('is refused with one issue naming the limit, before any record is validated', async (ctx) => {
    if (contract.kind === 'tensors') return ctx.skip();
    const count = svc.config.maxBatchRows * 5;
    const res = await svc.post('/predict/batch', { instances: Array(count).fill({}) });
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([
      {
        field: 'instances',
        message: `must hold at most ${svc.config.maxBatchRows} records (MAX_BATCH_ROWS), got more: split the batch`,
      },
    ]);
  });

  it('is refused on a count of its bytes, before JSON.parse builds a record, keeping the connection', async (ctx) => {
    if (contract.kind === 'tensors') return ctx.skip();
    // Broken JSON past the limit: a parse would answer "not valid JSON"; the count answers first.
    const records = Array(svc.config.maxBatchRows + 1)
      .fill('{"s": "],{["}')
      .join(',');
    for (const path of ['/predict/batch', '/predict/batch?via=query']) {
      const res = await svc.post(path, `{"instances": [${records}, {"broken": `);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().details[0].message, path).toMatch(/\(MAX_BATCH_ROWS\), got more/);
      expect(res.headers.connection).not.toBe('close');
    }
    // Within the limit, the same broken JSON is the parser's to report.
    const small = await svc.post('/predict/batch', '{"instances": [{}, {"broken": ');
    expect(small.statusCode).toBe(400);
    expect(small.json().error).toMatch(/not valid JSON/);
  });
});

describe('/explain budgets', () => {
  it('a bad samples count is refused before the body is read', async (ctx) => {
    if (!explains || !svc.service.context.explainAvailable) return ctx.skip();
    const res = await svc.post('/explain?samples=1', '{"this is": not JSON');
    expect(res.statusCode).toBe(400);
    expect(res.json().details).toEqual([{ field: 'samples', message: 'must be at least 2' }]);
  });

  it('an explanation past EXPLAIN_MAX_WORK is refused, saying how many samples fit', async (ctx) => {
    if (!explains || !svc.service.context.explainAvailable) return ctx.skip();
    expect((await svc.post('/explain?samples=64', example)).statusCode).toBe(200);
    const res = await svc.post('/explain?samples=2000', example);
    expect(res.statusCode).toBe(400);
    expect(res.json().details[0]).toMatchObject({
      field: 'samples',
      message: expect.stringMatching(/exceeds EXPLAIN_MAX_WORK .*ask for at most 64 samples/),
    });
  });

  it('the long-text explanation that took 1.9 GB is refused; the largest one allowed keeps the memory flat', async (ctx) => {
    if (!explains || !textFeature) return ctx.skip();
    const server = await startServer({ WORKERS: '1', PREDICTION_LOG_PATH: '' });
    try {
      const rss = async () => {
        const body = await (await fetch(new URL('/metrics', server.address))).text();
        return Number(/^process_resident_memory_bytes (\d+)/m.exec(body)![1]);
      };
      const before = await rss();
      const max = 'maxLength' in textFeature ? textFeature.maxLength : 5000;
      const text = 'quarterly profit rose sharply '.repeat(200).slice(0, Math.min(4990, max));
      const res = await fetch(new URL('/explain?samples=2000', server.address), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...example, [textFeature.name]: text }),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(/EXPLAIN_MAX_WORK/);
      // The most samples the default EXPLAIN_MAX_WORK allows for this text.
      const record = { ...example, [textFeature.name]: text };
      const most = maxSamples(contract, explainCost(contract, record as never, 2), 500_000);
      const allowed = await fetch(new URL(`/explain?samples=${most}`, server.address), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(record),
      });
      expect(allowed.status).toBe(200);
      expect(await rss()).toBeLessThan(before + 150 * 1024 * 1024);
    } finally {
      server.process.kill('SIGTERM');
      await server.exited;
    }
  });
});
