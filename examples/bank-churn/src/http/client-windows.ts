/**
 * Requests per client in fixed windows (RATE_LIMIT_PER_MINUTE per minute), one count for every
 * protocol: the HTTP limit (@fastify/rate-limit, through `rateLimitStore`) and gRPC take from the
 * same window, so a client cannot double its budget by switching protocol. A client is its
 * authenticated name, else its address. At most `maxClients` windows are kept (the oldest goes
 * first), as @fastify/rate-limit's own store keeps 5000.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { HttpError } from '../errors.js';

export interface Taken {
  /** Requests of this client in its current window, this one included. */
  readonly current: number;
  /** Milliseconds until its window ends. */
  readonly ttl: number;
  /** Past the limit: refuse this request. */
  readonly over: boolean;
}

export class ClientWindows {
  private readonly windows = new Map<string, { count: number; startedAt: number }>();

  constructor(
    readonly max: number,
    readonly windowMs = 60_000,
    private readonly maxClients = 5000,
  ) {}

  /** Counts one request of `client`. */
  take(client: string, now = Date.now()): Taken {
    let window = this.windows.get(client);
    if (!window || window.startedAt + this.windowMs <= now) {
      this.windows.delete(client);
      if (this.windows.size >= this.maxClients) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      window = { count: 0, startedAt: now };
      this.windows.set(client, window);
    }
    window.count += 1;
    return {
      current: window.count,
      ttl: window.startedAt + this.windowMs - now,
      over: window.count > this.max,
    };
  }

  /** The answer past the limit (HTTP 429, gRPC RESOURCE_EXHAUSTED), `ttl` ms before the window ends. */
  refusal(ttl: number): HttpError {
    const seconds = Math.max(1, Math.ceil(ttl / 1000));
    return new HttpError(
      429,
      `rate limit: at most ${this.max} requests per minute per client (RATE_LIMIT_PER_MINUTE); retry in ${seconds} seconds`,
      { retryAfterSeconds: seconds },
    );
  }

  /** @fastify/rate-limit's `store` option: the HTTP limit counts in these windows. */
  rateLimitStore(): FastifyRateLimitStoreCtor {
    const take = (client: string) => this.take(client);
    class SharedStore implements FastifyRateLimitStore {
      incr(
        key: string,
        callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      ): void {
        const { current, ttl } = take(key);
        callback(null, { current, ttl });
      }

      child(): FastifyRateLimitStore {
        return this;
      }
    }
    return SharedStore;
  }
}

/** The address of a gRPC peer (`ipv4:10.0.0.7:51234`, `ipv6:[::1]:51234`) as HTTP's `request.ip` gives it. */
export function peerAddress(peer: string): string {
  const address = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) return bracketed[1]!;
  return address.replace(/:\d+$/, '');
}
