/**
 * `GET /healthz` (liveness: fails once the inference pool cannot be restored, so the pod is
 * replaced), `GET /readyz` (readiness: a warm prediction worker, not draining) and `GET /metrics`
 * (Prometheus).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceContext } from '../context.js';

export function healthRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    const { metrics } = ctx;
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['ops'],
          summary:
            'Liveness: 200 while the service can serve, 503 once its workers cannot be restored',
        },
      },
      async (_request, reply) => {
        const health = ctx.health();
        if (health.live) return { status: 'ok' };
        reply.code(503);
        return { status: 'failed', reason: health.reason };
      },
    );
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['ops'],
          summary:
            'Readiness: 200 while a warmed inference worker serves, 503 before, without one and after SIGTERM',
        },
      },
      async (_request, reply) => {
        const health = ctx.health();
        if (health.ready) return { status: 'ready', workers: health.workers };
        reply.code(503);
        return { status: 'not ready', reason: health.reason, workers: health.workers };
      },
    );
    app.get(
      '/metrics',
      { schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } },
      async (_request, reply) => {
        metrics.inflight.set(Math.max(0, ctx.inflight() - 1));
        metrics.queueDepth.set(ctx.queueDepth());
        metrics.workersReady.set({ pool: 'predict' }, ctx.health().workers.warm);
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
