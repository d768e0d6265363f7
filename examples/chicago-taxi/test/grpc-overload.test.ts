/**
 * gRPC ModelInfer under overload, with the worker pool held by the test double of the inference
 * worker (as overload.test.ts does for HTTP): a full queue is UNAVAILABLE at once with REST's 503
 * message, and a call whose own deadline is shorter than REQUEST_TIMEOUT_MS gets
 * DEADLINE_EXCEEDED and leaves the batcher's queue instead of waiting for a worker.
 */
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServices } from '../src/grpc/server.js';
import { contract } from '../src/model/contract.js';
import { Chaos, chaosWorkerFile } from './helpers/chaos.js';
import { requestTensors, typedInput } from './helpers/grpc.js';
import { type TestService, startService } from './helpers/service.js';

let svc: TestService | undefined;
let chaos: Chaos;
let client: grpc.Client | undefined;
afterEach(async () => {
  chaos?.release();
  client?.close();
  await svc?.close();
  svc = undefined;
});

/** Bounded wait for a condition the test cannot be signalled about (the batcher's queue depth). */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function start(env: Record<string, string>, tasksPerWorker = 2) {
  chaos = new Chaos();
  svc = await startService(
    { WORKERS: '1', MAX_BATCH_SIZE: '1', GRPC_PORT: '0', ...env },
    { workerFile: chaosWorkerFile, extraWorkerData: chaos.workerData, tasksPerWorker },
  );
  await svc.service.listen();
  const address = svc.service.grpcAddress();
  expect(address).toBeDefined();
  client = new (loadServices().inference)(address!, grpc.credentials.createInsecure());
  const tensors = await requestTensors();
  const infer = (deadlineMs?: number) =>
    new Promise<grpc.ServiceError | null>((resolve) =>
      (
        client as unknown as {
          ModelInfer: (
            r: unknown,
            m: grpc.Metadata,
            o: grpc.CallOptions,
            cb: (e: grpc.ServiceError | null) => void,
          ) => void;
        }
      ).ModelInfer(
        { model_name: contract.name, inputs: tensors.map(typedInput) },
        new grpc.Metadata(),
        deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs },
        resolve,
      ),
    );
  /** Holds the one worker (a running batch, a staged one) with one more request queued behind. */
  const hold = async (s: TestService) => {
    chaos.hold();
    const running = s.post('/predict', s.service.context.exampleBody);
    await chaos.waitHeld(1);
    const more = [1, 2].map(() => s.post('/predict', s.service.context.exampleBody));
    await until(() => s.service.context.queueDepth() === 1);
    return [running, ...more];
  };
  return { s: svc, infer, hold };
}

describe('gRPC ModelInfer under overload', () => {
  it('answers UNAVAILABLE at once with the 503 message when the queue is full', async () => {
    const { s, infer, hold } = await start({
      MAX_QUEUE: '1',
      QUEUE_TIMEOUT_MS: '60000',
      REQUEST_TIMEOUT_MS: '60000',
    });
    const held = await hold(s);
    const refused = await infer();
    expect(chaos.held).toBe(1);
    expect(refused).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: 'overloaded: the inference queue is full',
    });
    chaos.release();
    for (const r of await Promise.all(held)) expect(r.statusCode).toBe(200);
    const metrics = (await s.get('/metrics')).body;
    expect(metrics).toMatch(
      /mlservice_requests_total\{route="\/inference\.GRPCInferenceService\/ModelInfer",status="503"\} 1/,
    );
  });

  it("honours the client's deadline: DEADLINE_EXCEEDED, and the call leaves the queue", async () => {
    // One task per worker: the held run is the only one the worker has, the call queues next.
    const { s, infer } = await start({ QUEUE_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '60000' }, 1);
    chaos.hold();
    const running = s.post('/predict', s.service.context.exampleBody);
    await chaos.waitHeld(1);
    const answer = infer(300);
    await until(() => s.service.context.queueDepth() === 1);
    expect(await answer).toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    // The batcher drops it at its next sweep: the deadline is the client's, not 60 s.
    await until(() => s.service.context.queueDepth() === 0);
    const held = [running];
    expect(chaos.held).toBe(1);
    const metrics = (await s.get('/metrics')).body;
    expect(metrics).toMatch(/^mlservice_timeouts_total 1$/m);
    chaos.release();
    for (const r of await Promise.all(held)) expect(r.statusCode).toBe(200);
  });
});
