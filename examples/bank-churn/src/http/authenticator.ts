/**
 * Who a caller is, for every protocol (AUTH_MODE): HTTP (`auth.ts`) and gRPC (`grpc/server.ts`)
 * hand over what the caller presented and get back the client's name (`api-key:<name>`,
 * `jwt:<sub>`) or an UnauthorizedError that says why. One place decides, so a credential that
 * works on one protocol works on the other, and the rate limit (`client-windows.ts`) counts both
 * under the same name.
 *
 * - API keys: hashes in API_KEYS_FILE (`api-keys.ts`), presented as `X-API-Key` or as the bearer.
 * - JWTs: verified with jose against the keys published at JWT_JWKS_URL (cached, see
 *   `signingKeys`), asymmetric algorithms only, issuer, audience and expiry required.
 * - `api-key,jwt`: either; a bearer that is no API key is tried as a JWT.
 */
import type { FastifyBaseLogger } from 'fastify';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { AuthConfig } from '../config.js';
import { HttpError, UnauthorizedError } from '../errors.js';
import type { ApiKeyStore } from './api-keys.js';

/** What a caller presented: an API key of its own, and the bearer of `Authorization`. */
export interface Credentials {
  readonly key?: string | undefined;
  readonly bearer?: string | undefined;
}

/**
 * The credentials in a request's `x-api-key` and `authorization` values (HTTP headers or gRPC
 * metadata alike): a non-empty key, and the token of `Bearer <token>`.
 */
export function credentialsOf(key: unknown, authorization: unknown): Credentials {
  return {
    key: typeof key === 'string' && key.length > 0 ? key : undefined,
    bearer:
      typeof authorization === 'string'
        ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1]
        : undefined,
  };
}

/** How a protocol names the carriers of a credential, for the message that asks for one. */
export interface Carriers {
  /** The API key's own carrier, e.g. `X-API-Key` (a header) or `x-api-key` (metadata). */
  readonly key: string;
  /** The bearer's carrier, e.g. `Authorization`. */
  readonly authorization: string;
  /** What they are: `HTTP headers`, `gRPC metadata`. */
  readonly kind: string;
}

/** The client's name, or a refusal (sync for API keys, a promise when a JWT is checked). */
export type Authenticate = (
  credentials: Credentials,
  carriers: Carriers,
) => string | Promise<string>;

export interface AuthenticatorParts {
  readonly config: AuthConfig;
  readonly apiKeys: ApiKeyStore | undefined;
  /** `realm` of the WWW-Authenticate header: the service's name. */
  readonly realm: string;
  readonly logger: FastifyBaseLogger;
}

/** The check AUTH_MODE asks for; undefined when it is `none` (every caller is anonymous). */
export function createAuthenticator(parts: AuthenticatorParts): Authenticate | undefined {
  const { config, apiKeys, realm } = parts;
  if (config.methods.length === 0) return undefined;
  const byKey = config.methods.includes('api-key') ? apiKeyCheck(apiKeys, realm) : undefined;
  const byJwt = config.jwt ? jwtCheck(config.jwt, realm, parts.logger) : undefined;
  return (credentials, carriers) => {
    const { key, bearer } = credentials;
    const given = key ?? bearer;
    if (byKey && given !== undefined) {
      const client = byKey(given);
      // A bearer that is no API key may still be a JWT; a refused X-API-Key may come with one.
      if (client !== undefined) return client;
      if (!byJwt || bearer === undefined)
        throw new UnauthorizedError('the API key is not valid', realm, true);
    }
    if (byJwt && bearer !== undefined) return byJwt(bearer);
    throw new UnauthorizedError(missingMessage(config, carriers), realm);
  };
}

/** `authentication required: send ...`, in the protocol's words. */
function missingMessage(config: AuthConfig, carriers: Carriers): string {
  const ways = config.methods.map((method) =>
    method === 'jwt'
      ? `${carriers.authorization}: Bearer <JWT>`
      : `${carriers.authorization}: Bearer <API key> or ${carriers.key}: <API key>`,
  );
  return `authentication required: send ${ways.join(', or ')} (${carriers.kind})`;
}

function apiKeyCheck(
  apiKeys: ApiKeyStore | undefined,
  realm: string,
): (key: string) => string | undefined {
  if (!apiKeys)
    throw new Error(`AUTH_MODE includes api-key but no key store was opened (${realm})`);
  return (key) => {
    const name = apiKeys.match(key);
    return name === undefined ? undefined : `api-key:${name}`;
  };
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

/**
 * The signing keys published at JWT_JWKS_URL, with jose's cache: the whole set is kept for
 * 10 minutes, and a token naming a key the set lacks makes it fetch again at most once in 30 s,
 * so tokens with made-up key ids cannot turn into a request to the issuer each.
 *
 * When a fetch fails, the keys fetched last stay in use and the next attempt waits 30 s; with no
 * keys yet, tokens are answered 503 and the next attempt waits 5 s. Either way an unreachable
 * issuer costs at most one outbound request per wait, not one per token.
 */
function signingKeys(jwksUrl: string, logger: FastifyBaseLogger): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(jwksUrl), {
    cacheMaxAge: 10 * 60_000,
    cooldownDuration: 30_000,
    timeoutDuration: 5000,
  });
  // The last failed fetch, and the keys that stay in use until the next attempt.
  let failed: { at: number; error: unknown; keys: JWTVerifyGetKey | undefined } | undefined;
  return async (header, token) => {
    if (failed && Date.now() - failed.at < (failed.keys ? 30_000 : 5000)) {
      if (!failed.keys) throw failed.error;
      return failed.keys(header, token);
    }
    try {
      const key = await remote(header, token);
      failed = undefined;
      return key;
    } catch (error) {
      if (isTokenFault(error)) throw error;
      const last = remote.jwks(); // a copy of the set fetched last, if any
      failed = { at: Date.now(), error, keys: last ? createLocalJWKSet(last) : undefined };
      logger.warn(
        { err: error, jwksUrl, keptKeys: last !== undefined },
        'cannot fetch the JWT signing keys',
      );
      if (!failed.keys) throw error;
      return failed.keys(header, token);
    }
  };
}

const tokenFaults = new Set([
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
]);

/** jose's refusals of the token itself, as opposed to failures to get the keys (a 503). */
function isTokenFault(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return /^ERR_JW[ST]_/.test(code) || tokenFaults.has(code);
}

function jwtCheck(
  options: NonNullable<AuthConfig['jwt']>,
  realm: string,
  logger: FastifyBaseLogger,
): (token: string) => Promise<string> {
  // The keys come from JWT_JWKS_URL only, never from a URL the token names (`iss`, `jku`).
  const keys = signingKeys(options.jwksUrl, logger);
  const rules = {
    algorithms: asymmetric,
    issuer: options.issuer,
    audience: options.audience,
    requiredClaims: ['exp'],
    clockTolerance: 30,
  };
  return async (token) => {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, keys, rules));
    } catch (error) {
      throw refusal(error, realm);
    }
    const who = typeof claims.sub === 'string' ? claims.sub : claims['client_id'];
    return `jwt:${typeof who === 'string' ? who : 'anonymous'}`;
  };
}

/** Why jose refused a token, as a 401 that names the rule without echoing the token. */
function refusal(error: unknown, realm: string): HttpError {
  const invalid = (why: string) => new UnauthorizedError(why, realm, true);
  if (!isTokenFault(error))
    return new HttpError(
      503,
      'the token cannot be verified now: the signing keys are unavailable',
      {
        retryAfterSeconds: 5,
      },
    );
  const { code, claim, reason } = error as { code: string; claim?: string; reason?: string };
  if (code === 'ERR_JWT_EXPIRED') return invalid('the token has expired');
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return invalid(notAsymmetric);
  if (code === 'ERR_JWKS_NO_MATCHING_KEY')
    return invalid('the token is signed with an unknown key');
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
    return invalid('the token signature is not valid');
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    if (claim === 'exp' && reason === 'missing') return invalid('the token has no expiry (exp)');
    if (claim === 'nbf') return invalid('the token is not valid yet (nbf)');
    if (claim === 'iss') return invalid('the token was not issued by JWT_ISSUER');
    if (claim === 'aud') return invalid('the token is not meant for this service (JWT_AUDIENCE)');
  }
  return invalid('the bearer token is not a valid JWT');
}

const notAsymmetric = 'the token is not signed with an asymmetric algorithm (RS*, PS*, ES*)';
