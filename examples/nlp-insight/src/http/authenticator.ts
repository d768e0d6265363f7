/**
 * Who a caller is, for every protocol (AUTH_MODE): HTTP (`auth.ts`) and gRPC (`grpc/server.ts`)
 * hand over what the caller presented and get back the client's name (`api-key:<name>`,
 * `jwt:<sub>`) or an UnauthorizedError that says why. One place decides, so a credential that
 * works on one protocol works on the other, and the rate limit (`client-windows.ts`) counts both
 * under the same name.
 *
 * - API keys: hashes in API_KEYS_FILE (`api-keys.ts`), presented as `X-API-Key` or as the bearer.
 * - JWTs: verified with fast-jwt against the keys published at JWT_JWKS_URL (get-jwks, cached),
 *   asymmetric algorithms only, issuer, audience and expiry required.
 * - `api-key,jwt`: either; a bearer that is no API key is tried as a JWT.
 */
import { createVerifier, TokenError } from 'fast-jwt';
import type { FastifyBaseLogger } from 'fastify';
import buildGetJwks from 'get-jwks';
import type { AuthConfig } from '../config.js';
import { HttpError, UnauthorizedError } from '../errors.js';
import type { ApiKeyStore } from './api-keys.js';

/** What a caller presented: an API key of its own, and the bearer of `Authorization`. */
export interface Credentials {
  readonly key?: string | undefined;
  readonly bearer?: string | undefined;
}

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export function bearerOf(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
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
] as const;
const notAsymmetric = 'the token is not signed with an asymmetric algorithm (RS*, PS*, ES*)';

function jwtCheck(
  options: NonNullable<AuthConfig['jwt']>,
  realm: string,
  logger: FastifyBaseLogger,
): (token: string) => Promise<string> {
  const url = new URL(options.jwksUrl);
  // The keys come from JWT_JWKS_URL only, never from a URL the token names (its `iss`).
  const jwks = buildGetJwks({ jwksPath: `${url.pathname}${url.search}`, ttl: 10 * 60_000 });
  const signingKey = async ({ header }: { header: { kid?: string; alg?: string } }) => {
    // Refused before any key is fetched: a token cannot make the service call JWT_JWKS_URL for `none` or HS*.
    if (!(asymmetric as readonly (string | undefined)[]).includes(header.alg))
      throw new UnauthorizedError(notAsymmetric, realm, true);
    try {
      return await withTimeout(
        jwks.getPublicKey({ domain: url.origin, kid: header.kid ?? '', alg: header.alg ?? '' }),
        5000,
      );
    } catch (error) {
      if ((error as { code?: string }).code === 'JWK_NOT_FOUND')
        throw new UnauthorizedError('the token is signed with an unknown key', realm, true);
      logger.warn({ err: error, jwksUrl: options.jwksUrl }, 'cannot fetch the JWT signing keys');
      throw new HttpError(
        503,
        'the token cannot be verified now: the signing keys are unavailable',
        {
          retryAfterSeconds: 5,
        },
      );
    }
  };
  const verify = createVerifier({
    key: signingKey,
    algorithms: [...asymmetric],
    allowedIss: options.issuer,
    allowedAud: options.audience,
    requiredClaims: ['exp'],
    clockTolerance: 30_000,
  });
  return async (token) => {
    let claims: { sub?: unknown; client_id?: unknown };
    try {
      claims = (await verify(token)) as typeof claims;
    } catch (error) {
      throw refusal(error, realm);
    }
    const who = typeof claims.sub === 'string' ? claims.sub : claims.client_id;
    return `jwt:${typeof who === 'string' ? who : 'anonymous'}`;
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** fast-jwt's refusals as a 401 that says why, without echoing the token. */
function refusal(error: unknown, realm: string): HttpError {
  // An error of the key lookup (unknown key, keys unavailable) comes wrapped by fast-jwt.
  const cause =
    error instanceof TokenError ? (error as { originalError?: unknown }).originalError : error;
  if (cause instanceof HttpError) return cause;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  const invalid = (why: string) => new UnauthorizedError(why, realm, true);
  if (code === TokenError.codes.expired) return invalid('the token has expired');
  if (code === TokenError.codes.inactive) return invalid('the token is not valid yet (nbf)');
  if (code === TokenError.codes.invalidSignature)
    return invalid('the token signature is not valid');
  if (code === TokenError.codes.invalidAlgorithm) return invalid(notAsymmetric);
  if (code === TokenError.codes.invalidClaimValue && / iss /.test(message))
    return invalid('the token was not issued by JWT_ISSUER');
  if (code === TokenError.codes.invalidClaimValue && / aud /.test(message))
    return invalid('the token is not meant for this service (JWT_AUDIENCE)');
  if (code === TokenError.codes.missingRequiredClaim)
    return invalid('the token has no expiry (exp)');
  return invalid('the bearer token is not a valid JWT');
}
