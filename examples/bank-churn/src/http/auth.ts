/**
 * AUTH_MODE over HTTP: every route is protected unless it says `config: { public: true }` (the
 * health probes, V2 server metadata and health): a route added later is closed until someone
 * opens it. Who the caller is decides `authenticator.ts`, which gRPC asks too.
 *
 * The check runs in `onRequest`, before the body is read, the request is admitted to the queue or
 * the handler runs, so a refused request costs a hash or a signature check and never reaches the
 * model, the prediction log or the drift window. A refusal is a 401 in the service's error shape
 * with `WWW-Authenticate: Bearer` (RFC 6750).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Authenticate, bearerOf, type Carriers } from './authenticator.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Open to everyone whatever AUTH_MODE says (health probes). */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The authenticated caller (`api-key:<name>`, `jwt:<sub>`); null when auth is off or open. */
    client: string | null;
  }
}

/** Route config of the routes that stay open: `{ config: publicRoute }`. */
export const publicRoute = { public: true } as const;

/** Requests that need no credential: open routes, unknown paths (404) and CORS preflights. */
export function isOpen(
  request: FastifyRequest,
  // Fastify builds `routeOptions` afresh on every read: a caller that has it passes its config.
  config: { public?: boolean } = request.routeOptions.config,
): boolean {
  return config.public === true || request.is404 || request.method === 'OPTIONS';
}

/** The credential carriers of HTTP, as a refusal names them. */
const headers: Carriers = {
  key: 'X-API-Key',
  authorization: 'Authorization',
  kind: 'HTTP headers',
};

/** Registers the `onRequest` check; does nothing when AUTH_MODE is none. */
export function registerAuth(app: FastifyInstance, authenticate: Authenticate | undefined): void {
  app.decorateRequest('client', null);
  if (!authenticate) return;
  app.addHook('onRequest', (request, _reply, done) => {
    if (isOpen(request)) return done();
    const header = request.headers['x-api-key'];
    const credentials = {
      key: typeof header === 'string' && header.length > 0 ? header : undefined,
      bearer: bearerOf(request.headers.authorization),
    };
    let client: string | Promise<string>;
    try {
      client = authenticate(credentials, headers);
    } catch (error) {
      return done(error as Error);
    }
    if (typeof client === 'string') {
      request.client = client;
      return done();
    }
    client.then((name) => {
      request.client = name;
      done();
    }, done);
  });
}
