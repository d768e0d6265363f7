/**
 * Overload and faults, with the worker pool held busy by a test double of the inference worker
 * (the real worker, whose model runs the test can hold, release or kill):
 * - a full queue answers 503 + Retry-After at once, and nothing fails with 500;
 * - a request queued past QUEUE_TIMEOUT_MS gets 503, one past REQUEST_TIMEOUT_MS gets 504;
 * - a crashed worker fails only the requests it held (500 with their request id), is replaced,
 *   and the service keeps serving;
 * - a replacement worker that cannot load the model: the pool relaunches its workers with a
 *   back-off; until one is warm readiness fails, and once it gives up liveness fails too;
 * - after SIGTERM readiness fails while in-flight requests still complete;
 * - a real server with one worker and hundreds of connections at once never keeps a request in
 *   its queue past QUEUE_TIMEOUT_MS: each one is served or refused with 503 + Retry-After.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { loadConfig } from '../src/config.js';
import { latencyBuckets } from '../src/metrics.js';
import { exampleBody, loadModel } from '../src/model/artifacts.js';
import { contract } from '../src/model/contract.js';
import type { InferencePool, PoolHealth } from '../src/inference/pool.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Chaos, chaosWorkerFile } from './helpers/chaos.js';
import { projectRoot } from './helpers/build.js';
import { type RunningServer, startServer } from './helpers/child.js';
import { type TestService, expectNoStack, startService } from './helpers/service.js';

let svc: TestService | undefined;
let chaos: Chaos;
afterEach(async () => {
  chaos?.release();
  await svc?.close();
  svc = undefined;
});

async function start(env: Record<string, string>): Promise<TestService> {
  chaos = new Chaos();
  svc = await startService(
    { WORKERS: '1', MAX_BATCH_SIZE: '1', ...env },
    { workerFile: chaosWorkerFile, extraWorkerData: chaos.workerData },
  );
  return svc;
}

/** Bounded wait for a condition the test cannot be signalled about (the batcher's queue depth). */
async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function metric(s: TestService, pattern: RegExp): Promise<number> {
  const body = (await s.get('/metrics')).body;
  const m = body.match(pattern);
  return m ? Number(m[1]) : 0;
}

describe('a full queue', () => {
  it('sheds the excess at once with 503 + Retry-After, and serves the rest once the pool frees up', async () => {
    const s = await start({
      MAX_QUEUE: '4',
      QUEUE_TIMEOUT_MS: '60000',
      REQUEST_TIMEOUT_MS: '60000',
    });
    const row = s.service.context.exampleBody;
    chaos.hold();
    // One worker takes 2 batches (1 running + 1 staged): hold the running one first.
    const first = s.post('/predict', row);
    await chaos.waitHeld(1);
    const accepted = [first, ...Array.from({ length: 5 }, () => s.post('/predict', row))];
    await until(() => s.service.context.queueDepth() === 4);
    const excess = await Promise.all(Array.from({ length: 6 }, () => s.post('/predict', row)));
    // The excess is answered while the pool is still held: nothing waited for it.
    expect(chaos.held).toBe(1);
    for (const res of excess) {
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json().error).toMatch(/queue is full/);
      expectNoStack(res.body);
    }
    chaos.release();
    const results = await Promise.all(accepted);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(await metric(s, /mlservice_shed_total\{reason="queue_full"\} (\d+)/)).toBe(6);
  });
});

describe('waiting too long', () => {
  it('a request queued past QUEUE_TIMEOUT_MS gets 503 with Retry-After', async () => {
    const s = await start({ QUEUE_TIMEOUT_MS: '150', REQUEST_TIMEOUT_MS: '60000' });
    const row = s.service.context.exampleBody;
    chaos.hold();
    const running = [s.post('/predict', row), s.post('/predict', row)];
    await chaos.waitHeld(1);
    const started = performance.now();
    const queued = await s.post('/predict', row);
    const waited = performance.now() - started;
    expect(queued.statusCode).toBe(503);
    expect(queued.headers['retry-after']).toBe('1');
    expect(queued.json().error).toMatch(/waited too long/);
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(2000);
    chaos.release();
    expect((await Promise.all(running)).map((r) => r.statusCode)).toEqual([200, 200]);
    expect(await metric(s, /mlservice_shed_total\{reason="queue_timeout"\} (\d+)/)).toBe(1);
  });

  it('a request past REQUEST_TIMEOUT_MS gets 504, even while its batch runs', async () => {
    const s = await start({ QUEUE_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '200' });
    const row = s.service.context.exampleBody;
    chaos.hold();
    const res = await s.post('/predict', row);
    expect(res.statusCode).toBe(504);
    expect(res.json().error).toMatch(/deadline/);
    expect(chaos.held).toBe(1);
    chaos.release();
    expect(await metric(s, /mlservice_timeouts_total (\d+)/)).toBe(1);
    // The service still answers normally afterwards.
    expect((await s.post('/predict', row)).statusCode).toBe(200);
  });
});

describe('a worker crash', () => {
  it('fails only the requests the worker held, with 500 and their request id; the replacement serves', async () => {
    const s = await start({ QUEUE_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '60000' });
    const row = s.service.context.exampleBody;
    chaos.hold();
    const held = [
      s.post('/predict', row, { 'x-request-id': 'held-1' }),
      s.post('/predict', row, { 'x-request-id': 'held-2' }),
    ];
    await chaos.waitHeld(1);
    const queued = s.post('/predict', row, { 'x-request-id': 'queued-1' });
    // Crash only once it is admitted and waiting in the queue (before, it would meet a pool
    // without a warm worker and be refused as not ready, which is another test's case).
    await vi.waitFor(() => expect(s.service.context.queueDepth()).toBe(1), { interval: 1 });
    chaos.crash();
    const failed = await Promise.all(held);
    for (const [i, res] of failed.entries()) {
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({
        error: expect.stringMatching(/worker/),
        requestId: `held-${i + 1}`,
      });
      expectNoStack(res.body);
    }
    // The request that was still queued runs on the replacement worker.
    expect((await queued).statusCode).toBe(200);
    const after = await Promise.all(Array.from({ length: 10 }, () => s.post('/predict', row)));
    expect(after.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect((await s.get('/readyz')).statusCode).toBe(200);
    expect(await metric(s, /mlservice_worker_restarts_total (\d+)/)).toBe(1);
  });
});

/** Resolves once the pool reports `health` (at once if it already does). */
function health(pool: InferencePool, wanted: PoolHealth): Promise<void> {
  if (pool.health === wanted) return Promise.resolve();
  return new Promise((resolve) => {
    const listener = (now: PoolHealth) => {
      if (now !== wanted) return;
      pool.off('health', listener);
      resolve();
    };
    pool.on('health', listener);
  });
}

describe('a replacement worker that cannot load the model', () => {
  it('turns not-ready at once, retries with a back-off, then fails liveness so the pod is replaced', async () => {
    const s = await start({ POOL_RESTORE_ATTEMPTS: '2', POOL_RESTORE_BACKOFF_MS: '1' });
    const pool = s.service.pools()!.predict;
    chaos.failLoads();
    chaos.crash();
    expect((await s.post('/predict', s.service.context.exampleBody)).statusCode).toBe(500);
    await health(pool, 'down');
    const notReady = await s.get('/readyz');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toMatchObject({ workers: { warm: 0, total: 1 } });
    expect((await s.post('/predict', s.service.context.exampleBody)).statusCode).toBe(503);

    await health(pool, 'failed');
    for (const path of ['/readyz', '/v2/health/ready', '/healthz', '/v2/health/live'])
      expect((await s.get(path)).statusCode, path).toBe(503);
    expect((await s.get('/healthz')).json().reason).toMatch(/cannot be restored/);
    expect(
      await metric(s, /mlservice_pool_restores_total\{pool="predict",outcome="failed"\} (\d+)/),
    ).toBe(2);
  });

  it('serves again once a relaunch warms up, and counts the restore', async () => {
    const s = await start({ POOL_RESTORE_ATTEMPTS: '5', POOL_RESTORE_BACKOFF_MS: '1' });
    const pool = s.service.pools()!.predict;
    chaos.failLoads();
    chaos.crash();
    expect((await s.post('/predict', s.service.context.exampleBody)).statusCode).toBe(500);
    await once(pool, 'restore');
    chaos.allowLoads();
    await health(pool, 'ready');
    expect((await s.get('/readyz')).statusCode).toBe(200);
    expect((await s.post('/predict', s.service.context.exampleBody)).statusCode).toBe(200);
    expect(
      await metric(s, /mlservice_pool_restores_total\{pool="predict",outcome="ok"\} (\d+)/),
    ).toBe(1);
  });
});

describe('shutdown', () => {
  it('fails readiness at once, lets the in-flight request finish and flushes its log line', async () => {
    const s = await start({ QUEUE_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '60000' });
    const row = s.service.context.exampleBody;
    chaos.hold();
    const inflight = s.post('/predict', row, { 'x-request-id': 'last-one' });
    await chaos.waitHeld(1);
    const exited = s.service.shutdown();
    const ready = await s.get('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().reason).toBe('shutting down');
    expect((await s.get('/v2/health/ready')).statusCode).toBe(503);
    chaos.release();
    const res = await inflight;
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(await exited).toBe(0);
    const lines = readFileSync(s.logPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ requestId: 'last-one', endpoint: 'predict' });
  });
});

/** POSTs a JSON body on `agent`; resolves to the status, headers and body. */
function post(
  agent: Agent,
  url: URL,
  body: string,
): Promise<{ status: number; retryAfter?: string; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const retryAfter = res.headers['retry-after'];
          resolve({
            status,
            ...(retryAfter ? { retryAfter } : {}),
            ...(status >= 400 ? { error: (JSON.parse(text) as { error: string }).error } : {}),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('queue time under many connections (real process, WORKERS=1)', () => {
  let server: RunningServer | undefined;
  afterEach(() => {
    server?.process.kill('SIGKILL');
    server = undefined;
  });

  it('serves or refuses every request with 503 + Retry-After; none waits in the queue past QUEUE_TIMEOUT_MS', async () => {
    const queueTimeoutMs = 5;
    server = await startServer({
      WORKERS: '1',
      MAX_BATCH_SIZE: '1',
      MAX_QUEUE: '100000',
      QUEUE_TIMEOUT_MS: String(queueTimeoutMs),
      REQUEST_TIMEOUT_MS: '60000',
      PREDICTION_LOG_PATH: '',
    });
    const base = new URL(server.address);
    const config = loadConfig({}, projectRoot);
    const row = JSON.stringify(exampleBody(contract, await loadModel(contract, config.modelPath)));
    const connections = 300;
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    const answers = await Promise.all(
      Array.from({ length: connections }, () => post(agent, new URL('/predict', base), row)),
    );
    agent.destroy();
    for (const a of answers) {
      if (a.status === 200) continue;
      expect(a.status, JSON.stringify(a)).toBe(503);
      expect(a.retryAfter).toBe('1');
      expect(a.error).toMatch(/waited too long in the inference queue|queue is full/);
    }
    const metrics = await (await fetch(new URL('/metrics', base))).text();
    const value = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1] ?? 'NaN');
    // The load did queue: one worker cannot take 300 requests within 5 ms.
    expect(value(/^mlservice_shed_total\{reason="queue_timeout"\} (\d+)/m)).toBeGreaterThan(0);
    // Every request that reached a worker had waited less than QUEUE_TIMEOUT_MS, plus at most the
    // batcher's sweep interval (QUEUE_TIMEOUT_MS / 20, at least 1 ms) as a margin: the smallest
    // bucket at or above that holds every observation of the service's queue-wait histogram.
    const marginMs = Math.max(1, queueTimeoutMs / 20);
    const bound = latencyBuckets.find((b) => b >= (queueTimeoutMs + marginMs) / 1000)!;
    const within = value(
      new RegExp(`^mlservice_queue_wait_seconds_bucket\\{le="${bound}"\\} (\\d+)`, 'm'),
    );
    const observed = value(/^mlservice_queue_wait_seconds_count (\d+)/m);
    expect(observed).toBeGreaterThanOrEqual(answers.filter((a) => a.status === 200).length);
    expect(within).toBe(observed);
  });
});
