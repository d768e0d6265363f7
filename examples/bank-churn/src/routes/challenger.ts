/**
 * `GET /monitoring/challenger`: the challenger in shadow against the champion (ADR 0017): samples
 * taken and skipped, agreement, and once enough predictions of both got their truth from
 * POST /feedback, the paired tests (McNemar's; a paired bootstrap of ΔAUC or ΔMAE) and the verdict
 * (`promote`, `keep`, `insufficient-data`). Without a challenger: `{"enabled": false, "reason"}`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServiceContext } from '../context.js';

export function challengerRoutes(ctx: ServiceContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/monitoring/challenger',
      {
        schema: {
          tags: ['monitoring'],
          summary:
            'The challenger in shadow against the champion: agreement, paired tests, verdict',
        },
      },
      async () => {
        const c = ctx.challenger;
        return 'report' in c ? c.report() : c;
      },
    );
  };
}
