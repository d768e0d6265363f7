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
import type { AuthConfig } from '../config.js';
import { type Authenticate, type Carriers, credentialsOf } from './authenticator.js';

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
    const credentials = credentialsOf(request.headers['x-api-key'], request.headers.authorization);
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

/** An OpenAPI 3 security scheme of the kinds AUTH_MODE accepts. */
type SecurityScheme =
  | { type: 'apiKey'; in: 'header'; name: string; description: string }
  | { type: 'http'; scheme: 'bearer'; bearerFormat?: string; description: string };

/**
 * What the OpenAPI document says about credentials, so the UI's "Authorize" and generated
 * clients send them: the schemes AUTH_MODE accepts, required by every operation unless its route
 * is public (`openApiPublicRoutes`). Nothing when AUTH_MODE is none.
 */
export function openApiSecurity(config: AuthConfig): {
  components?: { securitySchemes: Record<string, SecurityScheme> };
  security?: Array<Record<string, string[]>>;
} {
  if (config.methods.length === 0) return {};
  const keys = config.methods.includes('api-key');
  const jwt = config.jwt;
  const bearer = [keys ? 'an API key' : '', jwt ? `a JWT of ${jwt.issuer} for ${jwt.audience}` : '']
    .filter(Boolean)
    .join(', or ');
  return {
    components: {
      securitySchemes: {
        ...(keys
          ? {
              apiKey: {
                type: 'apiKey',
                in: 'header',
                name: 'X-API-Key',
                description: 'An API key.',
              },
            }
          : {}),
        bearer: {
          type: 'http',
          scheme: 'bearer',
          ...(keys ? {} : { bearerFormat: 'JWT' }),
          description: `Authorization: Bearer with ${bearer}.`,
        },
      },
    },
    security: [...(keys ? [{ apiKey: [] }] : []), { bearer: [] }],
  };
}

/** @fastify/swagger's `transform`: a public route's operation needs no credential. */
export function openApiPublicRoutes({
  schema,
  url,
  route,
}: {
  schema: unknown;
  url: string;
  route: { config?: { public?: boolean } };
}): { schema: Record<string, unknown>; url: string } {
  const own = (schema ?? {}) as Record<string, unknown>;
  return { url, schema: route.config?.public === true ? { ...own, security: [] } : own };
}
