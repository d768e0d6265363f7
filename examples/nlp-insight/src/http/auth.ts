/**
 * Who may call the service (AUTH_MODE): API keys (hashes in API_KEYS_FILE, see `api-keys.ts`),
 * JWTs verified against the issuer's published keys (JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE), or
 * either, composed with @fastify/auth.
 *
 * Every route is protected unless it says `config: { public: true }` (the health probes, V2 server
 * metadata and health): a route added later is closed until someone opens it. The check runs in
 * `onRequest`, before the body is read, the request is admitted to the queue or the handler runs,
 * so a refused request costs a hash or a signature check and never reaches the model, the
 * prediction log or the drift window. A refusal is a 401 in the service's error shape with
 * `WWW-Authenticate: Bearer` (RFC 6750).
 */
import auth from '@fastify/auth';
import jwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import buildGetJwks from 'get-jwks';
import type { AuthConfig } from '../config.js';
import { HttpError, UnauthorizedError } from '../errors.js';
import type { ApiKeyStore } from './api-keys.js';

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

type Done = (error?: Error) => void;

/** The credential of a request: `X-API-Key`, else the bearer token. */
function presented(request: FastifyRequest): { key?: string; bearer?: string } {
  const header = request.headers['x-api-key'];
  const key = typeof header === 'string' && header.length > 0 ? header : undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return { ...(key ? { key } : {}), ...(match ? { bearer: match[1]! } : {}) };
}

export interface AuthParts {
  readonly config: AuthConfig;
  readonly apiKeys: ApiKeyStore | undefined;
  /** `realm` of the WWW-Authenticate header: the service's name. */
  readonly realm: string;
}

/** Registers the plugins and the `onRequest` check; does nothing when AUTH_MODE is none. */
export async function registerAuth(app: FastifyInstance, parts: AuthParts): Promise<void> {
  app.decorateRequest('client', null);
  const { config, apiKeys, realm } = parts;
  if (config.methods.length === 0) return;
  const missing = () =>
    new UnauthorizedError(
      `authentication required: send ${config.methods.map((m) => (m === 'jwt' ? 'Authorization: Bearer <JWT>' : 'Authorization: Bearer <API key> or X-API-Key: <API key>')).join(', or ')}`,
      realm,
    );
  const strategies: Array<(request: FastifyRequest, reply: FastifyReply, done: Done) => void> = [];
  if (config.methods.includes('api-key')) {
    if (!apiKeys) throw new Error('AUTH_MODE includes api-key but no key store was opened');
    strategies.push((request, _reply, done) => {
      const { key, bearer } = presented(request);
      const given = key ?? bearer;
      if (given === undefined) return done(missing());
      const name = apiKeys.match(given);
      if (name === undefined)
        return done(new UnauthorizedError('the API key is not valid', realm, true));
      request.client = `api-key:${name}`;
      done();
    });
  }
  if (config.jwt) {
    await registerJwt(app, config.jwt, realm);
    strategies.push((request, _reply, done) => {
      if (presented(request).bearer === undefined) return done(missing());
      request.jwtVerify().then(
        (payload) => {
          const claims = payload as { sub?: unknown; client_id?: unknown };
          const who = typeof claims.sub === 'string' ? claims.sub : claims.client_id;
          request.client = `jwt:${typeof who === 'string' ? who : 'anonymous'}`;
          done();
        },
        (error: unknown) => done(jwtError(error, realm)),
      );
    });
  }
  await app.register(auth);
  const check = app.auth(strategies, { relation: 'or' });
  app.addHook('onRequest', function (request, reply, done) {
    if (isOpen(request)) return done();
    check.call(this, request, reply, done);
  });
}

/** Signature algorithms of published keys; never `none` or a shared secret (HS*). */
const asymmetric = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
];

async function registerJwt(
  app: FastifyInstance,
  options: NonNullable<AuthConfig['jwt']>,
  realm: string,
): Promise<void> {
  const url = new URL(options.jwksUrl);
  // The keys come from JWT_JWKS_URL only, never from a URL the token names (its `iss`).
  const jwks = buildGetJwks({ jwksPath: `${url.pathname}${url.search}`, ttl: 10 * 60_000 });
  await app.register(jwt, {
    secret: async (_request: FastifyRequest, token: unknown) => {
      const { header } = token as { header: { kid?: string; alg?: string } };
      try {
        return await withTimeout(
          jwks.getPublicKey({ domain: url.origin, kid: header.kid ?? '', alg: header.alg ?? '' }),
          5000,
        );
      } catch (error) {
        if ((error as { code?: string }).code === 'JWK_NOT_FOUND')
          throw new UnauthorizedError('the token is signed with an unknown key', realm, true);
        app.log.warn({ err: error, jwksUrl: options.jwksUrl }, 'cannot fetch the JWT signing keys');
        throw new HttpError(
          503,
          'the token cannot be verified now: the signing keys are unavailable',
          {
            retryAfterSeconds: 5,
          },
        );
      }
    },
    decode: { complete: true },
    // fast-jwt's reason (which claim, the signature), mapped to a message in jwtError().
    messages: { authorizationTokenInvalid: (error: Error) => error.message },
    verify: {
      algorithms: asymmetric as never,
      allowedIss: options.issuer,
      allowedAud: options.audience,
      requiredClaims: ['exp'],
      clockTolerance: 30_000,
    },
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** @fastify/jwt's and fast-jwt's refusals as a 401 that says why, without echoing the token. */
function jwtError(error: unknown, realm: string): Error {
  if (error instanceof HttpError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  if (code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED')
    return new UnauthorizedError('the token has expired', realm, true);
  if (/iss/.test(message) && /invalid|not allowed/i.test(message))
    return new UnauthorizedError('the token was not issued by JWT_ISSUER', realm, true);
  if (/aud/.test(message) && /invalid|not allowed/i.test(message))
    return new UnauthorizedError(
      'the token is not meant for this service (JWT_AUDIENCE)',
      realm,
      true,
    );
  if (/signature/i.test(message))
    return new UnauthorizedError('the token signature is not valid', realm, true);
  return new UnauthorizedError('the bearer token is not a valid JWT', realm, true);
}
