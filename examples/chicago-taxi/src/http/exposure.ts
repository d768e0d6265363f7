/**
 * What the service shows to browsers and heavy callers, each opt-in: CORS for exact origins
 * (CORS_ORIGINS; none by default, so a browser on another site cannot read an answer), a rate
 * limit per client (RATE_LIMIT_PER_MINUTE; keyed by the authenticated client, else the address,
 * and shared with gRPC: client-windows.ts),
 * and the response headers that mean something for the answer they are on.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { ClientWindows } from './client-windows.js';
import { isOpen } from './auth.js';

/** Registers CORS and the rate limit (before the routes: the limit attaches to each route). */
export async function registerExposure(
  app: FastifyInstance,
  config: Config,
  windows: ClientWindows | undefined,
): Promise<void> {
  if (config.corsOrigins.length > 0) {
    await app.register(cors, {
      // Exact strings: no wildcard, no pattern, no reflection of whatever Origin was sent.
      origin: [...config.corsOrigins],
      methods: ['GET', 'POST'],
      allowedHeaders: [
        'authorization',
        'content-type',
        'x-api-key',
        'x-request-id',
        'inference-header-content-length',
      ],
      exposedHeaders: ['x-request-id', 'retry-after', 'inference-header-content-length'],
      maxAge: 600,
      strictPreflight: true,
    });
  }
  if (windows) {
    await app.register(rateLimit, {
      global: true,
      max: windows.max,
      // The windows gRPC counts in too: one budget per client, whatever the protocol.
      store: windows.rateLimitStore(),
      timeWindow: windows.windowMs,
      hook: 'onRequest',
      keyGenerator: (request) => request.client ?? request.ip,
      // Probes are never limited: a busy client must not make the pod look dead.
      allowList: (request) => request.routeOptions.config.public === true,
      errorResponseBuilder: (_request, context) => windows.refusal(context.ttl),
    });
  }
}

/**
 * The headers that depend on what an answer is, set as the request arrives (app.ts's onRequest
 * hook; an onSend hook of its own cost every answer a pass through the hook chain).
 */
export function exposureHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const { url, config } = request.routeOptions; // built afresh on each read: read it once
  // Answers behind authentication are one client's: no shared cache may keep them.
  if (!isOpen(request, config)) reply.header('cache-control', 'no-store');
  // The documentation page is the only HTML the service serves: never inside a frame.
  if (url?.startsWith('/docs')) reply.header('x-frame-options', 'DENY');
}
