/**
 * `GET /healthz` (liveness), `GET /readyz` (readiness: every worker warmed, not draining) and
 * `GET /metrics` (Prometheus).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceContext } from '../service.js';

export function healthRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    const { metrics } = ctx;
    app.get(
      '/healthz',
      { schema: { tags: ['ops'], summary: 'Liveness: 200 while the process runs' } },
      async () => ({
        status: 'ok',
      }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['ops'],
          summary:
            'Readiness: 200 once every inference worker is warm, 503 before and after SIGTERM',
        },
      },
      async (_request, reply) => {
        if (ctx.state.started && !ctx.state.draining) return { status: 'ready' };
        reply.code(503);
        return { status: 'not ready', reason: ctx.state.draining ? 'shutting down' : 'warming up' };
      },
    );
    app.get(
      '/metrics',
      { schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } },
      async (_request, reply) => {
        metrics.inflight.set(Math.max(0, ctx.inflight() - 1));
        metrics.queueDepth.set(ctx.queueDepth());
        if (ctx.drift) {
          for (const f of ctx.drift.report().features) {
            if (f.psi !== null) metrics.driftPsi.set({ feature: f.name }, f.psi);
          }
        }
        reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    );
  };
}
