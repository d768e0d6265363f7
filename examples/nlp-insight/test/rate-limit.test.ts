/**
 * RATE_LIMIT_PER_MINUTE is one budget per client whatever the protocol: HTTP and gRPC count in the
 * same windows (src/http/client-windows.ts), so a client cannot double its rate by switching to
 * GRPC_PORT; probes over either are never limited.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServices } from '../src/grpc/server.js';
import { ClientWindows, peerAddress } from '../src/http/client-windows.js';
import { contract } from '../src/model/contract.js';
import { callWith, requestTensors, typedInput } from './helpers/grpc.js';
import { type TestService, startService } from './helpers/service.js';

describe('the per-client windows', () => {
  it('counts each client apart, refuses past the limit and opens a new window when one ends', () => {
    const windows = new ClientWindows(2, 60_000);
    expect(windows.take('a', 0)).toEqual({ current: 1, ttl: 60_000, over: false });
    expect(windows.take('a', 1_000).over).toBe(false);
    expect(windows.take('a', 2_000)).toEqual({ current: 3, ttl: 58_000, over: true });
    expect(windows.take('b', 2_000).over).toBe(false);
    expect(windows.take('a', 60_000)).toEqual({ current: 1, ttl: 60_000, over: false });
  });

  it('keeps at most maxClients windows, forgetting the oldest', () => {
    const windows = new ClientWindows(1, 60_000, 2);
    windows.take('a', 0);
    windows.take('b', 0);
    windows.take('c', 0);
    // `a` was forgotten: its next request opens a fresh window; `c` is still counted.
    expect(windows.take('a', 1).over).toBe(false);
    expect(windows.take('c', 1).over).toBe(true);
  });

  it('reads a gRPC peer as the address HTTP sees', () => {
    expect(peerAddress('ipv4:10.0.0.7:51234')).toBe('10.0.0.7');
    expect(peerAddress('ipv6:[::1]:51234')).toBe('::1');
    expect(peerAddress('ipv6:[2001:db8::5]:8081')).toBe('2001:db8::5');
  });
});

describe('RATE_LIMIT_PER_MINUTE over HTTP and gRPC', () => {
  let svc: TestService | undefined;
  let client: grpc.Client | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    client?.close();
    await svc?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes HTTP and gRPC calls from one budget per client; probes are never limited', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlservice-rate-'));
    const keys = join(dir, 'api-keys');
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    writeFileSync(keys, `alice:${sha256('ka')}\nbob:${sha256('kb')}\n`);
    svc = await startService({
      AUTH_MODE: 'api-key',
      API_KEYS_FILE: keys,
      RATE_LIMIT_PER_MINUTE: '2',
    });
    await svc.service.listen();
    client = new (loadServices().inference)(
      svc.service.grpcAddress()!,
      grpc.credentials.createInsecure(),
    );
    const tensors = await requestTensors();
    const call = (method: string, request: unknown, key?: string) =>
      callWith(client!, method, request, key ? { 'x-api-key': key } : {});
    const infer = (key: string) =>
      call('ModelInfer', { model_name: contract.name, inputs: tensors.map(typedInput) }, key);
    const restPredict = (key: string) =>
      svc!.post('/predict', svc!.service.context.exampleBody, { 'x-api-key': key });

    expect((await restPredict('ka')).statusCode).toBe(200);
    expect((await infer('ka')).error).toBeNull();
    // Alice's third call, over gRPC, is past the budget her REST call shares.
    const limited = (await infer('ka')).error;
    expect(limited?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(limited?.details).toMatch(/RATE_LIMIT_PER_MINUTE/);
    expect(Number(limited?.metadata.get('retry-after')[0])).toBeGreaterThan(0);
    expect((await restPredict('ka')).statusCode).toBe(429);
    // Bob has his own budget; the probes nobody's.
    expect((await infer('kb')).error).toBeNull();
    for (let i = 0; i < 4; i++) expect((await call('ServerLive', {})).error).toBeNull();
  });
});
