/**
 * Authentication and exposure (README "Authentication and exposure"):
 * - AUTH_MODE=none (the default) leaves every route open;
 * - api-key: hashes in API_KEYS_FILE, the key as a bearer token or X-API-Key; the file is re-read
 *   when it changes (a Kubernetes Secret swap), without a restart;
 * - jwt: tokens verified against a JWKS served by this test on 127.0.0.1 (issuer, audience,
 *   expiry, signature); api-key,jwt takes either;
 * - health probes stay open; every other route answers 401 in the service's error shape with
 *   `WWW-Authenticate: Bearer`, before the request reaches the model or the drift window;
 * - METRICS_PORT moves /metrics to a listener of its own; RATE_LIMIT_PER_MINUTE; CORS_ORIGINS.
 */
import { type KeyObject, createHash, generateKeyPairSync, sign } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { loadServices } from '../src/grpc/server.js';
import { contract } from '../src/model/contract.js';
import { builtServer } from './helpers/build.js';
import { runToExit } from './helpers/child.js';
import { callWith, requestTensors, typedInput } from './helpers/grpc.js';
import { type TestService, expectNoStack, startService } from './helpers/service.js';

const errorShape = { error: expect.any(String), requestId: expect.any(String) };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

let dir: string;
let svc: TestService | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mlservice-auth-'));
});
afterEach(async () => {
  await svc?.close();
  svc = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function call(
  s: TestService,
  method: 'GET' | 'POST' | 'OPTIONS',
  url: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<LightMyRequestResponse> {
  return s.service.app.inject({
    method,
    url,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

const predict = (s: TestService, headers: Record<string, string> = {}) =>
  call(s, 'POST', '/predict', headers, s.service.context.exampleBody);

function expectUnauthorized(res: LightMyRequestResponse, message?: RegExp): void {
  expect(res.statusCode, res.body).toBe(401);
  expect(res.json()).toEqual(errorShape);
  if (message) expect(res.json().error).toMatch(message);
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]+"/);
  expectNoStack(res.body);
}

/**
 * A Secret volume as the kubelet writes it: `api-keys -> ..data/api-keys`, `..data -> ..<version>`;
 * a rotation writes a new version directory and swaps `..data` atomically.
 */
function secretVolume(lines: string[]): { file: string; rotate(lines: string[]): void } {
  const volume = mkdtempSync(join(dir, 'secret-'));
  let version = 0;
  const write = (content: string[]) => {
    version += 1;
    mkdirSync(join(volume, `..v${version}`));
    writeFileSync(join(volume, `..v${version}`, 'api-keys'), `${content.join('\n')}\n`);
    symlinkSync(`..v${version}`, join(volume, '..data_tmp'));
    renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
  };
  write(lines);
  symlinkSync('..data/api-keys', join(volume, 'api-keys'));
  return { file: join(volume, 'api-keys'), rotate: write };
}

const protectedRoutes = (s: TestService): Array<[string, string, unknown?]> => {
  const name = s.service.context.contract.name;
  return [
    ['POST', '/predict', s.service.context.exampleBody],
    ['POST', `/v2/models/${name}/infer`, { inputs: [] }],
    ['GET', `/v2/models/${name}`],
    ['POST', '/explain', s.service.context.exampleBody],
    ['GET', '/model'],
    ['GET', '/monitoring/drift'],
    ['GET', '/metrics'],
    ['GET', '/docs'],
    ['GET', '/docs/json'],
    // Tensor models have no /predict/batch (it is a 404 there, whoever asks).
    ...(s.service.context.contract.kind === 'tensors'
      ? []
      : [
          ['POST', '/predict/batch', { instances: [s.service.context.exampleBody] }] as [
            string,
            string,
            unknown,
          ],
        ]),
  ];
};

describe('AUTH_MODE=none (the default)', () => {
  it('serves every route without a credential, and sends no CORS header', async () => {
    svc = await startService();
    const res = await predict(svc, { origin: 'https://elsewhere.example' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect((await call(svc, 'GET', '/model')).statusCode).toBe(200);
    expect((await call(svc, 'GET', '/metrics')).statusCode).toBe(200);
    const docs = (await call(svc, 'GET', '/docs/json')).json();
    expect(docs.components?.securitySchemes).toBeUndefined();
    expect(docs.security).toBeUndefined();
  });
});

describe('AUTH_MODE=api-key', () => {
  const aliceKey = 'alice-key-0123456789abcdef';
  const bobKey = 'bob-key-fedcba9876543210';

  it('refuses every protected route without a key, before it runs, and keeps the probes open', async () => {
    const volume = secretVolume([`# clients`, `alice:${sha256(aliceKey)}`]);
    svc = await startService({ AUTH_MODE: 'api-key', API_KEYS_FILE: volume.file });
    for (const [method, url, body] of protectedRoutes(svc))
      expectUnauthorized(
        await call(svc, method as 'GET', url, {}, body),
        /authentication required/,
      );
    const name = svc.service.context.contract.name;
    for (const url of [
      '/healthz',
      '/readyz',
      '/v2',
      '/v2/health/live',
      '/v2/health/ready',
      `/v2/models/${name}/ready`,
    ])
      expect((await call(svc, 'GET', url)).statusCode, url).toBe(200);
    // An unknown path is a 404 (it says nothing a 401 would hide).
    expect((await call(svc, 'GET', '/nope')).statusCode).toBe(404);
  });

  it('takes the key as a bearer token or as X-API-Key, and refuses a wrong one', async () => {
    const volume = secretVolume([`alice:${sha256(aliceKey)}`, sha256(bobKey)]);
    svc = await startService({ AUTH_MODE: 'api-key', API_KEYS_FILE: volume.file });
    const bearer = await predict(svc, { authorization: `Bearer ${aliceKey}` });
    expect(bearer.statusCode).toBe(200);
    expect(bearer.headers['cache-control']).toBe('no-store');
    expect((await predict(svc, { 'x-api-key': bobKey })).statusCode).toBe(200);
    expectUnauthorized(
      await predict(svc, { authorization: `Bearer ${aliceKey}x` }),
      /API key is not valid/,
    );
    expectUnauthorized(await predict(svc, { 'x-api-key': sha256(aliceKey) }));
    const docs = await call(svc, 'GET', '/docs/json', { 'x-api-key': aliceKey });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['x-frame-options']).toBe('DENY');
    // The document says what to send, so the UI's Authorize and generated clients send it.
    const openapi = docs.json();
    expect(openapi.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    });
    expect(openapi.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
    expect(openapi.paths['/predict'].post.security).toBeUndefined(); // the document's: required
    for (const probe of ['/healthz', '/readyz', '/v2/health/ready'])
      expect(openapi.paths[probe].get.security, probe).toEqual([]);
    // Open answers are not marked per client.
    expect((await call(svc, 'GET', '/healthz')).headers['cache-control']).toBeUndefined();
  });

  it('follows a rotation of the key file without a restart: a new key works, a removed one is refused', async () => {
    const volume = secretVolume([`alice:${sha256(aliceKey)}`]);
    svc = await startService({ AUTH_MODE: 'api-key', API_KEYS_FILE: volume.file });
    const keys = svc.service.apiKeys!;
    expect((await predict(svc, { 'x-api-key': aliceKey })).statusCode).toBe(200);
    expectUnauthorized(await predict(svc, { 'x-api-key': bobKey }));

    const reloaded = once(keys, 'reload');
    volume.rotate([`bob:${sha256(bobKey)}`]);
    await reloaded;
    expect((await predict(svc, { 'x-api-key': bobKey })).statusCode).toBe(200);
    expectUnauthorized(await predict(svc, { 'x-api-key': aliceKey }));

    // A broken file is refused: the keys in force stay.
    const rejected = once(keys, 'rejected');
    volume.rotate(['not a hash']);
    const [error] = (await rejected) as [Error];
    expect(error.message).toMatch(/line 1: expected "\[name:\]<sha256 hex of the key>"/);
    expect((await predict(svc, { 'x-api-key': bobKey })).statusCode).toBe(200);
  });

  it('keeps unauthenticated rows out of the drift window', async (context) => {
    const volume = secretVolume([`alice:${sha256(aliceKey)}`]);
    svc = await startService({ AUTH_MODE: 'api-key', API_KEYS_FILE: volume.file });
    const drift = svc.service.context.drift;
    if (!drift || svc.service.context.contract.kind === 'tensors') return context.skip();
    const counted = () => drift.report().features[0]!.count;
    const before = counted();
    const rows = Array.from({ length: 1000 }, () => svc!.service.context.exampleBody);
    const poisoned = await call(svc, 'POST', '/predict/batch', {}, { instances: rows });
    expectUnauthorized(poisoned);
    expect(counted()).toBe(before);
    // The same rows with a key are counted: the window is what the test reads.
    const ok = await call(
      svc,
      'POST',
      '/predict/batch',
      { 'x-api-key': aliceKey },
      {
        instances: rows.slice(0, 10),
      },
    );
    expect(ok.statusCode).toBe(200);
    // The recorder runs after the answer, on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(counted()).toBe(before + 10);
  });
});

/** An RS256 key pair, its JWKS served on 127.0.0.1, and tokens signed with it. */
class Issuer {
  readonly issuer = 'https://issuer.test/';
  readonly audience = 'mlservice-test';
  private readonly key = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly server: Server;
  url = '';
  /** Requests the service made for the keys; while `down`, each is answered 503. */
  fetches = 0;
  down = false;

  constructor() {
    const jwk = {
      ...this.key.publicKey.export({ format: 'jwk' }),
      kid: 'k1',
      alg: 'RS256',
      use: 'sig',
    };
    this.server = createServer((req, res) => {
      this.fetches += 1;
      if (this.down) {
        res.writeHead(503).end();
        return;
      }
      if (req.url !== '/keys/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ keys: [jwk] }));
    });
  }

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/keys/jwks.json`;
  }

  close(): void {
    this.server.close();
  }

  env(mode = 'jwt'): Record<string, string> {
    return {
      AUTH_MODE: mode,
      JWT_JWKS_URL: this.url,
      JWT_ISSUER: this.issuer,
      JWT_AUDIENCE: this.audience,
    };
  }

  token(
    claims: Record<string, unknown> = {},
    signer: KeyObject = this.key.privateKey,
    header: Record<string, unknown> = {},
  ): string {
    const now = Math.floor(Date.now() / 1000);
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const head = `${part({ alg: 'RS256', typ: 'JWT', kid: 'k1', ...header })}.${part({
      iss: this.issuer,
      aud: this.audience,
      sub: 'client-1',
      iat: now,
      exp: now + 600,
      ...claims,
    })}`;
    return `${head}.${sign('sha256', Buffer.from(head), signer).toString('base64url')}`;
  }
}

describe('AUTH_MODE=jwt', () => {
  const issuer = new Issuer();
  beforeAll(() => issuer.start());
  afterAll(() => issuer.close());

  it('takes a token signed by a key of JWT_JWKS_URL for JWT_AUDIENCE from JWT_ISSUER', async () => {
    svc = await startService(issuer.env());
    const ok = await predict(svc, { authorization: `Bearer ${issuer.token()}` });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    const docs = await call(svc, 'GET', '/docs/json', {
      authorization: `Bearer ${issuer.token()}`,
    });
    expect(docs.json().components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
  });

  it('refuses a wrong audience or issuer, an expired token, a bad signature, garbage or nothing', async () => {
    svc = await startService(issuer.env());
    const bearer = (token: string) => predict(svc!, { authorization: `Bearer ${token}` });
    const past = Math.floor(Date.now() / 1000) - 3600;
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expectUnauthorized(await bearer(issuer.token({ aud: 'another-service' })), /JWT_AUDIENCE/);
    expectUnauthorized(await bearer(issuer.token({ iss: 'https://evil.test/' })), /JWT_ISSUER/);
    expectUnauthorized(await bearer(issuer.token({ exp: past, iat: past - 60 })), /expired/);
    expectUnauthorized(await bearer(issuer.token({}, other)), /signature/);
    expectUnauthorized(await bearer('not.a.jwt'));
    expectUnauthorized(await predict(svc), /authentication required/);
    for (const res of [await bearer(issuer.token({ aud: 'x' })), await bearer('not.a.jwt')])
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('says which rule a token breaks: not yet valid, no expiry, a shared secret, an unknown key', async () => {
    svc = await startService(issuer.env());
    const bearer = (token: string) => predict(svc!, { authorization: `Bearer ${token}` });
    const later = Math.floor(Date.now() / 1000) + 3600;
    expectUnauthorized(await bearer(issuer.token({ nbf: later })), /not valid yet/);
    expectUnauthorized(await bearer(issuer.token({ exp: undefined })), /no expiry/);
    expectUnauthorized(await bearer(issuer.token({}, undefined, { alg: 'HS256' })), /asymmetric/);
    expectUnauthorized(await bearer(issuer.token({}, undefined, { kid: 'k9' })), /unknown key/);
  });

  it('fetches the keys once for a flood of made-up key ids, and never for a token of another algorithm', async () => {
    svc = await startService(issuer.env());
    const bearer = (token: string) => predict(svc!, { authorization: `Bearer ${token}` });
    const before = issuer.fetches;
    expectUnauthorized(await bearer(issuer.token({}, undefined, { alg: 'HS256' })), /asymmetric/);
    expectUnauthorized(await bearer(issuer.token({}, undefined, { alg: 'none' })));
    expect(issuer.fetches).toBe(before);
    expect((await bearer(issuer.token())).statusCode).toBe(200);
    for (let i = 0; i < 20; i++)
      expectUnauthorized(
        await bearer(issuer.token({}, undefined, { kid: `made-up-${i}` })),
        /unknown key/,
      );
    expect(issuer.fetches).toBe(before + 1);
  });

  it('keeps the keys it has while the issuer is down, asking it again at most every 30 s', async () => {
    svc = await startService(issuer.env());
    const later = Math.floor(Date.now() / 1000) + 7200;
    const token = issuer.token({ exp: later });
    const bearer = () => predict(svc!, { authorization: `Bearer ${token}` });
    expect((await bearer()).statusCode).toBe(200);
    const fetched = issuer.fetches;
    issuer.down = true;
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 11 * 60_000 }); // past the cache's 10 min
    try {
      for (let i = 0; i < 5; i++) expect((await bearer()).statusCode).toBe(200);
      expect(issuer.fetches).toBe(fetched + 1);
      vi.setSystemTime(Date.now() + 31_000);
      expect((await bearer()).statusCode).toBe(200);
      expect(issuer.fetches).toBe(fetched + 2);
    } finally {
      vi.useRealTimers();
      issuer.down = false;
    }
  });

  it('answers 503 with Retry-After, not 401, while the signing keys cannot be fetched', async () => {
    const gone = createServer();
    gone.listen(0, '127.0.0.1');
    await once(gone, 'listening');
    const { port } = gone.address() as AddressInfo;
    await new Promise((resolve) => gone.close(resolve));
    svc = await startService({
      ...issuer.env(),
      JWT_JWKS_URL: `http://127.0.0.1:${port}/keys/jwks.json`,
    });
    const res = await predict(svc, { authorization: `Bearer ${issuer.token()}` });
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json().error).toMatch(/signing keys are unavailable/);
    expect(res.headers['retry-after']).toBe('5');
  });

  it('with api-key,jwt takes either credential', async () => {
    const key = 'either-key-0123456789';
    const volume = secretVolume([`ops:${sha256(key)}`]);
    svc = await startService({ ...issuer.env('api-key,jwt'), API_KEYS_FILE: volume.file });
    expect((await predict(svc, { authorization: `Bearer ${issuer.token()}` })).statusCode).toBe(
      200,
    );
    expect((await predict(svc, { authorization: `Bearer ${key}` })).statusCode).toBe(200);
    expect((await predict(svc, { 'x-api-key': key })).statusCode).toBe(200);
    expectUnauthorized(await predict(svc, { authorization: 'Bearer neither' }));
  });
});

describe('over gRPC (GRPC_PORT)', () => {
  const issuer = new Issuer();
  let client: grpc.Client | undefined;
  beforeAll(() => issuer.start());
  afterAll(() => issuer.close());
  afterEach(() => client?.close());

  /** ModelInfer and ServerLive over gRPC on a started service, with the given metadata. */
  async function grpcCalls(s: TestService) {
    await s.service.listen();
    client = new (loadServices().inference)(
      s.service.grpcAddress()!,
      grpc.credentials.createInsecure(),
    );
    const inputs = (await requestTensors()).map(typedInput);
    return {
      infer: async (metadata: Record<string, string> = {}) =>
        (await callWith(client!, 'ModelInfer', { model_name: contract.name, inputs }, metadata))
          .error,
      live: async () => (await callWith(client!, 'ServerLive', {})).error,
    };
  }

  it('takes the API keys and the JWTs HTTP takes, and refuses the others as HTTP does', async () => {
    const key = 'grpc-key-0123456789';
    const volume = secretVolume([`ops:${sha256(key)}`]);
    svc = await startService({ ...issuer.env('api-key,jwt'), API_KEYS_FILE: volume.file });
    const { infer, live } = await grpcCalls(svc);
    expect(await infer({ 'x-api-key': key })).toBeNull();
    expect(await infer({ authorization: `Bearer ${key}` })).toBeNull();
    expect(await infer({ authorization: `Bearer ${issuer.token()}` })).toBeNull();
    const refused = async (metadata: Record<string, string>, message: RegExp) => {
      const error = await infer(metadata);
      expect(error?.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(error?.details).toMatch(message);
    };
    await refused({}, /^authentication required: .*x-api-key.*\(gRPC metadata\)$/);
    await refused({ 'x-api-key': 'wrong' }, /API key is not valid/);
    await refused({ authorization: `Bearer ${issuer.token({ aud: 'x' })}` }, /JWT_AUDIENCE/);
    await refused({ authorization: 'Bearer not.a.jwt' }, /not a valid JWT/);
    // The probes stay open.
    expect(await live()).toBeNull();
  });

  it('serves a JWT-only service to a caller with a token', async () => {
    svc = await startService(issuer.env('jwt'));
    const { infer } = await grpcCalls(svc);
    expect(await infer({ authorization: `Bearer ${issuer.token()}` })).toBeNull();
    expect((await infer({ 'x-api-key': 'a-key' }))?.code).toBe(grpc.status.UNAUTHENTICATED);
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics on its own listener only, without a credential, and 404 on the main port', async () => {
    const volume = secretVolume([`a:${sha256('k')}`]);
    svc = await startService({
      AUTH_MODE: 'api-key',
      API_KEYS_FILE: volume.file,
      METRICS_PORT: '0',
    });
    const main = await svc.service.listen();
    const metrics = svc.service.metricsAddress()!;
    expect(metrics).not.toBe(main);
    const scraped = await fetch(`${metrics}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^mlservice_model_info\{/m);
    expect((await fetch(`${metrics}/predict`, { method: 'POST' })).status).toBe(404);
    const onMain = await fetch(`${main}/metrics`, { headers: { 'x-api-key': 'k' } });
    expect(onMain.status).toBe(404);
  });
});

describe('RATE_LIMIT_PER_MINUTE', () => {
  it('limits each client by its name (429 + Retry-After), never the probes', async () => {
    const volume = secretVolume([`alice:${sha256('ka')}`, `bob:${sha256('kb')}`]);
    svc = await startService({
      AUTH_MODE: 'api-key',
      API_KEYS_FILE: volume.file,
      RATE_LIMIT_PER_MINUTE: '2',
    });
    const alice = { 'x-api-key': 'ka' };
    expect((await predict(svc, alice)).statusCode).toBe(200);
    expect((await call(svc, 'GET', '/model', alice)).statusCode).toBe(200);
    const limited = await predict(svc, alice);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({
      ...errorShape,
      error: expect.stringMatching(/RATE_LIMIT_PER_MINUTE/),
    });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await predict(svc, { 'x-api-key': 'kb' })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await call(svc, 'GET', '/readyz')).statusCode).toBe(200);
  });
});

describe('CORS_ORIGINS', () => {
  it('answers the listed origins only, preflight included', async () => {
    svc = await startService({ CORS_ORIGINS: 'https://app.example.com' });
    const preflight = (origin: string) =>
      call(svc!, 'OPTIONS', '/predict', {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-api-key',
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(allowed.headers['access-control-allow-headers'])).toMatch(/x-api-key/);
    const other = await preflight('https://evil.example.com');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const simple = await predict(svc, { origin: 'https://app.example.com' });
    expect(simple.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });
});

describe('start-up', () => {
  it('refuses a configuration that cannot authenticate, naming the variable', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ AUTH_MODE: 'basic' })).toMatch(/^AUTH_MODE: must be none, api-key, jwt/);
    expect(refused({ AUTH_MODE: 'none,jwt' })).toMatch(/^AUTH_MODE: none cannot be combined/);
    expect(refused({ AUTH_MODE: 'api-key' })).toMatch(
      /^API_KEYS_FILE: must be set when AUTH_MODE includes api-key/,
    );
    expect(refused({ AUTH_MODE: 'jwt', JWT_JWKS_URL: 'https://x.test/jwks' })).toMatch(
      /^JWT_ISSUER: must be set/,
    );
    expect(refused({ JWT_JWKS_URL: 'ftp://x' })).toMatch(/^JWT_JWKS_URL: must be an http\(s\) URL/);
    expect(refused({ CORS_ORIGINS: 'https://a.example.com/path' })).toMatch(/^CORS_ORIGINS: /);
    expect(refused({ PORT: '8080', METRICS_PORT: '8080' })).toMatch(
      /^METRICS_PORT: must differ from PORT/,
    );
  });

  it('exits 1 naming the key file when it is missing or holds no key', async () => {
    const missing = join(dir, 'nowhere', 'api-keys');
    const gone = await runToExit(builtServer, { AUTH_MODE: 'api-key', API_KEYS_FILE: missing });
    expect(gone.code).toBe(1);
    expect(gone.output).toContain(`API_KEYS_FILE: cannot use ${missing}`);
    const empty = join(dir, 'empty-keys');
    writeFileSync(empty, '# nobody yet\n');
    const none = await runToExit(builtServer, { AUTH_MODE: 'api-key', API_KEYS_FILE: empty });
    expect(none.code).toBe(1);
    expect(none.output).toMatch(/API_KEYS_FILE: cannot use .*empty-keys: .* holds no key hash/);
  });
});
