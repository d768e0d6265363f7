/**
 * The HTTP edges: what a client gets for a wrong media type or a compressed body, and for errors raised before any route runs (malformed request, oversized headers or path
 * parameter). Every one is the service's own error shape, `{"error", "requestId"}`, with no echo
 * of the URL; every answer carries `X-Content-Type-Options: nosniff`; MAX_CONNECTIONS caps the
 * open connections.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestService, startService } from './helpers/service.js';

let svc: TestService;
let address: URL;
beforeAll(async () => {
  svc = await startService({ MAX_CONNECTIONS: '4' });
  address = new URL(await svc.service.listen());
});
afterAll(() => svc?.close());

const errorShape = { error: expect.any(String), requestId: expect.any(String) };

/** Sends raw bytes on a fresh connection and returns everything the server answers. */
function raw(request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(address.port), address.hostname);
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    socket.on('close', () => resolve(answer));
    // A connection the server refuses is reset: it answered nothing.
    socket.on('error', () => resolve(answer));
    socket.end(request);
  });
}

function parse(answer: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(answer)![1]);
  return { status, body: JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) };
}

describe('bodies the service does not take', () => {
  const body = () => JSON.stringify(svc.service.context.exampleBody);

  it('JSON sent as text/plain is a 415', async () => {
    const res = await svc.post('/predict', body(), { 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({
      ...errorShape,
      error: expect.stringMatching(/application\/json/),
    });
  });

  it('a compressed body is a 415 naming the encoding', async () => {
    const res = await svc.post('/predict', body(), { 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toMatch(/Content-Encoding "gzip" is not supported/);
  });

  it('a "__proto__" key is a 400 that names it, not "not valid JSON"', async () => {
    const poisoned = `{"__proto__": {"admin": true}, ${body().slice(1)}`;
    const res = await svc.post('/predict', poisoned);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      ...errorShape,
      error: expect.stringMatching(/^"__proto__" is not allowed as a key/),
    });
    // Broken JSON is still called that.
    expect((await svc.post('/predict', '{"a": ')).json().error).toBe('the body is not valid JSON');
  });

  it('every answer says nosniff', async () => {
    expect((await svc.get('/healthz')).headers['x-content-type-options']).toBe('nosniff');
    expect((await svc.get('/nope')).headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('errors raised before a route runs have the same shape', () => {
  it('an oversized path parameter is a 414 that does not echo the URL', async () => {
    const name = 'x'.repeat(5000);
    const res = await svc.get(`/v2/models/${name}`);
    expect(res.statusCode).toBe(414);
    expect(res.json()).toEqual(errorShape);
    expect(res.body).not.toContain('xxxxxxxxxx');
  });

  it('a malformed request is a 400', async () => {
    const { status, body } = parse(await raw('BREW /coffee HTTP/1.1\r\nbad header\r\n\r\n'));
    expect(status).toBe(400);
    expect(body).toEqual(errorShape);
  });

  it('oversized headers are a 431', async () => {
    const { status, body } = parse(
      await raw(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`),
    );
    expect(status).toBe(431);
    expect(body).toEqual(errorShape);
  });
});

describe('MAX_CONNECTIONS', () => {
  it('closes connections past the cap as they arrive', async () => {
    const open = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<ReturnType<typeof connect>>((resolve) => {
            const s = connect(Number(address.port), address.hostname, () => resolve(s));
          }),
      ),
    );
    try {
      const answer = await raw('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
      expect(answer).toBe('');
    } finally {
      for (const s of open) s.destroy();
    }
  });
});
