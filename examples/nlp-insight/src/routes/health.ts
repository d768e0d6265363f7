/**
 * `GET /healthz` (liveness: fails once the inference pool cannot be restored, so the pod is
 * replaced), `GET /readyz` (readiness: a warm prediction worker, not draining), both open whatever
 * AUTH_MODE says, and `GET /metrics` (Prometheus): on this port behind authentication, or alone on
 * METRICS_PORT (`http/metrics-listener.ts`).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceContext } from '../context.js';
import { publicRoute } from '../http/auth.js';
import type { Metrics } from '../metrics.js';
import type { GroupReport, PerformanceReport } from '../monitoring/performance.js';

/**
 * The Prometheus text, with the gauges that are read at scrape time brought up to date.
 * `ownRequests`: in-flight requests that are the scrape itself (1 on the main port).
 */
export async function renderMetrics(
  ctx: ServiceContext,
  ownRequests: number,
): Promise<{ contentType: string; body: string }> {
  const { metrics } = ctx;
  metrics.inflight.set(Math.max(0, ctx.inflight() - ownRequests));
  metrics.queueDepth.set(ctx.queueDepth());
  metrics.workersReady.set({ pool: 'predict' }, ctx.health().workers.warm);
  if (ctx.drift) {
    for (const f of ctx.drift.report().features) {
      if (f.psi !== null) metrics.driftPsi.set({ feature: f.name }, f.psi);
    }
  }
  if (ctx.quality) publishQuality(ctx.quality.report(), metrics);
  const challenger = ctx.challenger;
  if ('report' in challenger) {
    const agreement = challenger.agreement();
    const value = agreement.rate ?? agreement.meanAbsDelta;
    if (value !== undefined) metrics.challengerAgreement.set(value);
    metrics.workersReady.set({ pool: 'challenger' }, challenger.warmWorkers());
  }
  return { contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
}

/** The live quality report as gauges: the metrics with enough samples, and each floor's state. */
export function publishQuality(report: PerformanceReport, metrics: Metrics): void {
  metrics.qualityMetric.reset();
  metrics.qualityFloorBreached.reset();
  const groups: Array<{ slice: string; group: string; report: GroupReport }> = [
    { slice: 'overall', group: 'all', report: report.overall },
    ...report.slices.flatMap((s) =>
      s.groups.map((g) => ({ slice: s.feature, group: g.value, report: g })),
    ),
  ];
  for (const { slice, group, report: g } of groups) {
    if (g.metrics === 'insufficient') continue;
    for (const [metric, value] of Object.entries(g.metrics))
      if (Number.isFinite(value)) metrics.qualityMetric.set({ metric, slice, group }, value);
  }
  for (const f of report.floors)
    if (f.breached !== null)
      metrics.qualityFloorBreached.set({ metric: f.metric }, f.breached ? 1 : 0);
}

export function healthRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/healthz',
      {
        config: publicRoute,
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
        config: publicRoute,
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
    if (ctx.config.metricsPort !== null) return;
    app.get(
      '/metrics',
      { schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } },
      async (_request, reply) => {
        const { contentType, body } = await renderMetrics(ctx, 1);
        reply.type(contentType);
        return body;
      },
    );
  };
}
